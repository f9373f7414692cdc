// The gdb stub at the protocol level: framing (checksums, escapes, Ctrl-C, oversize packets)
// and a stub that answers every malformed or unknown packet with an empty or error reply and
// keeps working — a raw TCP client against a machine running a tiny loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RspDecoder, encodePacket, MAX_PACKET } from '../../src/gdb/rsp';
import { MachineHost } from '../../src/host/machine-host';
import { startGdbStub } from '../../src/gdb/stub';
import { enc } from '../../src/emulator/cpu/asm';
import { open } from './raw';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

test('RSP framing: checksums, escapes, interrupt, acks, oversize', () => {
  const d = new RspDecoder();
  assert.deepEqual(d.push(ascii('+$g#67')), [{ k: 'ack', ok: true }, { k: 'packet', data: ascii('g') }]);
  assert.deepEqual(d.push(ascii('$g#00')), [{ k: 'bad', why: 'checksum 00 does not match 67' }]);
  assert.deepEqual(d.push(new Uint8Array([3])), [{ k: 'interrupt' }]);
  // Escaped '}' (0x7d ^ 0x20 = 0x5d) and '#': the payload is X1000,2:}#
  const framed = encodePacket(new Uint8Array([...ascii('X1000,2:'), 0x7d, 0x23]));
  assert.match(framed.toString('latin1'), /^\$X1000,2:\}\]\}\x03#[0-9a-f]{2}$/);
  const ev = d.push(framed);
  assert.equal(ev[0].k, 'packet');
  assert.deepEqual([...(ev[0] as { data: Uint8Array }).data.slice(-2)], [0x7d, 0x23]);
  // Split across chunks.
  assert.deepEqual(d.push(ascii('$q')), []);
  assert.deepEqual(d.push(ascii('C#b4')), [{ k: 'packet', data: ascii('qC') }]);
  const big = '$' + 'a'.repeat(MAX_PACKET + 10) + '#00';
  assert.equal(d.push(ascii(big))[0].k, 'bad');
});

test('the stub answers bad and unknown packets with empty or error replies, and keeps working', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'semu-rsp-'));
  const kernel = join(dir, 'spin.bin');
  writeFileSync(kernel, Buffer.from(Int32Array.from([enc('addi', 'a0', 'a0', 1), enc('jal', 'zero', -4)]).buffer));
  const host = new MachineHost({ kernel, audioOut: 'null', audioIn: 'null', time: 'icount' });
  await host.start();
  const stub = await startGdbStub(host, 0);
  const g = await open(stub.port);
  try {
    assert.match(await g.ask('qSupported:multiprocess+;swbreak+;hwbreak+'), /^PacketSize=[0-9a-f]+;qXfer:features:read\+;swbreak\+;hwbreak\+/);
    assert.match(await g.ask('?'), /^T02thread:01;/, 'attaching stops the running machine (SIGINT)');
    assert.equal(await g.ask('qFooBarBaz'), '', 'unknown query: empty');
    assert.equal(await g.ask('!'), '', 'unknown command: empty');
    assert.equal(await g.ask('vFlashErase:0,4'), '');
    assert.equal(await g.ask('mzzz,4'), 'E01');
    assert.equal(await g.ask('m0'), 'E01');
    assert.equal(await g.ask('M0,2:zz'), 'E01');
    assert.equal(await g.ask('M0,4:0011'), 'E01', 'length and data disagree');
    assert.equal(await g.ask('X0,5:ab'), 'E01');
    assert.equal(await g.ask('Z9,0,4'), 'E01');
    assert.equal(await g.ask('Z2,1000,16'), 'E01', 'watch 1-8 bytes');
    assert.equal(await g.ask('z2,2000,4'), 'E01', 'removing a watchpoint that is not there');
    assert.equal(await g.ask('pzz'), 'E01');
    assert.equal(await g.ask('p1234'), 'E01', 'no such register');
    assert.equal(await g.ask('P2=zz'), 'E01');
    assert.equal(await g.ask('P' + (65 + 0xc00).toString(16) + '=00000000'), 'E01', 'counters are read-only');
    assert.equal(await g.ask('Hg5'), 'E01', 'no hart 4');
    assert.equal(await g.ask('Hx1'), 'E01');
    assert.equal(await g.ask('T9'), 'E01');
    assert.equal(await g.ask('G0011'), 'E01', 'a short G');
    assert.equal(await g.ask('qXfer:features:read:other.xml:0,100'), 'E00');
    assert.equal(await g.ask('qXfer:features:read:target.xml:zz,1'), 'E00');
    // A bad checksum is refused with '-' (the packet is not acted on); an oversize one too.
    g.s.write('$g#00');
    assert.equal(await g.ack(), '-');
    g.s.write('$' + 'm'.repeat(MAX_PACKET + 1) + '#00');
    assert.equal(await g.ack(), '-');
    // Still working: registers, memory, the target description, threads.
    const regs = await g.ask('g');
    assert.equal(regs.length, 33 * 8, 'x0-x31 and pc');
    assert.equal(await g.ask('m0,4'), '13051500', 'addi a0, a0, 1 (little-endian)');
    const xml = await g.ask('qXfer:features:read:target.xml:0,fff');
    assert.match(xml, /^l<\?xml[\s\S]*<architecture>riscv:rv32<\/architecture>[\s\S]*name="satp" bitsize="32" regnum="449"/);
    assert.equal(await g.ask('qfThreadInfo'), 'm01');
    assert.equal(await g.ask('qsThreadInfo'), 'l');
    assert.equal(await g.ask('vCont?'), 'vCont;c;C;s;S;t');
    // A second debugger is turned away, the first goes on.
    const other = await open(stub.port);
    assert.match(await other.reply(), /^E\.another gdb is already connected/);
    assert.match(await g.ask('s'), /^T05thread:01;/);
    // Ctrl-C while running.
    g.s.write(encodePacket('c'));
    await new Promise((r) => setTimeout(r, 200));
    g.s.write(Buffer.from([3]));
    assert.match(await g.reply(), /^T02thread:01;/);
    assert.equal(await g.ask('D'), 'OK');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(host.state, 'running', 'detach resumes the machine');
  } finally {
    g.s.destroy();
    await stub.close();
    await host.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
