/**
 * Expanding a timetable entry into the UTC instants it airs at.
 *
 * The rule is expanded in wall-clock time (rrule-temporal over a zone without
 * daylight saving, i.e. "floating" local time) and every wall-clock result is
 * then placed in the entry's zone by local-time.ts's single gap/overlap rule.
 * Why not let rrule-temporal expand in the real zone: it follows RFC 5545
 * §3.3.10 and silently drops generated times that fall in a DST gap, and a
 * commune's daily programme must not vanish once a year. Instead 02:30 on a
 * spring-forward night airs at 03:30 (shifted by the gap), and 01:30 on a
 * fall-back night airs once, at the first 01:30 (RFC 5545 §3.3.5).
 */
import { Temporal } from 'temporal-polyfill';
import { RRuleTemporal } from 'rrule-temporal';
import { parseLocalDate, parseLocalDateTime, parseLocalTime, plainToUtcMs } from './local-time.js';
import { parseRRule } from './rrule.js';
import type { TimetableEntry } from './timetable-entry.js';

export interface Occurrence {
  entryId: string;
  /** Instant of the rule's occurrence (the first of its repeats). */
  occurrenceUtcMs: number;
  /** 0 for the occurrence itself, 1… for its repeats. */
  repeatIndex: number;
  startUtcMs: number;
  /** null when the entry has neither duration nor end: it lasts as long as its programme. */
  endUtcMs: number | null;
  /** Wall-clock time of the rule's occurrence in the entry's zone, 'YYYY-MM-DDTHH:mm:ss'. */
  localStart: string;
}

const DAY_MS = 86_400_000;
/** Wall time is at most ±14 h (+ a DST hour) away from UTC: two days of margin covers every zone. */
const FLOATING_MARGIN_MS = 2 * DAY_MS;
const FIRST_OCCURRENCE_SEARCH_STEPS = 5000;

interface Compiled {
  start: Temporal.PlainDateTime;
  rule: RRuleTemporal<Temporal.ZonedDateTime> | null;
  /** Occurrences after this instant are cut by UNTIL (utc or local date-time form). */
  untilUtcMs: number | null;
  /** Occurrences on local dates after this are cut by UNTIL (date form). */
  untilDate: Temporal.PlainDate | null;
  exTimes: Set<string>;
  exDates: Set<string>;
  rdates: Temporal.PlainDateTime[];
  validFrom: Temporal.PlainDate | null;
  validUntil: Temporal.PlainDate | null;
  /** Wall-clock length from start to end, when the entry has an end. */
  wallSpan: Temporal.Duration | null;
  repeatCount: number;
  repeatIntervalMs: number;
}

const compiledCache = new WeakMap<TimetableEntry, Compiled>();

/** Wall-clock fields read as if they were UTC: the floating time line the rule is expanded on. */
function floatingMs(p: Temporal.PlainDateTime): number {
  return p.toZonedDateTime('UTC').epochMilliseconds;
}

