import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Uart16550 } from '../../src/emulator/devices/uart';
import { UART_BASE } from '../../src/emulator/devices/map';
import { FakeIrq, makeBus } from './helpers';
import { setLogSink } from '../../src/log';

const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function setup() {
  const bus = makeBus(1 << 20);
  const irq = new FakeIrq();
  const chunks: string[] = [];
  const uart = new Uart16550(UART_BASE, irq, (b, n) => chunks.push(Buffer.from(b.subarray(0, n)).toString('latin1')), { inputCapacity: 64 });
  bus.add(uart);
  const rd = (r: number) => bus.read(UART_BASE + r, 1);
  const wr = (r: number, v: number) => bus.write(UART_BASE + r, 1, v);
  return { bus, irq, uart, chunks, rd, wr };
}

test('THR output is batched and flushed on newline, at 256 bytes, and on flush()', () => {
  const { uart, chunks, wr } = setup();
  for (const c of 'ab') wr(THR, c.charCodeAt(0));
  assert.equal(chunks.length, 0, 'no flush before a newline');
  wr(THR, 10);
  assert.deepEqual(chunks, ['ab\n']);
  for (let i = 0; i < 300; i++) wr(THR, 0x41);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1].length, 256);
  uart.flush();
  assert.equal(chunks[2].length, 44);
  uart.flush();
  assert.equal(chunks.length, 3, 'an empty flush calls nothing');
  assert.equal(uart.stats().txBytes, 303);
});

test('LSR reports THR empty always and DR only while input is queued', () => {
  const { uart, rd } = setup();
  assert.equal(rd(LSR), 0x60);
  uart.pushInput(Buffer.from('hi'));
  assert.equal(rd(LSR) & 1, 1);
  assert.equal(rd(RBR), 'h'.charCodeAt(0));
  assert.equal(rd(RBR), 'i'.charCodeAt(0));
  assert.equal(rd(LSR) & 1, 0);
  assert.equal(rd(RBR), 0, 'an empty RBR reads 0');
});

test("typed-ahead input survives Linux's 8250 startup: held after the FIFO clear, released by IER.ERBFI", () => {
  const { uart, rd, wr, irq } = setup();
  uart.pushInput(Buffer.from('ls\n'));
  // serial8250_do_startup: clear the FIFOs, read LSR/RX/IIR/MSR "to clear interrupts", the THRE
  // test, the same reads again "for luck"; then set_termios enables RX interrupts.
  wr(FCR, 0x01);
  wr(FCR, 0x07);
  wr(FCR, 0x00);
  for (let i = 0; i < 2; i++) {
    assert.equal(rd(LSR) & 1, 0, 'no byte shows while held');
    assert.equal(rd(RBR), 0);
    rd(IIR);
    rd(MSR);
  }
  wr(IER, 0x02);
  assert.equal(rd(IIR) & 0x0f, 0x02, 'held input raises no RX interrupt');
  wr(IER, 0x00);
  wr(IER, 0x05);
  assert.equal(irq.level(1), true, 'RX enabled: the held input interrupts');
  assert.equal(rd(LSR) & 1, 1);
  assert.equal(String.fromCharCode(rd(RBR), rd(RBR), rd(RBR)), 'ls\n', 'nothing was lost');
});

test('a polling reader that cleared the FIFO and never enables RX interrupts still gets input', () => {
  const { uart, rd, wr } = setup();
  wr(FCR, 0x07);
  uart.pushInput(Buffer.from('k'));
  let polls = 0;
  while (!(rd(LSR) & 1)) assert.ok(++polls < 64, 'released within 64 polls');
  assert.equal(rd(RBR), 'k'.charCodeAt(0));
  // A transmitter's LSR polls (each followed by a THR write) do not count as reading.
  wr(FCR, 0x07);
  uart.pushInput(Buffer.from('j'));
  for (let i = 0; i < 200; i++) {
    assert.equal(rd(LSR) & 1, 0);
    wr(THR, 0x2e);
  }
});

test('end of input never reports a byte ready (no livelock at EOF)', () => {
  const { uart, rd, wr, irq } = setup();
  wr(IER, 0x01);
  uart.pushInput(Buffer.from('x'));
  uart.closeInput();
  assert.equal(irq.level(1), true);
  assert.equal(rd(RBR), 'x'.charCodeAt(0));
  for (let i = 0; i < 1000; i++) assert.equal(rd(LSR) & 1, 0);
  assert.equal(rd(IIR) & 0x0f, 0x01, 'no interrupt pending at EOF');
  assert.equal(irq.level(1), false);
  assert.equal(uart.pushInput(Buffer.from('late')), 0, 'input after close is dropped');
  assert.equal(uart.stats().inputClosed, true);
});

test('RX interrupt: IIR 0x04 at/above the FIFO trigger, 0x0C (timeout) below it; IER gates the line', () => {
  const { uart, rd, wr, irq } = setup();
  uart.pushInput(Buffer.from('abcd'));
  assert.equal(irq.level(1), false, 'ERBFI off: no IRQ');
  wr(IER, 0x01);
  assert.equal(irq.level(1), true);
  assert.equal(rd(IIR), 0x04, 'FIFO off: received data available');
  wr(FCR, 0x01 | 0x40); // FIFO on, trigger 4
  assert.equal(rd(IIR), 0xc4, 'FIFO on and 4 bytes ≥ trigger 4');
  rd(RBR);
  assert.equal(rd(IIR), 0xcc, '3 bytes < trigger: character timeout');
  rd(RBR), rd(RBR), rd(RBR);
  assert.equal(rd(IIR), 0xc1);
  assert.equal(irq.level(1), false);
});

