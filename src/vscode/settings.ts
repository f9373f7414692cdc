// The extension's settings (package.json contributes.configuration) and the "semu" output
// channel the whole project logs to inside VS Code.

import * as vscode from 'vscode';
import { setLogLevel, setLogSink, type LogLevel } from '../log';
import type { SemuSettings } from './config-defaults';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

export function readSettings(): SemuSettings {
  const s = vscode.workspace.getConfiguration('semu');
  return {
    audioOut: s.get<string>('audioOut') || 'portaudio',
    audioIn: s.get<string>('audioIn') || 'portaudio',
    logLevel: s.get<string>('logLevel') || 'warn',
  };
}

/** Routes every logger() of this process to the channel, at the level the settings ask for. */
export function installLogChannel(context: vscode.ExtensionContext): vscode.OutputChannel {
  const channel = vscode.window.createOutputChannel('semu');
  setLogSink((level, scope, message) => channel.appendLine(`${new Date().toISOString().slice(11, 23)} [${level}] ${scope}: ${message}`));
  const apply = () => {
    const level = readSettings().logLevel as LogLevel;
    setLogLevel(LEVELS.includes(level) ? level : 'warn');
  };
  apply();
  context.subscriptions.push(
    channel,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('semu.logLevel')) apply();
    }),
    { dispose: () => setLogSink((level, scope, message) => process.stderr.write(`[${level}] ${scope}: ${message}\n`)) },
  );
  return channel;
}
