// The `semu` view's tree and the status bar's text, as pure functions of what the debug adapter
// answers (semu/virtqueues, semu/streams, semu/levels): no VS Code import, unit-tested in
// test/extension/device-model.test.ts. device-view.ts and status-bar.ts put them on screen.
import { queueSummary } from '../../debug-adapter/devices';
import type { DeviceSnapshot, LevelsEventBody, StreamSnapshot } from '../shared/protocol';

export interface TreeItemModel {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** `semu.queue` items get "Show in Virtqueue Inspector" (package.json view/item/context). */
  contextValue?: string;
  icon?: string;
  queue?: { device: string; index: number };
  children?: TreeItemModel[];
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

function streamItem(s: StreamSnapshot): TreeItemModel {
  const params = s.format ? `${s.rate} Hz, ${s.channels} ch, ${s.format}` : 'no params yet';
  const fill = s.ringCapacity ? Math.round((100 * s.ringFill) / s.ringCapacity) : 0;
  return {
    id: `stream/${s.id}`,
    label: `stream ${s.id} ${s.direction === 'output' ? 'TX' : 'RX'}`,
    description: `${s.state} · ${params} · ring ${fill} % · xruns ${s.xrunsGuest}/${s.xrunsHost}`,
    tooltip: `backend ${s.backend}${s.backendFailure ? `\n${s.backendFailure}` : ''}\nframes ${s.framesMoved}, buffers in flight ${s.buffersInFlight}\nxruns: ${s.xrunsGuest} reported to the guest, ${s.xrunsHost} on the host`,
    icon: s.direction === 'output' ? 'unmute' : 'mic',
  };
}

export function deviceTree(devices: DeviceSnapshot[], streams: StreamSnapshot[]): TreeItemModel[] {
  return devices.map((d) => {
    const queues = d.queues.map<TreeItemModel>((q) => ({
      id: `${d.name}@${hex(d.base)}/q${q.index}`,
      label: `${q.name} (${q.index})`,
      description: queueSummary(q),
      tooltip: `${d.name} queue ${q.index}: size ${q.size}, ${q.notifications} notifications, ${q.interrupts} interrupts`,
      contextValue: 'semu.queue',
      icon: 'list-ordered',
      queue: { device: d.name, index: q.index },
    }));
    const kids = d.name === 'virtio-snd' && streams.length ? [...queues, { id: `${d.name}/streams`, label: 'PCM streams', icon: 'pulse', children: streams.map(streamItem) }] : queues;
    return {
      id: `${d.name}@${hex(d.base)}`,
      label: d.name,
      description: `${d.statusNames || 'reset'}${d.needsReset ? ' (NEEDS RESET)' : ''} · irq ${d.irq}`,
      tooltip: `${d.name} at ${hex(d.base)}, device id ${d.deviceId}, IRQ ${d.irq}`,
      icon: 'circuit-board',
      children: kids,
    };
  });
}

export type GuestState = 'none' | 'booting' | 'running' | 'paused' | 'exited';

/** Instructions per second from two semu/levels samples (null until two are known). */
export class MipsMeter {
  private last: { t: number; n: number } | null = null;
  mips: number | null = null;

  /** Averages over at least half a second of run time (the levels come at 20 Hz). */
  sample(body: Pick<LevelsEventBody, 'time' | 'instret'>): void {
    if (body.instret === undefined) return;
    const prev = this.last;
    if (!prev || body.time < prev.t) {
      this.last = { t: body.time, n: body.instret };
      return;
    }
    if (body.time - prev.t < 0.5) return;
    this.mips = (body.instret - prev.n) / (body.time - prev.t) / 1e6;
    this.last = { t: body.time, n: body.instret };
  }

  reset(): void {
    this.last = null;
    this.mips = null;
  }
}

/** The status bar's text: guest state, MIPS, xruns (guest/host, summed over the streams). */
export function statusText(state: GuestState, mips: number | null, streams: LevelsEventBody['streams'] | null): string {
  const icon = state === 'running' ? '$(play)' : state === 'paused' ? '$(debug-pause)' : state === 'booting' ? '$(loading~spin)' : '$(circuit-board)';
  const parts = [`${icon} semu: ${state === 'none' ? 'idle' : state}`];
  if (state === 'running' && mips !== null) parts.push(`${mips < 10 ? mips.toFixed(1) : Math.round(mips)} MIPS`);
  if (streams && state !== 'none') {
    const g = streams.reduce((n, s) => n + s.xrunsGuest, 0);
    const h = streams.reduce((n, s) => n + s.xrunsHost, 0);
    parts.push(`${g + h} xruns`);
  }
  return parts.join(' · ');
}

/** The queue a Variables-view node names ("txq (2)" under Devices › virtio-snd › queues). */
export function queueFromVariable(name: string, devices: DeviceSnapshot[]): { device: string; index: number } | null {
  const m = /^(.+) \((\d+)\)$/.exec(name);
  if (!m) return null;
  const index = Number(m[2]);
  const d = devices.find((dev) => dev.queues.some((q) => q.index === index && q.name === m[1]));
  return d ? { device: d.name, index } : null;
}
