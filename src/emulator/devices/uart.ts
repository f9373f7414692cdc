// An 8250/16550A UART as Linux's 8250 driver ("ns16550a", reg-shift 0, reg-io-width 1) expects
// it: the eight byte registers, DLAB-banked divisor latch, FIFO control, loopback, and the IIR
// priority scheme (line status > received data > THR empty > modem status).
//
// Transmission is instantaneous: a THR write goes to the output batch and THR is empty again at
// once, so the THR-empty interrupt re-asserts after every write while IER.ETBEI is set (what a
// real 16550 does once its shift register drains). Host input waits in a host-side queue
// (console-input.ts) and moves into the receive FIFO as the guest reads it, so a paste of any
// size arrives whole. LSR.DR is set only while a byte is really there, so end of input just
// looks like a quiet line and can never livelock the driver's receive loop.

import type { IrqLine, MmioDevice, Width } from '../types';
import { ConsoleInputQueue, CONSOLE_INPUT_LIMIT } from './console-input';

// Register offsets (reg-shift 0).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

// IER bits.
const IER_ERBFI = 0x01; // received data available
const IER_ETBEI = 0x02; // THR empty
const IER_ELSI = 0x04; // receiver line status
const IER_EDSSI = 0x08; // modem status

// IIR interrupt identifiers (bit 0 set = none pending); bits 6-7 report FIFOs enabled.
const IIR_NONE = 0x01;
const IIR_MSR = 0x00;
const IIR_THRE = 0x02;
const IIR_RDA = 0x04;
const IIR_RLS = 0x06;
const IIR_RX_TIMEOUT = 0x0c;
const IIR_FIFO_ENABLED = 0xc0;

// FCR bits.
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RCVR = 0x02;

// LCR bits.
const LCR_DLAB = 0x80;

// MCR bits.
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

// LSR bits.
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

// MSR bits.
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_RI = 0x40;
const MSR_DCD = 0x80;
const MSR_DELTAS = 0x0f;

const RX_TRIGGER = [1, 4, 8, 14];
/** LSR reads with no transmit in between after which a held receiver opens (a polling reader). */
const POLLS_TO_RELEASE = 64;
const OUT_BATCH = 256;
const NEWLINE = 10;

export type UartSink = (bytes: Uint8Array, length: number) => void;

export interface UartOptions {
  /** PLIC source number (semu: 1). */
  irq?: number;
  /** Receive FIFO capacity in bytes, rounded up to a power of two (default 4096). */
  inputCapacity?: number;
  /** Most host input bytes waiting behind the FIFO (default CONSOLE_INPUT_LIMIT). */
  inputLimit?: number;
  /** MMIO window size (default 1 MiB, as semu's DT declares). */
  size?: number;
}

export interface UartStats {
  txBytes: number;
  rxBytes: number;
  rxDropped: number;
  /** Host input bytes not yet read by the guest (the queue and the FIFO). */
  inputPending: number;
  /** Host input bytes moved into the FIFO so far (uint32, wraps). */
  inputFed: number;
  inputClosed: boolean;
}

export class Uart16550 implements MmioDevice {
  readonly name = 'uart';
  readonly size: number;
  private readonly irqNum: number;

  // Receive FIFO (host input, or our own output in loopback mode), fed from the host queue.
  private readonly queue: ConsoleInputQueue;
  private readonly rx: Uint8Array;
  private readonly rxMask: number;
  private rxHead = 0;
  private rxCount = 0;
  private closed = false;
  // Typed-ahead input held back after the driver cleared the RX FIFO (see writeFcr).
  private rxHeld = false;
  private heldPolls = 0;

  // Output batch handed to the sink.
  private readonly out = new Uint8Array(OUT_BATCH);
  private outLen = 0;

  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0;
  private dlm = 0;
  private fifoEnabled = false;
  private rxTrigger = 1;
  private lsrErrors = 0; // sticky error bits, cleared by an LSR read
  private threPending = false; // THR-empty interrupt latched
  private msrDeltas = 0;
  private lastMsr = 0;
  private irqLevel = false;

  private txBytes = 0;
  private rxBytes = 0;
  private rxDropped = 0;

