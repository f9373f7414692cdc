// From option declarations (option-spec.ts) to what each front end needs: the CLI's parser and
// help, launch.json's validation and its schema. One validator checks a value for both, so a bad
// value gets the same sentence whether it came from a flag or an attribute — only the name it is
// reported under differs (`-c` or `"harts"`).

import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { OptionSpec } from './option-spec';
import { UsageError } from './options';

export type OptionValues = Record<string, unknown>;

// ---------------------------------------------------------------- values

/** Checks (and for paths, resolves against `base`) one value; throws UsageError naming `name`. */
export function checkValue(spec: OptionSpec, value: unknown, name: string, base: string): unknown {
  const bad = (problem: string): never => {
    throw new UsageError(`${name} ${problem}`);
  };
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') bad(`must be true or false, got ${JSON.stringify(value)}`);
      return value;
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) bad(`must be a whole number${range(spec)}, got ${JSON.stringify(value)}`);
      const n = value as number;
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) bad(`must be a whole number${range(spec)}, got ${n}`);
      return n;
    }
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) bad(`must be a number, got ${JSON.stringify(value)}`);
      if ((spec.min !== undefined && (value as number) < spec.min) || (spec.max !== undefined && (value as number) > spec.max)) bad(`must be a number${range(spec)}, got ${value}`);
      return value;
    case 'strings': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) bad('must be a list of strings (lines)');
      return list;
    }
    case 'pathMap': {
      const ok = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string' && v !== '');
      if (!ok) bad(`must map paths to paths, e.g. { "/build/linux": "\${workspaceFolder}/linux" }, got ${JSON.stringify(value)}`);
      return Object.fromEntries(Object.entries(value as Record<string, string>).map(([k, v]) => [k, resolve(base, v)]));
    }
    case 'file':
    case 'dir':
      if (typeof value !== 'string' || value === '') bad(`must be a path, got ${JSON.stringify(value)}`);
      return checkPath(spec, resolve(base, value as string), name);
    case 'string': {
      if (typeof value !== 'string') bad(`must be a string, got ${JSON.stringify(value)}`);
      const v = value as string;
      if (spec.enum && !spec.enum.includes(v)) bad(`must be ${spec.enum.map((e) => JSON.stringify(e)).join(' or ')}, got ${JSON.stringify(v)}`);
      const why = spec.check?.(v as never);
      if (why !== undefined) bad(`must be ${why}, got ${JSON.stringify(v)}`);
      return spec.mapPath ? spec.mapPath(v, (p) => (isAbsolute(p) ? p : resolve(base, p))) : v;
    }
  }
}

function range(spec: OptionSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  return '';
}

function checkPath(spec: OptionSpec, path: string, name: string): string {
  const kind = spec.type === 'dir' ? 'folder' : 'file';
  const what = spec.what ?? kind;
  if (!existsSync(path)) throw new UsageError(`${name}: the ${what} ${path} does not exist`);
  const st = statSync(path);
  if (spec.type === 'dir' ? !st.isDirectory() : !st.isFile()) throw new UsageError(`${name}: the ${what} ${path} is not a ${kind}`);
  return path;
}

// ---------------------------------------------------------------- CLI

export interface CliParse {
  values: OptionValues;
  /** Arguments that are not options (none are expected; the caller decides). */
  rest: string[];
}

/**
 * Parses argv the way getopt_long does for semu: `-k FILE`, `-kFILE`, `--kernel FILE`,
 * `--kernel=FILE`, bundled value-less short flags (`-gH`), repeated flags for lists.
 */
