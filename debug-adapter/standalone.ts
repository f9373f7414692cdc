// The adapter as its own process over stdin/stdout (dist/debug-adapter.js): what DAP clients
// other than VS Code's inline host use, and what the DebugClient tests drive. Guest console
// output arrives as `output` events (category stdout). Once disconnected, the process stops
// reading stdin and exits by itself when the machine's worker is gone.

import { DebugSession } from '@vscode/debugadapter';
import { lowerBackgroundThreads } from '../src/host/background-threads';
import { SemuDebugSession } from './session';

// Our own process, as the CLI's: the machine's worker keeps its core (background-threads.ts).
lowerBackgroundThreads();

class StandaloneSemuDebugSession extends SemuDebugSession {
  constructor() {
    super({ standalone: true });
  }
}

DebugSession.run(StandaloneSemuDebugSession);
