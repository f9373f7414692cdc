// The CLI's flags (semu's, plus this project's) and its console escape, apart from src/cli.ts so
// tests and other tools can use them without starting the CLI.

import { UsageError, type MachineOptions, type TimeMode } from './options';
import { setLogLevel } from '../log';
import { checkLogLevel } from './preflight';

export const USAGE = `usage: semu [options]
  -k FILE          kernel image (default: the default guest, built by \`npm run guest\`)
  -i FILE          initrd (initramfs)
  -b FILE          device tree blob (replaces the generated one)
  -d FILE          raw disk image for virtio-blk (--disk-ro: read-only)
  -c N             harts (1-4, default 1)
  -a ARGS          kernel command line
  --time MODE      host (default: guest time follows the host clock) or icount (deterministic)
  --timeout SEC    stop the machine after SEC seconds (exit code 124)
  --audio-out B    playback backend: portaudio[:DEVICE] (default), wav:PATH, null
  --audio-in B     capture backend: portaudio[:DEVICE] (default), wav:PATH, null
  --ram MIB        guest RAM in MiB (default 512)
  --log LEVEL      debug, info, warn (default), error
  -H, --help       this text
In the console, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.`;

export interface CliArgs {
  options: Partial<MachineOptions>;
  timeout?: number;
  help: boolean;
}

export function parseArgs(argv: string[]): CliArgs {
  const o: Partial<MachineOptions> = {};
  const res: CliArgs = { options: o, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const num = (): number => {
      const v = val();
      const n = Number(v);
      if (!Number.isFinite(n)) throw new UsageError(`${a} needs a number, got '${v}'`);
      return n;
    };
    switch (a) {
      case '-k': o.kernel = val(); break;
      case '-i': o.initrd = val(); break;
      case '-b': o.dtb = val(); break;
      case '-d': o.disk = val(); break;
      case '--disk-ro': o.diskReadOnly = true; break;
      case '-c': o.harts = num(); break;
      case '-a': o.bootargs = val(); break;
      case '--time': o.time = val() as TimeMode; break;
      case '--timeout': res.timeout = num(); break;
      case '--audio-out': o.audioOut = val(); break;
      case '--audio-in': o.audioIn = val(); break;
      case '--ram': o.ramMiB = num(); break;
      case '--log': setLogLevel(checkLogLevel(val(), '--log')); break;
      case '-H': case '-h': case '--help': res.help = true; break;
      default: throw new UsageError(`unknown option '${a}'\n${USAGE}`);
    }
  }
  if (o.ramMiB !== undefined && (!Number.isInteger(o.ramMiB) || o.ramMiB < 16 || o.ramMiB > 2048)) {
    throw new UsageError(`--ram ${o.ramMiB}: give a whole number of MiB from 16 to 2048`);
  }
  if (res.timeout !== undefined && !(res.timeout > 0)) throw new UsageError(`--timeout needs a positive number of seconds`);
  return res;
}

/** Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A, as in semu. */
export class EscapeFilter {
  private armed = false;
  filter(data: Uint8Array): { forward: Uint8Array; quit: boolean } {
    const out: number[] = [];
    for (const b of data) {
      if (this.armed) {
        this.armed = false;
        if (b === 0x78 /* x */) return { forward: Uint8Array.from(out), quit: true };
        if (b === 0x01) out.push(0x01);
        continue;
      }
      if (b === 0x01) this.armed = true;
      else out.push(b);
    }
    return { forward: Uint8Array.from(out), quit: false };
  }
}