  constructor(
    readonly base: number,
    private readonly irqLine: IrqLine,
    private readonly sink: UartSink,
    opts: UartOptions = {},
  ) {
    this.irqNum = opts.irq ?? 1;
    this.size = opts.size ?? 0x100000;
    let cap = 16;
    while (cap < (opts.inputCapacity ?? 4096)) cap *= 2;
    this.rx = new Uint8Array(cap);
    this.rxMask = cap - 1;
    this.queue = new ConsoleInputQueue(opts.inputLimit ?? CONSOLE_INPUT_LIMIT);
    this.lastMsr = this.modemStatus();
  }

  // ---------------- host side ----------------

  /**
   * Queues host input for the guest; it enters the receive FIFO as the guest reads. Returns the
   * bytes accepted: all of them, unless input was closed or the queue's bound (said once, in one
   * line) is reached.
   */
  pushInput(bytes: Uint8Array): number {
    if (this.closed) {
      this.rxDropped += bytes.length;
      return 0;
    }
    const n = this.queue.push(bytes);
    if (n < bytes.length) {
      this.rxDropped += bytes.length - n;
      this.lsrErrors |= LSR_OE;
    }
    this.feed();
    this.updateIrq();
    return n;
  }

  /** Host input bytes moved into the FIFO so far (uint32, wraps): the host's back-pressure gauge. */
  get inputFed(): number {
    return this.queue.taken;
  }

  /** End of input: what is queued is still delivered, then the line just stays quiet. */
  closeInput(): void {
    this.closed = true;
  }

  get inputClosed(): boolean {
    return this.closed;
  }

  /** Hands the batched output to the sink. */
  flush(): void {
    if (this.outLen === 0) return;
    const n = this.outLen;
    this.outLen = 0;
    this.sink(this.out, n);
  }

  stats(): UartStats {
    return {
      txBytes: this.txBytes,
      rxBytes: this.rxBytes,
      rxDropped: this.rxDropped,
      inputPending: this.rxCount + this.queue.length,
      inputFed: this.queue.taken,
      inputClosed: this.closed,
    };
  }

  // ---------------- bus side ----------------

  read(offset: number, _width: Width): number {
    // Byte registers: wider accesses see the same byte (reg-io-width 1 is what the DT declares).
    switch (offset) {
      case RBR_THR_DLL:
        return this.lcr & LCR_DLAB ? this.dll : this.readRbr();
      case IER_DLM:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case IIR_FCR:
        return this.readIir();
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        return this.readLsr();
      case MSR:
        return this.readMsr();
      case SCR:
        return this.scr;
      default:
        return 0;
    }
  }

