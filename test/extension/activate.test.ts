// The extension's activate() against a recording stand-in for the `vscode` module: every command
// package.json contributes is registered (and nothing unlisted), the `semu` debug type gets its
// configuration provider and an inline adapter factory, the adapter's console goes to the
// "semu console" terminal, and deactivation leaves nothing registered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../guest-artifacts/artifacts';

interface Disposable {
  dispose(): void;
}

function recordingVscode() {
  const commands = new Map<string, (...a: unknown[]) => unknown>();
  const providers: { type: string; provider: Record<string, (...a: unknown[]) => unknown> }[] = [];
  const factories = new Map<string, { createDebugAdapterDescriptor(s: unknown): unknown }>();
  const terminals: { name: string; pty: { onDidWrite: (l: (s: string) => void) => Disposable; open(): void; handleInput?(d: string): void } }[] = [];
  const output: string[] = [];
  let live = 0;
  const disposable = (f?: () => void): Disposable => {
    live++;
    let done = false;
    return {
      dispose: () => {
        if (!done) {
          done = true;
          live--;
          f?.();
        }
      },
    };
  };
  class EventEmitter<T> {
    private ls: ((v: T) => void)[] = [];
    event = (l: (v: T) => void) => {
      this.ls.push(l);
      return { dispose: () => (this.ls = this.ls.filter((x) => x !== l)) };
    };
    fire(v: T) {
      for (const l of this.ls) l(v);
    }
    dispose() {
      this.ls = [];
    }
  }
  class DebugAdapterInlineImplementation {
    constructor(readonly implementation: unknown) {}
  }
  const event = () => () => disposable();
  const views: string[] = [];
  class TreeItem {
    constructor(readonly label: string) {}
  }
  class ThemeIcon {
    constructor(readonly id: string) {}
  }
  const settings: Record<string, unknown> = { audioOut: 'null', audioIn: 'wav:/tmp/in.wav', logLevel: 'warn' };
  const vscode = {
    EventEmitter,
    DebugAdapterInlineImplementation,
    DebugConfigurationProviderTriggerKind: { Initial: 1, Dynamic: 2 },
    ProgressLocation: { Notification: 15 },
    ViewColumn: { Beside: -2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
    TreeItem,
    ThemeIcon,
    env: { remoteName: undefined },
    Uri: { joinPath: (...p: unknown[]) => ({ path: p.join('/') }), file: (p: string) => ({ fsPath: p }) },
    commands: {
      registerCommand: (id: string, f: (...a: unknown[]) => unknown) => {
        assert.ok(!commands.has(id), `command ${id} registered twice`);
        commands.set(id, f);
        return disposable(() => commands.delete(id));
      },
      executeCommand: async () => undefined,
    },
    window: {
      createOutputChannel: () => ({ appendLine: (l: string) => output.push(l), show() {}, dispose() {} }),
      onDidCloseTerminal: event(),
      createTerminal: (o: { name: string; pty: (typeof terminals)[number]['pty'] }) => {
        terminals.push(o);
        return { show() {}, dispose() {} };
      },
      registerWebviewPanelSerializer: () => disposable(),
      createTreeView: (id: string) => {
        views.push(id);
        return { visible: false, onDidChangeVisibility: event(), ...disposable() };
      },
      createStatusBarItem: () => ({ show() {}, hide() {}, ...disposable() }),
      showInformationMessage: async () => undefined,
      showErrorMessage: async () => undefined,
      showWarningMessage: async () => undefined,
    },
    workspace: {
      getConfiguration: () => ({ get: (k: string) => settings[k] }),
      onDidChangeConfiguration: event(),
      workspaceFolders: undefined,
      isTrusted: true,
    },
    debug: {
      registerDebugConfigurationProvider: (type: string, provider: (typeof providers)[number]['provider']) => {
        providers.push({ type, provider });
        return disposable();
      },
      registerDebugAdapterDescriptorFactory: (type: string, f: { createDebugAdapterDescriptor(s: unknown): unknown }) => {
        factories.set(type, f);
        return disposable(() => factories.delete(type));
      },
      onDidStartDebugSession: event(),
      onDidReceiveDebugSessionCustomEvent: event(),
      onDidTerminateDebugSession: event(),
      activeDebugSession: undefined,
    },
    extensions: { getExtension: () => undefined },
  };
  return { vscode, commands, providers, factories, terminals, output, views, live: () => live };
}

test('activate registers exactly the contributed commands, the semu debugger, and cleans up', async () => {
  const rec = recordingVscode();
  const M = Module as unknown as { _load: (req: string, ...rest: unknown[]) => unknown };
  const load = M._load;
  M._load = (req: string, ...rest: unknown[]) => (req === 'vscode' ? rec.vscode : load(req, ...rest));
  try {
    const ext = await import('../../src/extension');
    const context = { subscriptions: [] as Disposable[], extensionUri: { path: repoRoot() }, extensionPath: repoRoot() };
    ext.activate(context as never);

    const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8'));
    const contributed = (pkg.contributes.commands as { command: string }[]).map((c) => c.command).sort();
    assert.deepEqual([...rec.commands.keys()].sort(), contributed, 'registered commands = contributed commands');
    assert.equal(pkg.contributes.debuggers[0].type, 'semu');
    assert.deepEqual(rec.views, (pkg.contributes.views.debug as { id: string }[]).map((v) => v.id), 'the contributed views are created');
    assert.ok(pkg.contributes.debuggers[0].configurationSnippets.some((s: { label: string; body: { name: string } }) => s.label === 'Boot semu' && s.body.name === 'Boot semu'));
    for (const attr of ['kernel', 'initrd', 'dtb', 'disk', 'harts', 'audioOut', 'audioIn', 'time', 'stopOnEntry', 'symbols', 'consoleInput', 'bootargs']) {
      assert.ok(pkg.contributes.debuggers[0].configurationAttributes.launch.properties[attr]?.description, `launch attribute ${attr} is documented`);
    }

    // The configuration provider: settings fill what launch.json leaves out.
    const p = rec.providers.find((x) => x.type === 'semu' && x.provider.resolveDebugConfiguration)!.provider;
    const kernel = join(repoRoot(), 'package.json'); // any existing file: no guest build needed
    const resolved = (await p.resolveDebugConfiguration(undefined, { type: 'semu', request: 'launch', name: 'x', kernel })) as Record<string, unknown>;
    assert.equal(resolved.audioOut, 'null');
    assert.equal(resolved.audioIn, 'wav:/tmp/in.wav');
    assert.equal(resolved.kernel, kernel);

    // The inline adapter factory: a SemuDebugSession whose console goes to the terminal.
    const desc = rec.factories.get('semu')!.createDebugAdapterDescriptor({ name: 'Boot semu' }) as { implementation: { close(): Promise<void>; onDidSendMessage: unknown } };
    assert.ok(desc instanceof rec.vscode.DebugAdapterInlineImplementation);
    assert.equal(typeof desc.implementation.onDidSendMessage, 'function');
    assert.deepEqual(rec.terminals.map((t) => t.name), ['semu console']);
    await desc.implementation.close();

    for (const d of context.subscriptions.reverse()) d.dispose();
    await ext.deactivate();
    assert.equal(rec.commands.size, 0, 'commands unregistered');
    assert.equal(rec.factories.size, 0, 'adapter factory unregistered');
    assert.equal(rec.live(), 0, 'every registration disposed');
  } finally {
    M._load = load;
  }
});
