// Which executable runs the audio host: always the runtime we run in. In plain Node (the CLI, the
// tests, code-server's extension host) that is process.execPath itself. Inside VS Code's Electron
// extension host, process.execPath is VS Code's own binary, which runs as Node when
// ELECTRON_RUN_AS_NODE=1 (naudiodon is N-API, so it loads there). A `node` found on PATH is never
// used: its version is anyone's guess (a distribution's Node 12 fails on the bundle's syntax) and
// sound would silently fall back to null.

export interface NodeExec {
  execPath: string;
  env: NodeJS.ProcessEnv;
}

export function nodeExec(env: NodeJS.ProcessEnv = process.env, runtime: { execPath: string; electron?: string } = { execPath: process.execPath, electron: process.versions.electron }): NodeExec {
  if (!runtime.electron) return { execPath: runtime.execPath, env };
  return { execPath: runtime.execPath, env: { ...env, ELECTRON_RUN_AS_NODE: '1' } };
}
