// Where the project's files are, whether we run from dist/ (bundled), out/test/ (tests) or an
// installed .vsix: the extension root is the nearest folder above us with our package.json.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

export function extensionRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'vscode-semu') return (cached = dir);
      } catch {
        /* not ours; keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the vscode-semu package root above ${__dirname}`);
    dir = up;
  }
}

export function distFile(name: string): string {
  return join(extensionRoot(), 'dist', name);
}
