/**
 * The planner: turns timetable entries into concrete airings over a sliding
 * window (the next day or two), applies edits at once, and hands each airing
 * to its consumer `leadMs` before it starts so the media engine can prefetch
 * and start it on its frame.
 *
 * Edits are diffed per airing: an airing that an edit does not touch keeps
 * its id and its object, and never appears in a change — so whatever is on
 * air is left alone unless the edit itself changes or removes that airing.
 *
 * One timer for the whole plan (next hand-over or next window slide), from an
 * injected clock, so tests drive a day in microseconds.
 */
import { EventEmitter } from 'node:events';
import { systemClock, systemTimers, type Clock, type TimerHandle, type Timers } from './clock.js';
import { expandEntry, type Occurrence } from './recurrence.js';
import type { AirPolicy, Programme, TimetableEntry } from './timetable-entry.js';

/** One concrete airing of an entry. Plain data: safe to post to the media worker. */
export interface Airing {
  /** Stable: the entry id and the airing's start instant. */
  airingId: string;
  entryId: string;
  zoneIds: string[];
  programme: Programme;
  priority: number;
  startUtcMs: number;
  /** Absent: lasts as long as its programme. */
  endUtcMs?: number;
  /** Absent: no cap beyond the engine's own. */
  maxDurationMs?: number;
  policy: AirPolicy;
}

export interface AiringChange {
  before: Airing;
  after: Airing;
}

/** What one edit or window slide did to the plan. Unaffected airings are never listed. */
export interface PlanChange {
  added: Airing[];
  removed: Airing[];
  changed: AiringChange[];
}

export interface OnAirAiring {
  airing: Airing;
  /** How far into the airing `nowMs` is: where playback resumes after a restart. */
  offsetMs: number;
}

export interface PlannerOptions {
  /** How far ahead airings are planned. Default 36 h. */
  horizonMs?: number;
  /** How long before its start an airing is handed over ('due'). Default 3 s. */
  leadMs?: number;
  /** How far back airings stay in the plan, and the longest an airing without a known end is presumed to run. Default 6 h. */
  lookbackMs?: number;
  /** How often the window slides forward. Default 15 min. */
  refreshMs?: number;
  /** An airing without a known end that started more than this long ago is not handed over late. Default 60 s. */
  lateToleranceMs?: number;
  clock?: Clock;
  timers?: Timers;
}

export interface PlannerEvents {
  /** The plan changed (edit or window slide). Airings already handed over may be among `changed`/`removed`: update or cancel them. */
  change: [change: PlanChange];
  /** These airings start within leadMs (or have started and not ended, for airings an edit just added). Each is handed over once. */
  due: [airings: Airing[], nowMs: number];
}

export const PLANNER_DEFAULTS = {
  horizonMs: 36 * 3600_000,
  leadMs: 3_000,
  lookbackMs: 6 * 3600_000,
  refreshMs: 15 * 60_000,
  lateToleranceMs: 60_000,
} as const;

export function airingIdOf(entryId: string, startUtcMs: number): string {
  return `${entryId}@${new Date(startUtcMs).toISOString()}`;
}

export function airingFromOccurrence(entry: TimetableEntry, o: Occurrence): Airing {
  const a: Airing = {
    airingId: airingIdOf(entry.id, o.startUtcMs),
    entryId: entry.id,
    zoneIds: entry.zoneIds,
    programme: entry.programme,
    priority: entry.priority,
    startUtcMs: o.startUtcMs,
    policy: entry.policy,
  };
  if (o.endUtcMs !== null) a.endUtcMs = o.endUtcMs;
  if (entry.maxDurationMs !== null) a.maxDurationMs = entry.maxDurationMs;
  return a;
}

/** When the airing stops at the latest, or null when only its programme knows. */
export function airingLatestEndUtcMs(a: Airing): number | null {
  const capped = a.maxDurationMs !== undefined ? a.startUtcMs + a.maxDurationMs : null;
  if (a.endUtcMs === undefined) return capped;
  return capped === null ? a.endUtcMs : Math.min(a.endUtcMs, capped);
}

function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

const byStart = (a: Airing, b: Airing): number => a.startUtcMs - b.startUtcMs || (a.airingId < b.airingId ? -1 : 1);

export class Planner extends EventEmitter<PlannerEvents> {
  readonly horizonMs: number;
  readonly leadMs: number;
  readonly lookbackMs: number;
  readonly refreshMs: number;
  readonly lateToleranceMs: number;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #entries = new Map<string, TimetableEntry>();
  readonly #airings = new Map<string, Airing>();
  readonly #airingsOfEntry = new Map<string, Set<string>>();
  /** Airings already handed over through 'due' (or started before start()). */
  readonly #handed = new Set<string>();
  #fromUtcMs: number;
  #toUtcMs: number;
  #lastRefreshMs: number;
  #timer: TimerHandle | null = null;
  #running = false;
  #closed = false;