export function parseCli(argv: readonly string[], specs: readonly OptionSpec[], usage: string): CliParse {
  const flags = new Map<string, OptionSpec>();
  for (const s of specs) for (const f of s.cli ?? []) flags.set(f, s);
  const values: OptionValues = {};
  const rest: string[] = [];
  const base = process.cwd();
  const take = (spec: OptionSpec, flag: string, raw: string | undefined): void => {
    if (spec.unavailable) throw new UsageError(`${flag}: ${spec.unavailable}`);
    if (spec.type === 'boolean') {
      if (raw !== undefined) throw new UsageError(`${flag} takes no value`);
      values[spec.key] = true;
      return;
    }
    if (raw === undefined) throw new UsageError(`${flag} needs a value (${spec.arg ?? 'VALUE'})\n${usage}`);
    let v: unknown = raw;
    if (spec.type === 'integer') {
      if (!/^-?\d+$/.test(raw)) throw new UsageError(`${flag} must be a whole number${range(spec)}, got '${raw}'`);
      v = Number(raw);
    }
    if (spec.type === 'number') {
      v = raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) throw new UsageError(`${flag} must be a number${range(spec)}, got '${raw}'`);
    }
    if (spec.type === 'strings') v = [...((values[spec.key] as string[] | undefined) ?? []), raw];
    values[spec.key] = checkValue(spec, v, flag, base);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const flag = eq < 0 ? a : a.slice(0, eq);
      const spec = flags.get(flag);
      if (!spec) throw new UsageError(`unknown option '${flag}'\n${usage}`);
      const raw = eq >= 0 ? a.slice(eq + 1) : spec.type === 'boolean' ? undefined : argv[++i];
      take(spec, flag, raw);
    } else if (a.startsWith('-') && a.length > 1) {
      // A run of short flags: each value-less one may be followed by more; one that takes a
      // value takes the rest of the word, or the next argument.
      for (let k = 1; k < a.length; k++) {
        const flag = '-' + a[k];
        const spec = flags.get(flag);
        if (!spec) throw new UsageError(`unknown option '${flag}'\n${usage}`);
        if (spec.type === 'boolean') {
          take(spec, flag, undefined);
          continue;
        }
        take(spec, flag, k + 1 < a.length ? a.slice(k + 1) : argv[++i]);
        break;
      }
    } else {
      rest.push(a);
    }
  }
  return { values, rest };
}

/** The CLI help's option lines, aligned. */
export function usageLines(specs: readonly OptionSpec[]): string[] {
  const rows = specs
    .filter((s) => s.cli && s.cli.length > 0)
    .map((s) => {
      const arg = s.type === 'boolean' ? '' : ` ${s.arg ?? 'VALUE'}`;
      const left = `${s.cli!.join(', ')}${arg}`;
      return [left, s.unavailable ? `${s.help} (not available yet)` : s.help] as const;
    });
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`);
}

// ---------------------------------------------------------------- launch.json

/**
 * Validates the launch.json attributes `specs` declare (others are the caller's business):
 * returns the values set, paths resolved against `base` (the workspace folder).
 */
export function checkLaunch(args: Record<string, unknown>, specs: readonly OptionSpec[], base: string): OptionValues {
  const out: OptionValues = {};
  for (const spec of specs) {
    if (spec.unavailable) continue;
    const v = args[spec.key];
    if (v === undefined || v === null || (v === '' && spec.type !== 'boolean')) continue;
    out[spec.key] = checkValue(spec, v, `launch.json "${spec.key}"`, base);
  }
  return out;
}

/** One property of the launch schema (package.json contributes.debuggers[].configurationAttributes). */
export interface SchemaProperty {
  type: string;
  description: string;
  default?: unknown;
  enum?: readonly string[];
  enumDescriptions?: readonly string[];
  minimum?: number;
  maximum?: number;
  items?: { type: string };
  additionalProperties?: { type: string };
}

export function launchSchema(specs: readonly OptionSpec[]): Record<string, SchemaProperty> {
  const props: Record<string, SchemaProperty> = {};
  for (const s of specs) {
    if (s.unavailable) continue;
    const type = s.type === 'integer' || s.type === 'number' || s.type === 'boolean' ? s.type : s.type === 'strings' ? 'array' : s.type === 'pathMap' ? 'object' : 'string';
    const p: SchemaProperty = { type, description: s.detail ?? sentence(s.help) };
    if (s.type === 'strings') p.items = { type: 'string' };
    if (s.type === 'pathMap') p.additionalProperties = { type: 'string' };
    if (s.enum) p.enum = s.enum;
    if (s.enumHelp) p.enumDescriptions = s.enumHelp;
    if (s.min !== undefined) p.minimum = s.min;
    if (s.max !== undefined) p.maximum = s.max;
    if (s.default !== undefined) p.default = s.default;
    props[s.key] = p;
  }
  return props;
}

function sentence(help: string): string {
  const s = help.charAt(0).toUpperCase() + help.slice(1);
  return s.endsWith('.') ? s : s + '.';
}
