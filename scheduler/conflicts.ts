/**
 * Conflict report: where and when timetable entries want the same air, and
 * how the arbiter will settle it.
 *
 * Who wins is the media plane's own rule (domain/priority.ts `beats`): higher
 * priority wins; at equal priority the airing already on air keeps it, except
 * at emergency level, where the newest wins. The later airing's
 * policy decides what happens when it does not take the air: 'wait' moves its
 * whole airing to when the earlier one ends. A programme targeting a zone
 * targets all of its descendants, so entries on a commune and on one of its
 * villages meet on that village.
 *
 * Overlaps are reported pairwise: a shifted start is computed against the one
 * airing it collides with, not by simulating a chain of three or more.
 */
import { beats, type Contender } from '../domain/priority.js';
import { ZoneTree, type ZoneNode } from '../domain/zone-tree.js';
import { expandEntry } from './recurrence.js';
import type { AirPolicy, TimetableEntry } from './timetable-entry.js';

export type { ZoneNode };

export interface ConflictAiring {
  entryId: string;
  priority: number;
  policy: AirPolicy;
  startUtcMs: number;
  endUtcMs: number;
  /** true when the entry has no end and the report assumed its maxDurationMs or the default duration. */
  endAssumed: boolean;
}

/**
 * - 'preempts': the later airing has higher priority (or equal, at or above newestWinsAt) and cuts in; the earlier one pauses and resumes at `resumesAtUtcMs`.
 * - 'waits': the later airing's policy is 'wait'; it starts when the earlier one ends (`shiftedStartUtcMs`).
 * - 'held': the later airing cuts in but cannot (equal or lower priority); it gets the air when the earlier ends (`shiftedStartUtcMs`).
 */
export type ConflictOutcome = 'preempts' | 'waits' | 'held';

export interface Overlap {
  /** The highest zones where both meet (their subtrees are affected). */
  zoneIds: string[];
  /** Every affected leaf zone. */
  leafZoneIds: string[];
  /** The time both want the air, as planned. */
  fromUtcMs: number;
  toUtcMs: number;
  /** By start (at equal start, the one that takes the air first). */
  first: ConflictAiring;
  second: ConflictAiring;
  /** Who has the air during the overlap. */
  winnerEntryId: string;
  loserEntryId: string;
  outcome: ConflictOutcome;
  shiftedStartUtcMs?: number;
  resumesAtUtcMs?: number;
}

export interface ConflictQuery {
  entries: TimetableEntry[];
  /** A new or edited entry; it replaces an entry with the same id. When given, only overlaps involving it are reported. */
  candidate?: TimetableEntry;
  zones: ZoneNode[];
  fromUtcMs: number;
  toUtcMs: number;
  /** Assumed length of an airing with neither end nor maxDurationMs. Default 30 min. */
  defaultDurationMs?: number;
}

export interface ConflictReport {
  /** By overlap start, then entry ids. */
  overlaps: Overlap[];
}

export const DEFAULT_CONFLICT_DURATION_MS = 30 * 60_000;

interface Expanded extends ConflictAiring {
  zones: ReadonlySet<string>;
  isCandidate: boolean;
}

/** Which of two overlapping airings is "first": earlier start; at equal start, the one that takes the air. */
function order(a: Expanded, b: Expanded): [Expanded, Expanded] {
  if (a.startUtcMs !== b.startUtcMs) return a.startUtcMs < b.startUtcMs ? [a, b] : [b, a];
  if (a.priority !== b.priority) return a.priority > b.priority ? [a, b] : [b, a];
  if (a.isCandidate !== b.isCandidate) return a.isCandidate ? [b, a] : [a, b]; // what is already in the timetable stays first
  return a.entryId <= b.entryId ? [a, b] : [b, a];
}

/** An airing as the arbitration rule sees it: `seq` 1 for the later one, 0 for the one already on air. */
const contender = (e: Expanded, seq: number): Contender => ({ id: e.entryId, priority: e.priority, seq });