  constructor(options: PlannerOptions = {}) {
    super();
    this.horizonMs = options.horizonMs ?? PLANNER_DEFAULTS.horizonMs;
    this.leadMs = options.leadMs ?? PLANNER_DEFAULTS.leadMs;
    this.lookbackMs = options.lookbackMs ?? PLANNER_DEFAULTS.lookbackMs;
    this.refreshMs = options.refreshMs ?? PLANNER_DEFAULTS.refreshMs;
    this.lateToleranceMs = options.lateToleranceMs ?? PLANNER_DEFAULTS.lateToleranceMs;
    this.#clock = options.clock ?? systemClock;
    this.#timers = options.timers ?? systemTimers;
    const now = this.#clock.now();
    this.#fromUtcMs = now - this.lookbackMs;
    this.#toUtcMs = now + this.horizonMs;
    this.#lastRefreshMs = now;
  }

  /** The planned window: airings starting in [fromUtcMs, toUtcMs). */
  get window(): { fromUtcMs: number; toUtcMs: number } {
    return { fromUtcMs: this.#fromUtcMs, toUtcMs: this.#toUtcMs };
  }

  entries(): TimetableEntry[] {
    return [...this.#entries.values()];
  }

  /** Every planned airing, in start order. */
  airings(): Airing[] {
    return [...this.#airings.values()].sort(byStart);
  }

  airing(airingId: string): Airing | undefined {
    return this.#airings.get(airingId);
  }

  /**
   * Begin handing airings over. Airings that started before now are not handed
   * over (recovery is whatShouldBeOnAirAt's job); everything from now on is.
   * At startup: setEntries(), then whatShouldBeOnAirAt(now) for recovery, then start().
   */
  start(): void {
    if (this.#closed) throw new Error('planner is closed');
    if (this.#running) return;
    this.#running = true;
    const now = this.#clock.now();
    for (const a of this.#airings.values()) if (a.startUtcMs < now) this.#handed.add(a.airingId);
    this.#arm();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#running = false;
    this.#disarm();
    this.removeAllListeners();
  }

  /** Add or replace one entry; returns (and emits) the airings that changed. */
  upsertEntry(entry: TimetableEntry): PlanChange {
    this.#entries.set(entry.id, entry);
    return this.#publish(this.#replanEntry(entry.id));
  }

  removeEntry(entryId: string): PlanChange {
    this.#entries.delete(entryId);
    return this.#publish(this.#replanEntry(entryId));
  }

  /** Replace the whole timetable (startup, bulk import); still diffed per airing. */
  setEntries(entries: TimetableEntry[]): PlanChange {
    const ids = new Set(entries.map((e) => e.id));
    const touched = new Set([...this.#entries.keys(), ...ids]);
    this.#entries.clear();
    for (const e of entries) this.#entries.set(e.id, e);
    const total: PlanChange = { added: [], removed: [], changed: [] };
    for (const id of touched) {
      const c = this.#replanEntry(id);
      total.added.push(...c.added);
      total.removed.push(...c.removed);
      total.changed.push(...c.changed);
    }
    return this.#publish(total);
  }

  /** Airings starting in [nowMs, nowMs + leadMs), in start order. A pure query. */
  dueWithin(nowMs: number, leadMs: number = this.leadMs): Airing[] {
    const out: Airing[] = [];
    for (const a of this.#airings.values()) if (a.startUtcMs >= nowMs && a.startUtcMs < nowMs + leadMs) out.push(a);
    return out.sort(byStart);
  }

  /**
   * Airings in progress at nowMs with their offset, highest priority first — what
   * to put back on air after a restart. Computed from the entries, not from the
   * window, so any instant works. An airing with no known end or cap counts as in
   * progress for up to lookbackMs; the engine checks the offset against the media's length.
   */
  whatShouldBeOnAirAt(nowMs: number): OnAirAiring[] {
    const out: OnAirAiring[] = [];
    for (const entry of this.#entries.values()) {
      for (const o of expandEntry(entry, nowMs - this.lookbackMs, nowMs + 1)) {
        const a = airingFromOccurrence(entry, o);
        const end = airingLatestEndUtcMs(a);
        if (a.startUtcMs <= nowMs && (end === null || nowMs < end)) out.push({ airing: a, offsetMs: nowMs - a.startUtcMs });
      }
    }
    return out.sort((x, y) => y.airing.priority - x.airing.priority || x.airing.startUtcMs - y.airing.startUtcMs);
  }

  /** Slide the window to the clock's now: forget old airings, plan new ones. Called by the planner's timer. */
  refresh(): PlanChange {
    const now = this.#clock.now();
    this.#lastRefreshMs = now;
    const newFrom = now - this.lookbackMs;
    const newTo = now + this.horizonMs;
    for (const a of [...this.#airings.values()]) {
      if (a.startUtcMs < newFrom) this.#forget(a.airingId, a.entryId);
    }
    const added: Airing[] = [];
    // After a long clock jump (suspend) nothing older than the new window is planned.
    const extendFrom = Math.max(this.#toUtcMs, newFrom);
    if (newTo > extendFrom) {
      for (const entry of this.#entries.values()) {
        for (const o of expandEntry(entry, extendFrom, newTo)) {
          const a = airingFromOccurrence(entry, o);
          this.#remember(a);
          added.push(a);
        }
      }
    }
    this.#fromUtcMs = Math.max(this.#fromUtcMs, newFrom);
    this.#toUtcMs = Math.max(this.#toUtcMs, newTo);
    return this.#publish({ added: added.sort(byStart), removed: [], changed: [] });
  }

  #replanEntry(entryId: string): PlanChange {
    const entry = this.#entries.get(entryId);
    const next = new Map<string, Airing>();
    if (entry) {
      for (const o of expandEntry(entry, this.#fromUtcMs, this.#toUtcMs)) {
        const a = airingFromOccurrence(entry, o);
        next.set(a.airingId, a);
      }
    }
    const change: PlanChange = { added: [], removed: [], changed: [] };
    const old = this.#airingsOfEntry.get(entryId) ?? new Set<string>();
    for (const id of [...old]) {
      const before = this.#airings.get(id)!;
      const after = next.get(id);
      if (after === undefined) {
        this.#forget(id, entryId);
        change.removed.push(before);
      } else if (!sameData(before, after)) {
        this.#remember(after);
        change.changed.push({ before, after });
      }
    }
    for (const [id, a] of next) {
      if (!old.has(id)) {
        this.#remember(a);
        change.added.push(a);
      }
    }
    change.added.sort(byStart);
    change.removed.sort(byStart);
    change.changed.sort((x, y) => byStart(x.after, y.after));
    return change;
  }

  #remember(a: Airing): void {
    this.#airings.set(a.airingId, a);
    let set = this.#airingsOfEntry.get(a.entryId);
    if (!set) this.#airingsOfEntry.set(a.entryId, (set = new Set()));
    set.add(a.airingId);
  }

  #forget(airingId: string, entryId: string): void {
    this.#airings.delete(airingId);
    this.#handed.delete(airingId);
    const set = this.#airingsOfEntry.get(entryId);
    if (set) {
      set.delete(airingId);
      if (set.size === 0) this.#airingsOfEntry.delete(entryId);
    }
  }

  #publish(change: PlanChange): PlanChange {
    if (change.added.length + change.removed.length + change.changed.length > 0) this.emit('change', change);
    if (this.#running) this.#fire();
    return change;
  }

  #disarm(): void {
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
  }

  #arm(): void {
    this.#disarm();
    if (!this.#running) return;
    const now = this.#clock.now();
    let at = this.#lastRefreshMs + this.refreshMs;
    for (const a of this.#airings.values()) {
      if (!this.#handed.has(a.airingId)) at = Math.min(at, a.startUtcMs - this.leadMs);
    }
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      this.#tick();
    }, Math.max(0, at - now));
  }

  #tick(): void {
    if (!this.#running) return;
    if (this.#clock.now() >= this.#lastRefreshMs + this.refreshMs) this.refresh(); // refresh() fires and re-arms
    else this.#fire();
  }

  /** Hand over every airing due by now, then re-arm. */
  #fire(): void {
    const now = this.#clock.now();
    const due: Airing[] = [];
    for (const a of this.#airings.values()) {
      if (this.#handed.has(a.airingId) || a.startUtcMs - this.leadMs > now) continue;
      this.#handed.add(a.airingId);
      const end = airingLatestEndUtcMs(a);
      // Late hand-over (a stalled loop, or an edit adding an airing already in progress)
      // only while the airing is still running; with no known end, only if barely late.
      const stillRunning = end === null ? a.startUtcMs >= now - this.lateToleranceMs : end > now;
      if (stillRunning) due.push(a);
    }
    if (due.length > 0) this.emit('due', due.sort(byStart), now);
    this.#arm();
  }
}
