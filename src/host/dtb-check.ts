// The host check of a person's device tree blob (`-b`, launch.json "dtb"): a tree Linux cannot
// boot from — no memory, no cpus, no console — is one line naming what is missing, not a hart
// crash 35 lines long. Declared as the dtb option's preflight (options.ts).

import { readFileSync } from 'node:fs';
import { type FdtNode, parseFdt, propString, propStrings } from '../emulator/fdt';
import type { PreflightContext } from './option-spec';

export function deviceTreeProblem(path: string, ctx: PreflightContext): string | undefined {
  let root: FdtNode;
  try {
    root = parseFdt(readFileSync(path)).root;
  } catch (e) {
    return `the device tree blob ${path} is not usable: ${(e as Error).message}`;
  }
  const missing = missingFromTree(root);
  if (missing.length === 0) return undefined;
  const flag = ctx.name('dtb');
  return `the device tree blob ${path} has no ${missing.join(', no ')}: add ${missing.length > 1 ? 'them' : 'it'}, or leave ${flag} out to use the generated tree`;
}

/** What Linux cannot boot without, as the missing parts' descriptions. */
export function missingFromTree(root: FdtNode): string[] {
  const all: FdtNode[] = [];
  const walk = (n: FdtNode) => {
    all.push(n);
    n.children.forEach(walk);
  };
  walk(root);
  const missing: string[] = [];
  if (!all.some((n) => propString(n, 'device_type') === 'memory' && n.props.has('reg'))) missing.push('memory node (device_type "memory" with a reg)');
  const cpus = root.children.find((c) => c.name === 'cpus');
  if (!cpus || !cpus.children.some((c) => propString(c, 'device_type') === 'cpu')) missing.push('cpus (a /cpus node with device_type "cpu" children)');
  const serial = all.some((n) => (propStrings(n, 'compatible') ?? []).some((c) => /^ns(16550a?|8250|16450|16750)$/.test(c)));
  const chosen = root.children.find((c) => c.name === 'chosen');
  if (!serial && !(chosen && chosen.props.has('stdout-path'))) missing.push('console (an ns16550a serial node for the UART at 0xf4000000, or a /chosen stdout-path)');
  return missing;
}
