// Where the guest's source files are on this machine: DWARF records the paths the kernel was
// compiled with; `sourceRoot` (the kernel tree here) and `sourceMap` ({ "/build/path": "/local" })
// rewrite them, longest prefix first, both ways (frames → editor, breakpoints → DWARF).

import { posix } from 'node:path';

export class SourcePaths {
  /** [dwarf prefix, local prefix], longest dwarf prefix first. */
  private readonly pairs: [string, string][];

  constructor(pairs: [string, string][]) {
    const norm = (p: string) => posix.normalize(p).replace(/\/+$/, '');
    this.pairs = pairs.map(([a, b]) => [norm(a), norm(b)] as [string, string]).filter(([a]) => a !== '' && a !== '.');
    this.pairs.sort((x, y) => y[0].length - x[0].length);
  }

  /**
   * From launch attributes: `sourceMap` entries, plus `sourceRoot` standing for the DWARF's own
   * kernel tree root (`treeRoot`, found from where init/main.c was compiled).
   */
  static from(sourceRoot: string | undefined, sourceMap: Record<string, string> | undefined, treeRoot: string | undefined): SourcePaths {
    const pairs: [string, string][] = Object.entries(sourceMap ?? {});
    if (sourceRoot && treeRoot) pairs.push([treeRoot, sourceRoot]);
    return new SourcePaths(pairs);
  }

  get empty(): boolean {
    return this.pairs.length === 0;
  }

  toLocal(dwarf: string): string {
    return rewrite(dwarf, this.pairs, 0, 1);
  }

  toDwarf(local: string): string {
    const rev = this.pairs.map(([a, b]) => [a, b] as [string, string]).sort((x, y) => y[1].length - x[1].length);
    return rewrite(posix.normalize(local), rev, 1, 0);
  }
}

function rewrite(p: string, pairs: [string, string][], from: 0 | 1, to: 0 | 1): string {
  for (const pair of pairs) {
    const pre = pair[from];
    if (p === pre) return pair[to];
    if (p.startsWith(pre + '/')) return pair[to] + p.slice(pre.length);
  }
  return p;
}

/** The kernel tree the DWARF paths point into: the folder holding init/main.c, if any. */
export function kernelTreeRoot(files: readonly string[]): string | undefined {
  for (const f of files) if (f.endsWith('/init/main.c')) return f.slice(0, -'/init/main.c'.length);
  return undefined;
}
