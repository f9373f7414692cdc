// What a person chooses about a machine, as the CLI flags, launch.json attributes and the
// extension settings all spell it. Paths, not bytes: the worker reads the files itself, so a
// launch never copies a kernel through postMessage.

export type TimeMode = 'host' | 'icount';

export interface MachineOptions {
  kernel: string;
  initrd?: string;
  dtb?: string;
  disk?: string;
  diskReadOnly?: boolean;
  harts?: number;
  time?: TimeMode;
  bootargs?: string;
  /** Audio backend specs (src/audio/backend.ts): 'portaudio[:NAME]', 'wav:PATH', 'null'. */
  audioOut?: string;
  audioIn?: string;
  ramMiB?: number;
}

/** The default kernel command line: semu's, with the 16550 console (guest/bootargs.txt documents it). */
export const DEFAULT_BOOTARGS = 'earlycon=uart8250,mmio,0xf4000000 console=ttyS0 panic=-1';

export const MAX_HARTS = 4;

/** An error a person caused and can fix: reported with its message alone, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
