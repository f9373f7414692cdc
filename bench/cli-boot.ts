// Boot time as a person sees it: seconds from starting `node dist/cli.js` (a new process, the
// worker, the machine) to `semu-guest: ready` on its console, for the default guest.

import { spawn } from 'node:child_process';
import { distFile } from '../src/paths';
import { guestArtifacts } from '../test/guest-artifacts/artifacts';

const READY = 'semu-guest: ready';

export async function bootOnce(extra: string[] = []): Promise<number> {
  const g = await guestArtifacts();
  const t0 = performance.now();
  const child = spawn(process.execPath, [distFile('cli.js'), '-k', g.kernel, '-i', g.initrd, '--audio-out', 'null', '--audio-in', 'null', '--timeout', '120', ...extra], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes(READY)) {
        const s = (performance.now() - t0) / 1000;
        child.kill('SIGKILL');
        resolve(s);
      }
    });
    child.on('exit', () => reject(new Error(`the CLI exited before "${READY}"`)));
  });
}

export async function benchCliBoot(runs = 5): Promise<{ boot_s: number; boots_s: number[] }> {
  const boots: number[] = [];
  for (let i = 0; i < runs; i++) boots.push(await bootOnce());
  const sorted = [...boots].sort((a, b) => a - b);
  return { boot_s: sorted[Math.floor(sorted.length / 2)], boots_s: boots };
}
