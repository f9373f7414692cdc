// The screen path, measured in three places:
//  - the guest: full-screen redraws per second through DRM dumb buffers (fbtest fps) with
//    virtio-gpu in-process, and what fbcon adds to the boot (instructions to the ready marker);
//  - the extension host: CPU per frame of the ScreenFeed (read the shared screen, convert to
//    RGBA) plus one copy of the pixels (VS Code's webview postMessage sends typed arrays as
//    binary buffers over its IPC), for a full screen and for one text line;
//  - the panel in headless Chromium: from posting a frame to the animation frame that shows it
//    (the panel's acknowledgement), for full-screen frames and one-line frames, paced as the
//    feed paces them (next frame after the acknowledgement, at most 60 Hz).
import { GuestRun, READY } from '../test/boot/guest';
import { launch, openPanel } from '../test/webview/harness';
import { GpuDriver } from '../test/devices/gpu-driver';
import { GPU_BOOTARGS, PLAIN_BOOTARGS, screenDevices } from '../test/helpers/screen-guest';
import { ScreenFeed } from '../src/devices/virtio-gpu/feed';

export interface ScreenBenchResult {
  guest_fps: number;
  guest_fps_line: string;
  boot_insns_plain: number;
  boot_insns_gpu: number;
  host_ms_per_full_frame: number;
  host_ms_per_line_frame: number;
  panel_latency_full_ms: { median: number; p90: number };
  panel_latency_line_ms: { median: number; p90: number };
  /** Frames per second the panel shows in the closed loop (at most 60). */
  panel_fps_full: number;
  panel_fps_line: number;
}

function quantiles(xs: number[]): { median: number; p90: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
}

function guestBoot(withGpu: boolean): { g: GuestRun; insns: number } {
  const virtio = withGpu ? screenDevices().virtio : [];
  const g = new GuestRun({ bootargs: withGpu ? GPU_BOOTARGS : PLAIN_BOOTARGS, virtio });
  const r = g.runUntil(READY);
  if (r.at < 0) throw new Error(`the guest did not boot:\n${g.output.slice(-2000)}`);
  return { g, insns: g.m.instret() };
}

function guestSide(): Pick<ScreenBenchResult, 'guest_fps' | 'guest_fps_line' | 'boot_insns_plain' | 'boot_insns_gpu'> {
  const plain = guestBoot(false).insns;
  const { g, insns } = guestBoot(true);
  g.runUntil('\n# ', 5e8);
  g.command('dmesg -n 1');
  const out = g.command('fbtest fps 60');
  const m = /fbtest: fps .*fps=([\d.]+).*/.exec(out);
  if (!m) throw new Error(`fbtest fps printed no result:\n${out}`);
  return { guest_fps: Number(m[1]), guest_fps_line: m[0].trim(), boot_insns_plain: plain, boot_insns_gpu: insns };
}

/** Host CPU per frame: feed.poll (read + convert) and a structured clone of the message. */
function hostSide(): Pick<ScreenBenchResult, 'host_ms_per_full_frame' | 'host_ms_per_line_frame'> {
  const d = new GpuDriver({ width: 1024, height: 768 });
  d.fill(0x400000, 1024, 768, (x, y) => x * 7 + y * 13);
  d.framebuffer(1, 0x400000, 1024, 768);
  d.transfer(1, 0, 0, 1024, 768);
  const feed = new ScreenFeed(d.gpu.screen, { window: 1e9, maxFps: 1e9 });
  let clock = 0;
  feed.poll(clock++);
  const per = (h: number, n: number) => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      d.flush(1, 0, (i * 16) % (768 - h + 1), 1024, h);
      const msg = feed.poll(clock++);
      if (msg === null) throw new Error('no frame');
      msg.pixels?.slice(); // VS Code sends the pixel buffer as binary over its IPC: one copy
    }
    const u = process.cpuUsage(t0);
    return (u.user + u.system) / 1000 / n;
  };
  per(16, 50); // warm up
  return { host_ms_per_full_frame: per(768, 60), host_ms_per_line_frame: per(16, 600) };
}

/** Post → the panel's acknowledgement (the animation frame after drawing), inside the page. */
async function panelSide(): Promise<Pick<ScreenBenchResult, 'panel_latency_full_ms' | 'panel_latency_line_ms' | 'panel_fps_full' | 'panel_fps_line'>> {
  const browser = await launch();
  try {
    const p = await openPanel(browser, 'screen', { width: 1100, height: 850 });
    await p.page.evaluate(() => window.postMessage({ type: 'session', state: 'running', name: 'bench' }, '*'));
    // Closed loop, as the feed runs it: the next frame goes when the panel acknowledged the last
    // one, and not sooner than 1/60 s after it.
    const run = (h: number, n: number) =>
      p.page.evaluate(
        ({ h, n }) =>
          new Promise<{ lat: number[]; fps: number }>((resolve) => {
            const w = window as unknown as { __posted: { type: string; frame?: number }[] };
            const base = 1000 + Math.floor(Math.random() * 1e6);
            const lat: number[] = [];
            let i = 0;
            let sentAt = 0;
            const t0 = performance.now();
            const frames = Array.from({ length: n }, (_, k) => ({
              type: 'frame',
              frame: base + k,
              width: 1024,
              height: 768,
              enabled: true,
              rect: { x: 0, y: h === 768 ? 0 : (k * 16) % 752, w: 1024, h },
              pixels: new Uint8Array(1024 * h * 4).fill(k * 37),
            }));
            const send = () => {
              sentAt = performance.now();
              // VS Code's webview host transfers a message's ArrayBuffers into the frame: no copy.
              window.postMessage(frames[i], '*', [frames[i].pixels.buffer]);
            };
            w.__posted.push = function (...items: { type: string; frame?: number }[]) {
              for (const m of items) {
                if (m.type !== 'frameDone' || m.frame !== base + i) continue;
                const now = performance.now();
                lat.push(now - sentAt);
                if (++i === n) resolve({ lat, fps: (n * 1000) / (now - t0) });
                else setTimeout(send, Math.max(0, sentAt + 1000 / 60 - now));
              }
              return Array.prototype.push.apply(this, items);
            };
            send();
          }),
        { h, n },
      );
    await run(16, 20); // warm up
    const full = await run(768, 120);
    const line = await run(16, 240);
    await p.close();
    return { panel_latency_full_ms: quantiles(full.lat), panel_fps_full: full.fps, panel_latency_line_ms: quantiles(line.lat), panel_fps_line: line.fps };
  } finally {
    await browser.close();
  }
}

export async function benchScreen(): Promise<ScreenBenchResult> {
  return { ...guestSide(), ...hostSide(), ...(await panelSide()) };
}
