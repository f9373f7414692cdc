// `semu`'s entry (dist/cli.js). It starts the emulator worker before anything else, then loads
// the CLI itself (cli-main.ts, its own bundle dist/cli-main.js) while Node starts that worker:
// host/prestart.ts says why. `--help` starts no worker.

import { lowerBackgroundThreads } from './host/background-threads';
import { prestartWorker } from './host/prestart';

// Before the worker starts: it keeps the default priority, V8's compiler threads get less.
lowerBackgroundThreads();
const args = process.argv.slice(2);
const worker = args.includes('-h') || args.includes('--help') ? null : prestartWorker();
// Required at run time, not bundled here: compiling the whole CLI first would delay the worker.
// eslint-disable-next-line @typescript-eslint/no-require-imports
(require('./cli-main.js') as typeof import('./cli-main')).runCli(worker);
