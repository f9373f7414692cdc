// Which executable runs the audio host. In plain Node (CLI, tests, code-server's extension host)
// that is process.execPath. Inside VS Code's Electron extension host, process.execPath is the
// Electron binary: prefer a real `node` (SEMU_NODE, then PATH), since that is the runtime
// naudiodon was built and measured with; otherwise run Electron as Node with
// ELECTRON_RUN_AS_NODE=1 (naudiodon is N-API, so it loads there too).

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface NodeExec {
  execPath: string;
  env: NodeJS.ProcessEnv;
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function nodeOnPath(env: NodeJS.ProcessEnv): string | null {
  const names = process.platform === 'win32' ? ['node.exe'] : ['node'];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const n of names) {
      const p = join(dir, n);
      if (executable(p)) return p;
    }
  }
  return null;
}

export function nodeExec(env: NodeJS.ProcessEnv = process.env): NodeExec {
  if (!process.versions.electron) return { execPath: process.execPath, env };
  const real = (env.SEMU_NODE && executable(env.SEMU_NODE) ? env.SEMU_NODE : null) ?? nodeOnPath(env);
  if (real) return { execPath: real, env };
  return { execPath: process.execPath, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } };
}
