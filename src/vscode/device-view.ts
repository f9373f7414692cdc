// The `semu` view in the Run and Debug side bar: the machine's devices, their queues and PCM
// streams, from semu/virtqueues + semu/streams, refreshed every second while the guest runs and
// the view is visible, and once when it pauses. Its welcome (package.json viewsWelcome) shows when
// no machine runs. A queue's context menu opens it in the virtqueue inspector.
import * as vscode from 'vscode';
import { DAP_STREAMS, DAP_VIRTQUEUES, type StreamsResponseBody, type VirtqueuesResponseBody } from '../shared/protocol';
import { deviceTree, type TreeItemModel } from './device-model';

export const DEVICE_VIEW_ID = 'semu.devices';
const REFRESH_MS = 1000;

export class DeviceView implements vscode.TreeDataProvider<TreeItemModel>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeItemModel[] = [];
  private session: vscode.DebugSession | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private fetching = false;
  readonly view: vscode.TreeView<TreeItemModel>;
  private readonly visibility: vscode.Disposable;

  constructor() {
    this.view = vscode.window.createTreeView(DEVICE_VIEW_ID, { treeDataProvider: this, showCollapseAll: true });
    this.visibility = this.view.onDidChangeVisibility(() => this.schedule());
  }

  getTreeItem(m: TreeItemModel): vscode.TreeItem {
    const item = new vscode.TreeItem(m.label, m.children?.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.id = m.id;
    item.description = m.description;
    item.tooltip = m.tooltip;
    item.contextValue = m.contextValue;
    if (m.icon) item.iconPath = new vscode.ThemeIcon(m.icon);
    if (m.queue) item.command = { command: 'semu.inspectQueue', title: 'Show in Virtqueue Inspector', arguments: [m.queue] };
    return item;
  }

  getChildren(m?: TreeItemModel): TreeItemModel[] {
    return m ? (m.children ?? []) : this.roots;
  }

  started(s: vscode.DebugSession): void {
    this.session = s;
    this.running = true;
    this.schedule();
    void this.refresh();
  }

  state(s: vscode.DebugSession, state: string): void {
    if (s.id !== this.session?.id) return;
    this.running = state === 'running';
    this.schedule();
    if (state === 'paused') void this.refresh();
  }

  ended(s: vscode.DebugSession): void {
    if (s.id !== this.session?.id) return;
    this.session = undefined;
    this.running = false;
    this.schedule();
    this.roots = [];
    this.changed.fire();
  }

  /** Asks the adapter for the devices and streams, then redraws. */
  async refresh(): Promise<void> {
    const s = this.session;
    if (!s || this.fetching) return;
    this.fetching = true;
    try {
      const [vq, st] = await Promise.all([s.customRequest(DAP_VIRTQUEUES) as Thenable<VirtqueuesResponseBody>, s.customRequest(DAP_STREAMS) as Thenable<StreamsResponseBody>]);
      if (s !== this.session) return;
      this.roots = deviceTree(vq?.devices ?? [], st?.streams ?? []);
      this.changed.fire();
    } catch {
      // The session is ending; its end clears the view.
    } finally {
      this.fetching = false;
    }
  }

  private schedule(): void {
    const want = this.running && this.view.visible && this.session !== undefined;
    if (want && !this.timer) this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.visibility.dispose();
    this.view.dispose();
    this.changed.dispose();
  }
}