function compile(entry: TimetableEntry): Compiled {
  let c = compiledCache.get(entry);
  if (c) return c;
  const start = parseLocalDateTime(entry.start);
  if (start === null) throw new RangeError(`entry ${entry.id}: start is not a local date-time (validate entries first)`);
  let rule: Compiled['rule'] = null;
  let untilUtcMs: number | null = null;
  let untilDate: Temporal.PlainDate | null = null;
  const exTimes = new Set<string>();
  const exDates = new Set<string>();
  const rdates: Temporal.PlainDateTime[] = [];
  if (entry.recurrence !== null) {
    const parsed = parseRRule(entry.recurrence.rrule);
    if (!parsed.ok) throw new RangeError(`entry ${entry.id}: ${parsed.errors.join('; ')}`);
    rule = new RRuleTemporal({
      rruleString: parsed.rule.ruleWithoutUntil,
      dtstart: start.toZonedDateTime('UTC'),
      temporal: Temporal,
    });
    const u = parsed.rule.until;
    if (u?.kind === 'utc') untilUtcMs = u.utcMs;
    else if (u?.kind === 'local') untilUtcMs = plainToUtcMs(parseLocalDateTime(u.local)!, entry.timeZone);
    else if (u?.kind === 'date') untilDate = parseLocalDate(u.date);
    for (const x of entry.recurrence.exdates) {
      const dt = parseLocalDateTime(x);
      if (dt !== null) exTimes.add(dt.toString());
      else if (parseLocalDate(x) !== null) exDates.add(parseLocalDate(x)!.toString());
    }
    for (const x of entry.recurrence.rdates) {
      const dt = parseLocalDateTime(x);
      if (dt !== null) rdates.push(dt);
    }
  }
  let wallSpan: Temporal.Duration | null = null;
  if (entry.end !== null) {
    const t = parseLocalTime(entry.end);
    const dt = parseLocalDateTime(entry.end);
    if (t !== null) wallSpan = t.since(start.toPlainTime(), { largestUnit: 'hour' });
    else if (dt !== null) wallSpan = dt.since(start, { largestUnit: 'hour' });
  }
  c = {
    start,
    rule,
    untilUtcMs,
    untilDate,
    exTimes,
    exDates,
    rdates,
    validFrom: entry.validFrom !== null ? parseLocalDate(entry.validFrom) : null,
    validUntil: entry.validUntil !== null ? parseLocalDate(entry.validUntil) : null,
    wallSpan,
    repeatCount: entry.repeat?.count ?? 1,
    repeatIntervalMs: entry.repeat?.intervalMs ?? 0,
  };
  compiledCache.set(entry, c);
  return c;
}

/** Checks that do not depend on the zone: EXDATE, validity dates, UNTIL in date form. */
function keepsWallTime(c: Compiled, p: Temporal.PlainDateTime): boolean {
  if (c.exTimes.has(p.toString())) return false;
  const date = p.toPlainDate();
  if (c.exDates.size > 0 && c.exDates.has(date.toString())) return false;
  if (c.validFrom !== null && Temporal.PlainDate.compare(date, c.validFrom) < 0) return false;
  if (c.validUntil !== null && Temporal.PlainDate.compare(date, c.validUntil) > 0) return false;
  if (c.untilDate !== null && Temporal.PlainDate.compare(date, c.untilDate) > 0) return false;
  return true;
}

/** Wall-clock occurrences (rule + RDATE − EXDATE, validity applied) with floating time in [fromF, toF]. */
function wallOccurrences(c: Compiled, fromF: number, toF: number): Temporal.PlainDateTime[] {
  const byKey = new Map<string, Temporal.PlainDateTime>();
  if (c.rule === null) {
    const f = floatingMs(c.start);
    if (f >= fromF && f <= toF) byKey.set(c.start.toString(), c.start);
  } else {
    let found: Temporal.ZonedDateTime[];
    try {
      found = c.rule.between(new Date(fromF), new Date(toF), true);
    } catch (err) {
      // Same "never matches" give-up as in ruleNext; validation refuses such rules, so only old data gets here.
      if (err instanceof Error && /Maximum (iterations|candidate)/i.test(err.message)) found = [];
      else throw err;
    }
    for (const z of found) {
      const p = z.toPlainDateTime();
      byKey.set(p.toString(), p);
    }
    for (const p of c.rdates) {
      const f = floatingMs(p);
      if (f >= fromF && f <= toF) byKey.set(p.toString(), p);
    }
  }
  const out: Temporal.PlainDateTime[] = [];
  for (const p of byKey.values()) if (keepsWallTime(c, p)) out.push(p);
  out.sort(Temporal.PlainDateTime.compare);
  return out;
}

function endFor(c: Compiled, entry: TimetableEntry, wall: Temporal.PlainDateTime, startUtcMs: number): number | null {
  if (entry.durationMs !== null) return startUtcMs + entry.durationMs;
  if (c.wallSpan === null) return null;
  const end = plainToUtcMs(wall.add(c.wallSpan), entry.timeZone);
  // A span that the zone's clock change folds to nothing still lasts its wall length.
  return end > startUtcMs ? end : startUtcMs + c.wallSpan.total('milliseconds');
}

