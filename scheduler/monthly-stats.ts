/**
 * Hours on air per zone per month by programme kind, from as-run rows: the
 * basis of the yearly report.
 *
 * A programme is on air on a zone from its 'start' or 'resumed' row to its next
 * 'preempted' or 'end' row (paired by zone + airing/manual programme). An
 * interval that crosses a month boundary (in the report's time zone) is split.
 * Rows that do not pair up are counted as anomalies, never guessed at: an
 * interval left open by a crash (a new 'start' for the same programme before
 * its 'end') is dropped, because a proof of broadcast must not claim air time
 * it cannot show.
 */
import { Temporal } from 'temporal-polyfill';
import { asRunProgrammeKey, type AsRunRow } from './as-run.js';
import { DEFAULT_TIME_ZONE } from './local-time.js';

export interface MonthlyZoneStats {
  zoneId: string;
  /** 'YYYY-MM' in the report's time zone. */
  month: string;
  /** Hours on air by programme kind. */
  hoursByKind: Record<string, number>;
  totalHours: number;
}

export interface MonthlyStatsOptions {
  /** Months are calendar months of this zone. Default Asia/Ho_Chi_Minh. */
  timeZone?: string;
  /** Close intervals still open at this instant (a report made while programmes are on air); otherwise they are left out. */
  openUntilUtcMs?: number;
}

export interface MonthlyStatsReport {
  stats: MonthlyZoneStats[];
  /** Rows that did not pair up: 'preempted'/'end' without an open interval, or a start over an open one. */
  anomalies: number;
  /** Intervals still open at the end of the rows (and not closed by openUntilUtcMs). */
  open: number;
}

const HOUR_MS = 3_600_000;

function monthOf(utcMs: number, timeZone: string): Temporal.PlainYearMonth {
  return Temporal.Instant.fromEpochMilliseconds(utcMs).toZonedDateTimeISO(timeZone).toPlainDate().toPlainYearMonth();
}

function monthStartUtcMs(ym: Temporal.PlainYearMonth, timeZone: string): number {
  return ym.toPlainDate({ day: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds;
}

export function monthlyStats(rows: readonly AsRunRow[], options: MonthlyStatsOptions = {}): MonthlyStatsReport {
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  // Stable sort by time keeps the journal's order for rows of the same instant.
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.atUtcMs - b.r.atUtcMs || a.i - b.i);
  const openSince = new Map<string, { row: AsRunRow; at: number }>();
  const totals = new Map<string, MonthlyZoneStats>();
  let anomalies = 0;

  const add = (zoneId: string, kind: string, from: number, to: number): void => {
    let cursor = from;
    while (cursor < to) {
      const ym = monthOf(cursor, timeZone);
      const monthEnd = monthStartUtcMs(ym.add({ months: 1 }), timeZone);
      const until = Math.min(to, monthEnd);
      const key = `${zoneId}\u0000${ym.toString()}`;
      let s = totals.get(key);
      if (!s) totals.set(key, (s = { zoneId, month: ym.toString(), hoursByKind: {}, totalHours: 0 }));
      const hours = (until - cursor) / HOUR_MS;
      s.hoursByKind[kind] = (s.hoursByKind[kind] ?? 0) + hours;
      s.totalHours += hours;
      cursor = until;
    }
  };

  for (const { r } of sorted) {
    const key = asRunProgrammeKey(r);
    const open = openSince.get(key);
    if (r.event === 'start' || r.event === 'resumed') {
      if (open) anomalies++; // the earlier interval never closed: drop it
      openSince.set(key, { row: r, at: r.atUtcMs });
    } else {
      if (!open) {
        anomalies++;
        continue;
      }
      openSince.delete(key);
      add(r.zoneId, open.row.programmeKind, open.at, r.atUtcMs);
    }
  }
  let stillOpen = 0;
  for (const open of openSince.values()) {
    if (options.openUntilUtcMs !== undefined && options.openUntilUtcMs > open.at) {
      add(open.row.zoneId, open.row.programmeKind, open.at, options.openUntilUtcMs);
    } else {
      stillOpen++;
    }
  }
  const stats = [...totals.values()].sort((a, b) => (a.zoneId < b.zoneId ? -1 : a.zoneId > b.zoneId ? 1 : a.month < b.month ? -1 : a.month > b.month ? 1 : 0));
  return { stats, anomalies, open: stillOpen };
}
