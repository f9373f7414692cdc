// One logger for the whole project: levels, quiet by default (warnings and errors only).
// SEMU_LOG=debug|info|warn|error|silent sets the level; the extension routes the sink to its
// output channel, the CLI to stderr. Nothing else in the project writes to the console.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogSink = (level: LogLevel, scope: string, message: string) => void;

let threshold = order[(process.env.SEMU_LOG as LogLevel) in order ? (process.env.SEMU_LOG as LogLevel) : 'warn'];
let sink: LogSink = (level, scope, message) => {
  process.stderr.write(`[${level}] ${scope}: ${message}\n`);
};

export function setLogLevel(level: LogLevel): void {
  threshold = order[level];
}
export function setLogSink(s: LogSink): void {
  sink = s;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  enabled(level: LogLevel): boolean;
}

export function logger(scope: string): Logger {
  const emit = (level: LogLevel, msg: string) => {
    if (order[level] >= threshold) sink(level, scope, msg);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    enabled: (level) => order[level] >= threshold,
  };
}