test('THR-empty interrupt: raised by IER write, acknowledged by IIR read, re-raised by each THR write', () => {
  const { rd, wr, irq } = setup();
  // Linux's THRE test in serial8250_do_startup
  wr(IER, 0x02);
  const iir1 = rd(IIR);
  wr(IER, 0);
  wr(IER, 0x02);
  const iir2 = rd(IIR);
  wr(IER, 0);
  assert.equal(iir1 & 0x0f, 0x02);
  assert.equal(iir2 & 0x0f, 0x02, 'THRE re-asserted when ETBEI is written again');

  wr(IER, 0x02);
  assert.equal(irq.level(1), true);
  assert.equal(rd(IIR) & 0x0f, 0x02);
  assert.equal(irq.level(1), false, 'reading IIR acknowledges THRE');
  assert.equal(rd(IIR) & 0x0f, 0x01);
  wr(THR, 0x41);
  assert.equal(irq.level(1), true, 'the byte left at once: THR empty again');
  wr(IER, 0);
  assert.equal(irq.level(1), false);
});

test('RX data outranks THRE in IIR', () => {
  const { uart, rd, wr } = setup();
  wr(IER, 0x03);
  uart.pushInput(Buffer.from('z'));
  assert.equal(rd(IIR) & 0x0f, 0x04);
  rd(RBR);
  assert.equal(rd(IIR) & 0x0f, 0x02);
});

test('input larger than the FIFO waits in the host queue and reaches the guest whole, in order', () => {
  const { uart, rd, wr } = setup(); // a 64-byte FIFO
  wr(IER, 0x05);
  const text = Buffer.from(Array.from({ length: 5000 }, (_, i) => String.fromCharCode(33 + (i % 90))).join(''));
  assert.equal(uart.pushInput(text.subarray(0, 3000)), 3000, 'all of it accepted');
  assert.equal(uart.pushInput(text.subarray(3000)), 2000);
  assert.equal(uart.stats().rxDropped, 0);
  assert.equal(uart.stats().inputPending, 5000);
  assert.equal(rd(IIR) & 0x0f, 0x04, 'data, no line-status (overrun) interrupt');
  const got: number[] = [];
  while (rd(LSR) & 1) got.push(rd(RBR));
  assert.equal(Buffer.from(got).toString('latin1'), text.toString('latin1'));
  assert.equal(uart.stats().inputFed, 5000);
  assert.equal(uart.stats().inputPending, 0);
});

test('input beyond the queue bound is refused with a count, an overrun, and one warning line', () => {
  const irq = new FakeIrq();
  const uart = new Uart16550(UART_BASE, irq, () => {}, { inputCapacity: 16, inputLimit: 100 });
  const warnings: string[] = [];
  setLogSink((level, _scope, message) => {
    if (level === 'warn') warnings.push(message);
  });
  try {
    uart.write(IER, 1, 0x05);
    assert.equal(uart.pushInput(new Uint8Array(150).fill(0x31)), 100);
    assert.equal(uart.pushInput(new Uint8Array(30).fill(0x32)), 16, 'the FIFO took 16 from the queue: room for 16 more');
    assert.equal(uart.stats().rxDropped, 50 + 14);
    assert.equal(warnings.length, 1, `one line for one overflow: ${warnings.join('\n')}`);
    assert.match(warnings[0], /console input: 100 bytes already wait for the guest to read them; 50 bytes dropped/);
    assert.equal(uart.read(IIR, 1) & 0x0f, 0x06, 'line status first');
    assert.equal(uart.read(LSR, 1) & 0x03, 0x03, 'DR and OE');
  } finally {
    setLogSink((level, scope, message) => process.stderr.write(`[${level}] ${scope}: ${message}\n`));
  }
});

test('DLAB banks DLL/DLM over RBR/IER; LCR, MCR, SCR read back', () => {
  const { rd, wr } = setup();
  wr(IER, 0x0f);
  wr(LCR, 0x83);
  wr(DLL, 0x1b);
  wr(DLM, 0x02);
  assert.equal(rd(DLL), 0x1b);
  assert.equal(rd(DLM), 0x02);
  assert.equal(rd(LCR), 0x83);
  wr(LCR, 0x03);
  assert.equal(rd(IER), 0x0f, 'IER untouched by divisor writes');
  wr(SCR, 0x5a);
  assert.equal(rd(SCR), 0x5a);
  wr(MCR, 0xff);
  assert.equal(rd(MCR), 0x1f);
});

test('loopback: THR comes back on RBR and MSR mirrors MCR outputs', () => {
  const { uart, rd, wr, chunks } = setup();
  wr(MCR, 0x10 | 0x0a); // LOOP, RTS, OUT2
  assert.equal(rd(MSR) & 0xf0, 0x10 | 0x80, 'CTS and DCD follow RTS and OUT2');
  wr(THR, 0x55);
  uart.flush();
  assert.equal(chunks.length, 0, 'nothing leaves in loopback');
  assert.equal(rd(LSR) & 1, 1);
  assert.equal(rd(RBR), 0x55);
  wr(MCR, 0);
  assert.equal(rd(MSR) & 0xf0, 0xb0, 'outside loopback: DCD, DSR, CTS asserted');
});

test('registers outside the eight answer 0 and wide accesses see the byte register', () => {
  const { bus, wr } = setup();
  wr(SCR, 0x77);
  assert.equal(bus.read(UART_BASE + 0x40, 4), 0);
  assert.equal(bus.read(UART_BASE + SCR, 4), 0x77);
  assert.equal(bus.fault, false);
});
