// The adapter's breakpoint logic without a machine: hit conditions, conditions and log points
// deciding a stop, source lines resolved through the DWARF line table of a program built here,
// a kernel tree found elsewhere through sourceRoot / sourceMap, moved lines and refusals.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Breakpoints, parseHitCondition, parseOptions, interpolate } from '../../debug-adapter/breakpoints';
import { setSourceBreakpoints, type BreakpointContext } from '../../debug-adapter/breakpoint-requests';
import { SourcePaths, kernelTreeRoot } from '../../debug-adapter/source-paths';
import { VariableStore } from '../../debug-adapter/variables';
import { ElfFile } from '../../debug-adapter/dwarf/elf';
import { DebugInfo } from '../../debug-adapter/dwarf/index';
import type { EvalContext } from '../../debug-adapter/expressions';
import { buildFixture, bytes } from '../dwarf/fixture';
import { repoRoot } from '../guest-artifacts/artifacts';

const ctx = (regs: Record<string, number>): EvalContext => ({
  register: (n) => regs[n],
  symbol: () => undefined,
  load: async () => 0,
});

test('hit conditions: N, == N, > N, % N; nonsense is refused with the forms', () => {
  assert.deepEqual(parseHitCondition('5'), { op: '>=', n: 5 });
  assert.deepEqual(parseHitCondition(' == 3 '), { op: '==', n: 3 });
  assert.deepEqual(parseHitCondition('%10'), { op: '%', n: 10 });
  assert.throws(() => parseHitCondition('often'), /use N \(from the Nth hit on\), == N/);
  assert.throws(() => parseHitCondition('% 0'), /divides by zero/);
});

test('decide: conditions, hit counts and log points; a broken condition stops and says why', async () => {
  const bps = new Breakpoints();
  const [cond, third, log, broken] = bps.replace('instruction', [
    { kind: 'instruction', key: 'a', pcs: [0x100], ...parseOptions({ condition: 'a0 == 7' }) },
    { kind: 'instruction', key: 'b', pcs: [0x100], ...parseOptions({ hitCondition: '== 3' }) },
    { kind: 'instruction', key: 'c', pcs: [0x100], ...parseOptions({ logMessage: 'a0={a0} a1={a1 + 1}' }) },
    { kind: 'instruction', key: 'd', pcs: [0x200], ...parseOptions({ condition: '*(u32*)p:0x10 == 1' }) },
  ]);
  let d = await bps.decide(bps.atPc(0x100), ctx({ a0: 1, a1: 2 }));
  assert.deepEqual([d.stop, d.ids, d.logs], [false, [], ['a0=0x00000001 a1=0x00000003']]);
  await bps.decide(bps.atPc(0x100), ctx({ a0: 1, a1: 2 }));
  d = await bps.decide(bps.atPc(0x100), ctx({ a0: 7, a1: 0 }));
  assert.deepEqual(d.ids.sort(), [cond.id, third.id].sort(), 'the condition holds, and it is the third hit');
  assert.equal(log.hits, 3);
  // Ids and hit counts survive a new set request that keeps the breakpoint.
  const again = bps.replace('instruction', [{ kind: 'instruction', key: 'b', pcs: [0x100] }]);
  assert.equal(again[0].id, third.id);
  assert.equal(again[0].hits, 3);
  const failing: EvalContext = { ...ctx({}), load: async () => { throw new Error('cannot read'); } };
  d = await bps.decide([broken], failing);
  assert.equal(d.stop, true);
  assert.match(d.errors[0], /could not be evaluated: cannot read/);
  assert.equal(await interpolate('x={nope +}', ctx({})), 'x=<unexpected end of expression>');
  assert.throws(() => parseOptions({ logMessage: 'bad {a0 +}' }), /unexpected end/);
});

test('source paths: sourceRoot stands for the DWARF tree, sourceMap adds rewrites, both ways', () => {
  const files = ['/build/linux/init/main.c', '/build/linux/sound/virtio/virtio_pcm.c', '/usr/include/stdio.h'];
  const root = kernelTreeRoot(files);
  assert.equal(root, '/build/linux');
  const p = SourcePaths.from('/home/me/linux', { '/usr/include': '/opt/inc' }, root);
  assert.equal(p.toLocal('/build/linux/sound/virtio/virtio_pcm.c'), '/home/me/linux/sound/virtio/virtio_pcm.c');
  assert.equal(p.toLocal('/usr/include/stdio.h'), '/opt/inc/stdio.h');
  assert.equal(p.toLocal('/elsewhere/x.c'), '/elsewhere/x.c');
  assert.equal(p.toDwarf('/home/me/linux/init/main.c'), '/build/linux/init/main.c');
  assert.equal(p.toLocal('/build/linuxy/a.c'), '/build/linuxy/a.c', 'a prefix matches whole folders only');
});

test('source breakpoints: verified at the line\'s addresses through a source map, moved to code, or refused saying why', async () => {
  const d = DebugInfo.fromElf(new ElfFile(bytes(buildFixture(5))));
  const src = join(repoRoot(), 'test', 'fixtures', 'dwarf', 'prog.c');
  const lines = readFileSync(src, 'utf8').split('\n');
  const lineOf = (t: string) => lines.findIndex((l) => l.includes(t)) + 1;
  const moved = '/somewhere/else/prog.c';
  const c: BreakpointContext = {
    bps: new Breakpoints(),
    symbols: null,
    debug: d,
    paths: new SourcePaths([[dirname(src), '/somewhere/else']]),
    vars: new VariableStore(),
    evalContext: async () => ctx({}),
  };
  const r = setSourceBreakpoints(c, {
    source: { path: moved },
    breakpoints: [{ line: lineOf('total += s;') }, { line: lineOf('int total;') - 1 }, { line: 9999 }, { line: lineOf('s += dist'), condition: 'a0 ==' }],
  });
  assert.equal(r[0].verified, true, r[0].message);
  assert.equal(r[0].line, lineOf('total += s;'));
  assert.match(r[0].message ?? '', /in sum/);
  assert.equal(r[1].verified, true, 'a comment line moves to the next line with code');
  assert.ok(r[1].line! > lineOf('int total;') - 1);
  assert.match(r[1].message ?? '', /moved from line/);
  assert.equal(r[2].verified, false);
  assert.match(r[2].message ?? '', /no code at or after line 9999/);
  assert.equal(r[3].verified, false);
  assert.match(r[3].message ?? '', /unexpected end/);
  assert.deepEqual(c.bps.pcs().length >= 2, true);
  const other = setSourceBreakpoints(c, { source: { path: '/not/in/the/kernel.c' }, breakpoints: [{ line: 3 }] });
  assert.match(other[0].message ?? '', /not in the kernel's debug information.*sourceRoot/);
});
