// The VS Code extension: the "semu" debug type (configuration provider + the debug adapter
// running inline in this extension host, the machine in a worker thread), the "semu console"
// terminal, the panels fed from the current session, the commands and the log channel.

import * as vscode from 'vscode';
import { SemuDebugSession } from '../debug-adapter/session';
import { PanelHub, registerPanels } from './panels/index';
import { ScreenPanels, registerScreen } from './panels/screen-panel';
import { SemuConfigurationProvider } from './vscode/config-provider';
import { DEBUG_TYPE } from './vscode/config-defaults';
import { ConsoleTerminal } from './vscode/terminal';
import { SessionFeed } from './vscode/session-feed';
import { registerCommands } from './vscode/commands';
import { installLogChannel } from './vscode/settings';
import { registerAudioPanel } from './panels/audio-panel';
import { DeviceView } from './vscode/device-view';
import { SemuStatusBar } from './vscode/status-bar';
import { audioResolver } from './vscode/audio-resolve';
import { DAP_LEVELS, DAP_STATE, type LevelsEventBody } from './shared/protocol';
import { logger } from './log';

const log = logger('extension');
/** Adapters alive in this extension host, so deactivation can stop their machines. */
const adapters = new Set<SemuDebugSession>();

export function activate(context: vscode.ExtensionContext): void {
  const channel = installLogChannel(context);
  const provider = new SemuConfigurationProvider();
  const terminal = new ConsoleTerminal();
  const hub = new PanelHub();
  const feed = new SessionFeed(hub);
  const sessions = new Map<string, vscode.DebugSession>();
  const currentSession = () => (feed.session ? sessions.get(feed.session.id) : undefined);

  registerPanels(context, hub, { memorySession: currentSession });
  const screens = new ScreenPanels(context.extensionUri);
  registerScreen(context, screens, { currentSession });
  const relay = registerAudioPanel(context);
  provider.resolveAudio = audioResolver(relay);
  const devices = new DeviceView();
  const status = new SemuStatusBar();
  registerCommands(context, { provider, channel, currentSession, hub, devices });

  context.subscriptions.push(
    devices,
    status,
    terminal,
    { dispose: () => feed.dispose() },
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, provider),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, { provideDebugConfigurations: () => provider.provideDebugConfigurations() }, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, {
      createDebugAdapterDescriptor(session) {
        terminal.open(session.name);
        const adapter: SemuDebugSession = new SemuDebugSession({
          consoleOut: (text) => terminal.write(text),
          onMachine: (host) => {
            if (host) terminal.setInput((text) => host.consoleIn(text));
            else terminal.ended(`${session.name}: machine stopped`);
            screens.machine(host, session.name, session.id);
          },
          onClosed: () => adapters.delete(adapter),
        });
        adapters.add(adapter);
        return new vscode.DebugAdapterInlineImplementation(adapter);
      },
    }),
    vscode.debug.onDidStartDebugSession((s) => {
      if (s.type !== DEBUG_TYPE) return;
      sessions.set(s.id, s);
      feed.started(s);
      devices.started(s);
      status.started();
      void vscode.commands.executeCommand('setContext', 'semu.running', true);
    }),
    vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
      if (e.session.type !== DEBUG_TYPE) return;
      feed.customEvent(e.session, e.event, e.body);
      if (e.session.id !== feed.session?.id) return;
      if (e.event === DAP_LEVELS) status.levels(e.body as LevelsEventBody);
      else if (e.event === DAP_STATE) {
        const state = (e.body as { state?: string } | undefined)?.state;
        if (state === 'running' || state === 'paused' || state === 'exited') {
          status.setState(state);
          devices.state(e.session, state);
        }
      }
    }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      if (s.type !== DEBUG_TYPE) return;
      const current = s.id === feed.session?.id;
      feed.terminated(s);
      devices.ended(s);
      sessions.delete(s.id);
      if (current) {
        status.ended();
        void vscode.commands.executeCommand('setContext', 'semu.running', sessions.size > 0);
      }
    }),
  );
  log.info('activated');
}

/** Stops every machine this extension host still runs (workers, audio). */
export async function deactivate(): Promise<void> {
  await Promise.all([...adapters].map((a) => a.close()));
  adapters.clear();
}
