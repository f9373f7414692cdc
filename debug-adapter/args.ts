// Strict checking of DAP request arguments: every request with a missing or mistyped argument
// gets an error response naming the request, the argument and what it must be, instead of a
// success built on undefined (or a TypeError's message).

export class ArgError extends Error {
  override name = 'ArgError';
}

type Args = Record<string, unknown> | undefined;

function get(args: Args, key: string): unknown {
  return args === undefined || args === null || typeof args !== 'object' ? undefined : (args as Record<string, unknown>)[key];
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return `${typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`}`;
}

/** A request's arguments, checked field by field; messages name `command`. */
export class Checker {
  constructor(
    readonly command: string,
    readonly args: Args,
  ) {
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      throw new ArgError(`${command}: the arguments must be an object`);
    }
  }

  fail(key: string, want: string, v: unknown): never {
    throw new ArgError(`${this.command}: '${key}' must be ${want} (got ${describe(v)})`);
  }

  int(key: string, opt: { min?: number; max?: number; optional?: boolean } = {}): number | undefined {
    const v = get(this.args, key);
    if (v === undefined && opt.optional) return undefined;
    const range = opt.min !== undefined && opt.max !== undefined ? ` from ${opt.min} to ${opt.max}` : opt.min !== undefined ? ` ≥ ${opt.min}` : '';
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, `a whole number${range}`, v);
    if ((opt.min !== undefined && v < opt.min) || (opt.max !== undefined && v > opt.max)) this.fail(key, `a whole number${range}`, v);
    return v;
  }

  str(key: string, optional = false): string | undefined {
    const v = get(this.args, key);
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string') this.fail(key, 'a string', v);
    return v;
  }

  bool(key: string): boolean | undefined {
    const v = get(this.args, key);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(key, 'true or false', v);
    return v;
  }

  array(key: string, optional = false): unknown[] | undefined {
    const v = get(this.args, key);
    if (v === undefined && optional) return undefined;
    if (!Array.isArray(v)) this.fail(key, 'an array', v);
    return v;
  }

  object(key: string, optional = false): Record<string, unknown> | undefined {
    const v = get(this.args, key);
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(key, 'an object', v);
    return v as Record<string, unknown>;
  }

  /** One element of an array argument, checked with its own Checker ("breakpoints[3]"). */
  item(key: string, i: number, v: unknown): Checker {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ArgError(`${this.command}: '${key}[${i}]' must be an object (got ${describe(v)})`);
    return new Checker(`${this.command}: ${key}[${i}]`, v as Record<string, unknown>);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 (RFC 4648 §4, padded) to bytes; an ArgError for anything else. */
export function base64Bytes(command: string, key: string, v: unknown): Uint8Array {
  if (typeof v !== 'string') throw new ArgError(`${command}: '${key}' must be base64 text (got ${describe(v)})`);
  const s = v.replace(/\s+/g, '');
  if (!BASE64.test(s)) throw new ArgError(`${command}: '${key}' is not valid base64 (RFC 4648, with padding)`);
  return new Uint8Array(Buffer.from(s, 'base64'));
}
