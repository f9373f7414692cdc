// The Variables view as a tree of plain nodes: each scope and each expandable value is a
// function producing child nodes, registered under a variablesReference for the current stop
// only (references are invalidated on every continue/step, as DAP requires).

import type { DebugProtocol } from '@vscode/debugprotocol';

export interface VarNode {
  name: string;
  value: string;
  type?: string;
  /** Expand → these children (computed when the person expands the node). */
  children?: () => VarNode[] | Promise<VarNode[]>;
  memoryReference?: string;
  evaluateName?: string;
  /** Present when setVariable may change this value. */
  set?: (text: string) => Promise<string>;
  /** Shown read-only in the UI. */
  readOnly?: boolean;
  /** Guest memory holding this value: a data breakpoint can watch it (dataBreakpointInfo). */
  data?: { addr: number; len: number; physical: boolean };
  /** VS Code's `debugProtocolVariableMenuContext` (its Variables context menu's when clauses). */
  menuContext?: string;
}

export class VariableStore {
  private next = 1;
  private readonly parents = new Map<number, () => VarNode[] | Promise<VarNode[]>>();
  /** Children last listed under each reference, for setVariable by name. */
  private readonly listed = new Map<number, VarNode[]>();

  /** Forgets every reference (the machine ran: all values may have changed). */
  reset(): void {
    this.parents.clear();
    this.listed.clear();
    // References are never reused within a session, so a stale one is clearly stale.
  }

  add(children: () => VarNode[] | Promise<VarNode[]>): number {
    const ref = this.next++;
    this.parents.set(ref, children);
    return ref;
  }

  has(ref: number): boolean {
    return this.parents.has(ref);
  }

  async list(ref: number, start?: number, count?: number): Promise<DebugProtocol.Variable[]> {
    const f = this.parents.get(ref);
    if (!f) throw new Error(`unknown variablesReference ${ref} (references last until the machine runs again)`);
    let nodes = await f();
    this.listed.set(ref, nodes);
    if (start !== undefined || count !== undefined) nodes = nodes.slice(start ?? 0, count ? (start ?? 0) + count : undefined);
    return nodes.map((n) => this.toVariable(n));
  }

  toVariable(n: VarNode): DebugProtocol.Variable {
    const v: DebugProtocol.Variable = {
      name: n.name,
      value: n.value,
      variablesReference: n.children ? this.add(n.children) : 0,
    };
    if (n.type) v.type = n.type;
    if (n.memoryReference) v.memoryReference = n.memoryReference;
    if (n.evaluateName) v.evaluateName = n.evaluateName;
    if (n.menuContext) (v as DebugProtocol.Variable & { __vscodeVariableMenuContext?: string }).__vscodeVariableMenuContext = n.menuContext;
    if (n.readOnly || (!n.set && !n.children)) v.presentationHint = { attributes: ['readOnly'] };
    return v;
  }

  /** The node called `name` among the children of `ref` (listing them if nobody has yet). */
  async find(ref: number, name: string): Promise<VarNode | undefined> {
    if (!this.listed.has(ref)) {
      const f = this.parents.get(ref);
      if (!f) return undefined;
      this.listed.set(ref, await f());
    }
    return this.listed.get(ref)?.find((n) => n.name === name);
  }
}

/** A leaf. */
export function leaf(name: string, value: string | number, extra: Partial<VarNode> = {}): VarNode {
  return { name, value: typeof value === 'number' ? String(value) : value, ...extra };
}

/** An expandable node. */
export function group(name: string, value: string, children: () => VarNode[] | Promise<VarNode[]>, extra: Partial<VarNode> = {}): VarNode {
  return { name, value, children, ...extra };
}
