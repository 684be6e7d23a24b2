/**
 * The zone tree in memory (ids and parents only): the engine's copy, replaced
 * by the setZones command, and the timetable conflict report's. Answers what
 * both ask: which zones a target covers (itself and everything below), which
 * are leaves, and who is whose parent. (The database keeps the same tree as
 * materialized paths: server/zone-tree.ts.)
 */

/** A zone as the tree needs it. */
export interface ZoneNode {
  id: string;
  parentId: string | null;
}

export class ZoneTreeError extends Error {}

export class ZoneTree {
  private parent = new Map<string, string | null>();
  private children = new Map<string, string[]>();
  private readonly subtrees = new Map<string, Set<string>>();

  /** Throws ZoneTreeError on duplicates, unknown parents or cycles (the old tree stays). */
  static build(nodes: readonly ZoneNode[]): ZoneTree {
    const tree = new ZoneTree();
    for (const n of nodes) {
      if (tree.parent.has(n.id)) throw new ZoneTreeError(`duplicate zone '${n.id}'`);
      tree.parent.set(n.id, n.parentId);
      tree.children.set(n.id, []);
    }
    for (const n of nodes) {
      if (n.parentId === null) continue;
      const siblings = tree.children.get(n.parentId);
      if (!siblings) throw new ZoneTreeError(`zone '${n.id}' has unknown parent '${n.parentId}'`);
      siblings.push(n.id);
    }
    for (const n of nodes) {
      // A walk longer than the tree means a cycle.
      let steps = 0;
      for (let p = n.parentId; p !== null; p = tree.parent.get(p) ?? null) {
        if (++steps > nodes.length) throw new ZoneTreeError(`zone '${n.id}' is in a parent cycle`);
      }
    }
    return tree;
  }

  get size(): number {
    return this.parent.size;
  }
  has(id: string): boolean {
    return this.parent.has(id);
  }
  parentOf(id: string): string | null {
    return this.parent.get(id) ?? null;
  }
  childrenOf(id: string): readonly string[] {
    return this.children.get(id) ?? [];
  }
  isLeaf(id: string): boolean {
    return this.childrenOf(id).length === 0;
  }

  /** The zone itself, then its parent, up to the root. */
  *selfAndAncestors(id: string): Generator<string> {
    for (let z: string | null = id; z !== null && this.has(z); z = this.parentOf(z)) yield z;
  }

  /** True if `zone` is `target` or below it. */
  covers(target: string, zone: string): boolean {
    for (const z of this.selfAndAncestors(zone)) if (z === target) return true;
    return false;
  }

  /** Every zone at or below the given targets (each once). */
  coveredBy(targets: readonly string[]): Set<string> {
    const out = new Set<string>();
    const stack = targets.filter((t) => this.has(t));
    while (stack.length) {
      const z = stack.pop()!;
      if (out.has(z)) continue;
      out.add(z);
      stack.push(...this.childrenOf(z));
    }
    return out;
  }

  /** The zone and everything below it (memoized: the tree does not change once built). */
  subtree(id: string): ReadonlySet<string> {
    let s = this.subtrees.get(id);
    if (!s) this.subtrees.set(id, (s = this.coveredBy([id])));
    return s;
  }

  ids(): IterableIterator<string> {
    return this.parent.keys();
  }
}