/**
 * Occurrences of an entry (repeats included) whose start lies in [fromUtcMs, toUtcMs), in start order.
 * A disabled entry has none.
 */
export function expandEntry(entry: TimetableEntry, fromUtcMs: number, toUtcMs: number): Occurrence[] {
  if (!entry.enabled || toUtcMs <= fromUtcMs) return [];
  const c = compile(entry);
  const repeatSpanMs = (c.repeatCount - 1) * c.repeatIntervalMs;
  const walls = wallOccurrences(c, fromUtcMs - repeatSpanMs - FLOATING_MARGIN_MS, toUtcMs + FLOATING_MARGIN_MS);
  const out: Occurrence[] = [];
  for (const wall of walls) {
    const occurrenceUtcMs = plainToUtcMs(wall, entry.timeZone);
    if (c.untilUtcMs !== null && occurrenceUtcMs > c.untilUtcMs) continue;
    const baseEnd = endFor(c, entry, wall, occurrenceUtcMs);
    for (let i = 0; i < c.repeatCount; i++) {
      const startUtcMs = occurrenceUtcMs + i * c.repeatIntervalMs;
      if (startUtcMs < fromUtcMs || startUtcMs >= toUtcMs) continue;
      out.push({
        entryId: entry.id,
        occurrenceUtcMs,
        repeatIndex: i,
        startUtcMs,
        endUtcMs: baseEnd === null ? null : baseEnd + i * c.repeatIntervalMs,
        localStart: wall.toString(),
      });
    }
  }
  // Repeats of one occurrence may interleave with the next occurrence.
  out.sort((a, b) => a.startUtcMs - b.startUtcMs || a.repeatIndex - b.repeatIndex);
  return out;
}

/**
 * The first instant the entry airs (ignoring `enabled`), or null when it never does:
 * used by validation to refuse rules that can never fire.
 */
export function firstOccurrenceUtcMs(entry: TimetableEntry): number | null {
  const c = compile(entry);
  const accept = (p: Temporal.PlainDateTime): number | null => {
    if (!keepsWallTime(c, p)) return null;
    const utc = plainToUtcMs(p, entry.timeZone);
    return c.untilUtcMs !== null && utc > c.untilUtcMs ? null : utc;
  };
  if (c.rule === null) return accept(c.start);
  let best: number | null = null;
  for (const p of c.rdates) {
    const u = accept(p);
    if (u !== null && (best === null || u < best)) best = u;
  }
  let cursor = c.start;
  if (c.validFrom !== null) {
    const fromStart = c.validFrom.toPlainDateTime();
    if (Temporal.PlainDateTime.compare(fromStart, cursor) > 0) cursor = fromStart;
  }
  let next = ruleNext(c.rule, cursor.toZonedDateTime('UTC'), true);
  for (let i = 0; next !== null && i < FIRST_OCCURRENCE_SEARCH_STEPS; i++) {
    const p = next.toPlainDateTime();
    const u = accept(p);
    if (u !== null) return best === null ? u : Math.min(best, u);
    const date = p.toPlainDate();
    const pastValidity =
      (c.validUntil !== null && Temporal.PlainDate.compare(date, c.validUntil) > 0) ||
      (c.untilDate !== null && Temporal.PlainDate.compare(date, c.untilDate) > 0) ||
      (c.untilUtcMs !== null && floatingMs(p) > c.untilUtcMs + FLOATING_MARGIN_MS);
    if (pastValidity) break;
    next = ruleNext(c.rule, next, false);
  }
  return best;
}

/** rrule-temporal gives up with an error on rules that never match (BYMONTH=2;BYMONTHDAY=30): that means "none". */
function ruleNext(rule: RRuleTemporal<Temporal.ZonedDateTime>, after: Temporal.ZonedDateTime, inc: boolean): Temporal.ZonedDateTime | null {
  try {
    return rule.next(after, inc);
  } catch (err) {
    if (err instanceof Error && /Maximum (iterations|candidate)/i.test(err.message)) return null;
    throw err;
  }
}
