import t from 'tap';
import { monthlyStats } from '../../scheduler/monthly-stats.js';
import type { AsRunRow } from '../../scheduler/as-run.js';

const at = (s: string): number => Date.parse(s);
const r = (zoneId: string, key: string, kind: string, event: AsRunRow['event'], when: string, manual = false): AsRunRow => ({
  zoneId, programme: `chương trình ${key}`, programmeKind: kind, event, atUtcMs: at(when), by: manual ? 'user-7' : 'timetable',
  ...(manual ? { manualProgrammeId: key } : { entryId: key.split('@')[0], airingId: key }),
});

const rows: AsRunRow[] = [
  // Zone A, 24 Nov local morning: the file is preempted by an alert for 15 minutes, then resumes.
  r('A', 'm1@1', 'media', 'start', '2026-11-23T22:30:00Z'),
  r('A', 'm1@1', 'media', 'preempted', '2026-11-23T22:45:00Z'),
  r('A', 'alert-9', 'alert', 'start', '2026-11-23T22:45:00Z', true),
  r('A', 'alert-9', 'alert', 'end', '2026-11-23T23:00:00Z', true),
  r('A', 'm1@1', 'media', 'resumed', '2026-11-23T23:00:00Z'),
  r('A', 'm1@1', 'media', 'end', '2026-11-23T23:15:00Z'),
  // Zone A, a relay from 23:00 on 30 Nov to 01:00 on 1 Dec local: split at local midnight (17:00Z).
  r('A', 'relay@1', 'relay', 'start', '2026-11-30T16:00:00Z'),
  r('A', 'relay@1', 'relay', 'end', '2026-11-30T18:00:00Z'),
  // Zone B, December: a 90-minute playlist, given out of order.
  r('B', 'p1@1', 'playlist', 'end', '2026-12-02T03:30:00Z'),
  r('B', 'p1@1', 'playlist', 'start', '2026-12-02T02:00:00Z'),
  // Anomalies: an end with no start, and a start over an unclosed start (crash): the first is dropped.
  r('B', 'ghost@1', 'media', 'end', '2026-12-03T00:00:00Z'),
  r('B', 'm2@1', 'media', 'start', '2026-12-04T00:00:00Z'),
  r('B', 'm2@1', 'media', 'start', '2026-12-04T05:00:00Z'),
  r('B', 'm2@1', 'media', 'end', '2026-12-04T05:30:00Z'),
  // Still on air when the report is made.
  r('B', 'live@1', 'relay', 'start', '2026-12-05T00:00:00Z'),
];

t.test('hours per zone per month by kind', async (t) => {
  const report = monthlyStats(rows);
  t.same(report.stats, [
    { zoneId: 'A', month: '2026-11', hoursByKind: { media: 0.5, alert: 0.25, relay: 1 }, totalHours: 1.75 },
    { zoneId: 'A', month: '2026-12', hoursByKind: { relay: 1 }, totalHours: 1 },
    { zoneId: 'B', month: '2026-12', hoursByKind: { playlist: 1.5, media: 0.5 }, totalHours: 2 },
  ]);
  t.equal(report.anomalies, 2);
  t.equal(report.open, 1);
});

t.test('open intervals can be closed at the report time; months follow the chosen zone', async (t) => {
  const report = monthlyStats(rows, { openUntilUtcMs: at('2026-12-05T02:00:00Z') });
  t.equal(report.open, 0);
  t.same(report.stats.find((s) => s.zoneId === 'B')!.hoursByKind, { playlist: 1.5, media: 0.5, relay: 2 });
  // In UTC the relay of 30 Nov falls entirely in November.
  const utcReport = monthlyStats(rows, { timeZone: 'UTC' });
  t.same(utcReport.stats.filter((s) => s.zoneId === 'A').map((s) => [s.month, s.hoursByKind]), [['2026-11', { media: 0.5, alert: 0.25, relay: 2 }]]);
});