const strip = (e: Expanded): ConflictAiring => ({
  entryId: e.entryId,
  priority: e.priority,
  policy: e.policy,
  startUtcMs: e.startUtcMs,
  endUtcMs: e.endUtcMs,
  endAssumed: e.endAssumed,
});

export function findConflicts(q: ConflictQuery): ConflictReport {
  const tree = ZoneTree.build(q.zones);
  const defaultMs = q.defaultDurationMs ?? DEFAULT_CONFLICT_DURATION_MS;
  const entries = q.entries.filter((e) => e.id !== q.candidate?.id);
  if (q.candidate) entries.push(q.candidate);

  const airings: Expanded[] = [];
  for (const entry of entries) {
    const zones = new Set<string>();
    for (const z of entry.zoneIds) for (const s of tree.subtree(z)) zones.add(s);
    const assumedMs = entry.maxDurationMs ?? defaultMs;
    // Airings that started before the window may still be running inside it.
    const lookback = Math.max(assumedMs, entry.durationMs ?? 0, 24 * 3600_000);
    for (const o of expandEntry(entry, q.fromUtcMs - lookback, q.toUtcMs)) {
      let end = o.endUtcMs ?? o.startUtcMs + assumedMs;
      if (entry.maxDurationMs !== null) end = Math.min(end, o.startUtcMs + entry.maxDurationMs);
      if (end <= q.fromUtcMs) continue;
      airings.push({
        entryId: entry.id,
        priority: entry.priority,
        policy: entry.policy,
        startUtcMs: o.startUtcMs,
        endUtcMs: end,
        endAssumed: o.endUtcMs === null,
        zones,
        isCandidate: q.candidate !== undefined && entry === q.candidate,
      });
    }
  }
  airings.sort((a, b) => a.startUtcMs - b.startUtcMs);

  const overlaps: Overlap[] = [];
  for (let i = 0; i < airings.length; i++) {
    const a = airings[i];
    for (let j = i + 1; j < airings.length && airings[j].startUtcMs < a.endUtcMs; j++) {
      const b = airings[j];
      if (a.entryId === b.entryId) continue; // an entry's own repeats are validated not to overlap
      if (q.candidate && !a.isCandidate && !b.isCandidate) continue;
      const from = Math.max(a.startUtcMs, b.startUtcMs, q.fromUtcMs);
      const to = Math.min(a.endUtcMs, b.endUtcMs, q.toUtcMs);
      if (to <= from) continue;
      const shared = new Set<string>();
      const [small, big] = a.zones.size <= b.zones.size ? [a.zones, b.zones] : [b.zones, a.zones];
      for (const z of small) if (big.has(z)) shared.add(z);
      if (shared.size === 0) continue;
      const [first, second] = order(a, b);
      const overlap: Overlap = {
        zoneIds: [...shared].filter((z) => !shared.has(tree.parentOf(z) ?? '')).sort(),
        leafZoneIds: [...shared].filter((z) => tree.isLeaf(z)).sort(),
        fromUtcMs: from,
        toUtcMs: to,
        first: strip(first),
        second: strip(second),
        winnerEntryId: first.entryId,
        loserEntryId: second.entryId,
        outcome: 'held',
      };
      if (second.policy === 'wait') {
        overlap.outcome = 'waits';
        overlap.shiftedStartUtcMs = first.endUtcMs;
      } else if (beats(contender(second, 1), contender(first, 0), first.entryId)) {
        overlap.outcome = 'preempts';
        overlap.winnerEntryId = second.entryId;
        overlap.loserEntryId = first.entryId;
        overlap.resumesAtUtcMs = second.endUtcMs;
      } else {
        overlap.shiftedStartUtcMs = first.endUtcMs;
      }
      overlaps.push(overlap);
    }
  }
  overlaps.sort((x, y) =>
    x.fromUtcMs - y.fromUtcMs ||
    x.first.entryId.localeCompare(y.first.entryId) ||
    x.second.entryId.localeCompare(y.second.entryId) ||
    x.first.startUtcMs - y.first.startUtcMs);
  return { overlaps };
}