  write(offset: number, _width: Width, value: number): void {
    value &= 0xff;
    switch (offset) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) this.dll = value;
        else this.writeThr(value);
        break;
      case IER_DLM:
        if (this.lcr & LCR_DLAB) this.dlm = value;
        else this.writeIer(value);
        break;
      case IIR_FCR:
        this.writeFcr(value);
        break;
      case LCR:
        this.lcr = value;
        break;
      case MCR:
        this.mcr = value & 0x1f;
        this.noteModemChange();
        break;
      case SCR:
        this.scr = value;
        break;
      default:
        break; // LSR/MSR are read-only; the rest of the window is empty
    }
    this.updateIrq();
  }

  // ---------------- registers ----------------

  private readRbr(): number {
    if (this.rxCount === 0 || this.rxHeld) return 0;
    const b = this.rx[this.rxHead];
    this.rxHead = (this.rxHead + 1) & this.rxMask;
    this.rxCount--;
    this.rxBytes++;
    if (this.queue.length > 0) this.feed();
    this.updateIrq();
    return b;
  }

  private writeThr(b: number): void {
    this.txBytes++;
    this.heldPolls = 0; // a transmitter waiting on THRE is not a polling reader
    if (this.mcr & MCR_LOOP) {
      this.rxHeld = false; // loopback data is the guest's own
      if (!this.rxPush(b)) {
        this.rxDropped++;
        this.lsrErrors |= LSR_OE;
      }
    } else {
      this.out[this.outLen++] = b;
      if (b === NEWLINE || this.outLen === OUT_BATCH) this.flush();
    }
    this.threPending = true; // the byte left at once: THR is empty again
  }

  private writeIer(v: number): void {
    this.ier = v & 0x0f;
    if (this.ier & IER_ERBFI) this.rxHeld = false; // the driver is ready to receive
    // A 16550 re-raises THRE whenever ETBEI is written 1 while THR is empty (Linux's THRE test
    // in serial8250_do_startup relies on it).
    if (this.ier & IER_ETBEI) this.threPending = true;
  }

  private writeFcr(v: number): void {
    this.fifoEnabled = (v & FCR_ENABLE) !== 0;
    this.rxTrigger = RX_TRIGGER[(v >>> 6) & 3];
    // FCR's "clear RX FIFO" does not discard host input (typed-ahead input is worth more than
    // bit-exactness); it holds it back instead, until the receiver is enabled (IER.ERBFI) or a
    // polling reader shows up. Linux's 8250 startup clears the FIFOs and then reads RBR twice
    // "to clear interrupts" before enabling RX: on hardware those reads find an empty FIFO,
    // here they would eat the first two bytes typed during boot.
    if (v & FCR_CLEAR_RCVR) {
      this.rxHeld = true;
      this.heldPolls = 0;
    }
  }

  private readIir(): number {
    const id = this.interruptId();
    if (id === IIR_THRE) this.threPending = false; // reading IIR acknowledges THRE
    this.updateIrq();
    return id | (this.fifoEnabled ? IIR_FIFO_ENABLED : 0);
  }

  private readLsr(): number {
    if (this.rxHeld && ++this.heldPolls >= POLLS_TO_RELEASE) this.rxHeld = false;
    const v = (this.rxCount > 0 && !this.rxHeld ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
    this.lsrErrors = 0;
    this.updateIrq();
    return v;
  }

  private readMsr(): number {
    const v = this.modemStatus() | this.msrDeltas;
    this.msrDeltas = 0;
    this.updateIrq();
    return v;
  }

  /** Modem inputs: wired to our own outputs in loopback, else a connected, ready line. */
  private modemStatus(): number {
    if (!(this.mcr & MCR_LOOP)) return MSR_DCD | MSR_DSR | MSR_CTS;
    const m = this.mcr;
    return (
      (m & MCR_RTS ? MSR_CTS : 0) |
      (m & MCR_DTR ? MSR_DSR : 0) |
      (m & MCR_OUT1 ? MSR_RI : 0) |
      (m & MCR_OUT2 ? MSR_DCD : 0)
    );
  }

  private noteModemChange(): void {
    const now = this.modemStatus();
    const changed = now ^ this.lastMsr;
    // Delta bits: DCTS, DDSR, TERI (RI went low), DDCD.
    if (changed & MSR_CTS) this.msrDeltas |= 0x01;
    if (changed & MSR_DSR) this.msrDeltas |= 0x02;
    if (changed & MSR_RI && !(now & MSR_RI)) this.msrDeltas |= 0x04;
    if (changed & MSR_DCD) this.msrDeltas |= 0x08;
    this.lastMsr = now;
  }

  /** The highest-priority pending interrupt source (IIR bits 0-3). */
  private interruptId(): number {
    const ier = this.ier;
    if (ier & IER_ELSI && this.lsrErrors !== 0) return IIR_RLS;
    if (ier & IER_ERBFI && this.rxCount > 0 && !this.rxHeld) {
      // Below the trigger level a real 16550A reports a character timeout instead.
      return this.fifoEnabled && this.rxCount < this.rxTrigger ? IIR_RX_TIMEOUT : IIR_RDA;
    }
    if (ier & IER_ETBEI && this.threPending) return IIR_THRE;
    if (ier & IER_EDSSI && (this.msrDeltas & MSR_DELTAS) !== 0) return IIR_MSR;
    return IIR_NONE;
  }

  /** Moves queued host input into the FIFO as far as it has room. */
  private feed(): void {
    while (this.rxCount <= this.rxMask && this.queue.length > 0) this.rxPush(this.queue.shift());
  }

  private rxPush(b: number): boolean {
    if (this.rxCount > this.rxMask) return false;
    this.rx[(this.rxHead + this.rxCount) & this.rxMask] = b;
    this.rxCount++;
    return true;
  }

  private updateIrq(): void {
    const level = this.interruptId() !== IIR_NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irqLine.setIrq(this.irqNum, level);
    }
  }
}
