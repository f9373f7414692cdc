// `--screendump FILE.png`: the last frame the screen showed, written when the machine stops.
//
// The guest itself resets every virtio device at poweroff (Linux's virtio_dev_shutdown), and a
// DRM client may turn the scanout off before that, so "the scanout at exit" is usually dark. The
// GPU therefore hands us each frame just before the screen loses it (FrameKeeper.keep: a copy,
// no file I/O in the CPU loop); the PNG is encoded and written once, when the device is disposed
// at machine shutdown. The folder is checked when the machine starts, so a typo fails at once.

import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { logger } from '../../log';
import type { FrameKeeper } from './gpu';
import { encodePng } from './png';
import { ScreenReader } from './screen';

const log = logger('virtio-gpu');

export class ScreendumpFile implements FrameKeeper {
  private width = 0;
  private height = 0;
  private rgba: Uint8Array | null = null;
  private done = false;

  constructor(readonly path: string) {
    const dir = dirname(path);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
      if (isDir) accessSync(dir, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(`--screendump ${path}: ${code === 'ENOENT' ? `the folder ${dir} does not exist` : `cannot write in ${dir} (${code ?? (e as Error).message})`}`);
    }
    if (!isDir) throw new Error(`--screendump ${path}: ${dir} is not a folder`);
  }

  keep(screen: SharedArrayBuffer): void {
    const r = new ScreenReader(screen);
    const g = r.geometry();
    if (!g.enabled) return;
    const n = g.width * g.height * 4;
    if (this.rgba === null || this.rgba.length !== n) this.rgba = new Uint8Array(n);
    r.readRgba({ x: 0, y: 0, w: g.width, h: g.height }, this.rgba);
    this.width = g.width;
    this.height = g.height;
  }

  /** Writes the kept frame (once); a frame never shown writes nothing, and says so. */
  dispose(): void {
    if (this.done) return;
    this.done = true;
    if (this.rgba === null) {
      log.warn(`--screendump ${this.path}: the guest never turned the screen on; no file written`);
      return;
    }
    try {
      writeFileSync(this.path, encodePng(this.width, this.height, this.rgba));
      log.info(`screendump: ${this.width}x${this.height} written to ${this.path}`);
    } catch (e) {
      log.warn(`--screendump ${this.path}: ${(e as Error).message}`);
    }
  }
}
