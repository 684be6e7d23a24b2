import t from 'tap';
import { findConflicts, type ZoneNode } from '../../scheduler/conflicts.js';
import { makeEntry, iso, utc } from './fixtures/entries.js';

// province > district > communes A (villages A1, A2) and B (village B1)
const zones: ZoneNode[] = [
  { id: 'P', parentId: null },
  { id: 'D', parentId: 'P' },
  { id: 'A', parentId: 'D' },
  { id: 'A1', parentId: 'A' },
  { id: 'A2', parentId: 'A' },
  { id: 'B', parentId: 'D' },
  { id: 'B1', parentId: 'B' },
];
const day = { fromUtcMs: utc('2026-11-23T17:00Z'), toUtcMs: utc('2026-11-24T17:00Z') }; // 24 Nov, local day

const morning = makeEntry({ id: 'morning', zoneIds: ['A'], start: '2026-11-23T05:30', end: '06:00', recurrence: 'FREQ=DAILY' });
const bulletin = makeEntry({ id: 'bulletin', zoneIds: ['D'], priority: 300, start: '2026-11-24T05:45', end: '06:15' });
const notice = makeEntry({ id: 'notice', zoneIds: ['A1'], policy: 'wait', start: '2026-11-24T05:50', durationMs: 10 * 60_000 });
const equal = makeEntry({ id: 'equal', zoneIds: ['A2'], start: '2026-11-24T05:40', durationMs: 5 * 60_000 });
const elsewhere = makeEntry({ id: 'elsewhere', zoneIds: ['B1'], start: '2026-11-24T05:30', durationMs: 60 * 60_000 });

t.test('overlaps with winners, per zone, with preemption and shifted times', async (t) => {
  const { overlaps } = findConflicts({ entries: [morning, bulletin, notice, equal, elsewhere], zones, ...day });
  const view = overlaps.map((o) => ({
    pair: `${o.first.entryId}/${o.second.entryId}`,
    zones: o.zoneIds,
    leaves: o.leafZoneIds,
    from: iso(o.fromUtcMs),
    to: iso(o.toUtcMs),
    winner: o.winnerEntryId,
    outcome: o.outcome,
    shifted: o.shiftedStartUtcMs !== undefined ? iso(o.shiftedStartUtcMs) : undefined,
    resumes: o.resumesAtUtcMs !== undefined ? iso(o.resumesAtUtcMs) : undefined,
  }));
  t.same(view, [
    // Equal priority: the morning programme, on air first, keeps the air; the other gets it at 06:00.
    { pair: 'morning/equal', zones: ['A2'], leaves: ['A2'], from: '2026-11-23T22:40:00Z', to: '2026-11-23T22:45:00Z', winner: 'morning', outcome: 'held', shifted: '2026-11-23T23:00:00Z', resumes: undefined },
    // The district bulletin (higher priority, on the whole district) cuts into commune B's village and all of commune A.
    { pair: 'elsewhere/bulletin', zones: ['B1'], leaves: ['B1'], from: '2026-11-23T22:45:00Z', to: '2026-11-23T23:15:00Z', winner: 'bulletin', outcome: 'preempts', shifted: undefined, resumes: '2026-11-23T23:15:00Z' },
    { pair: 'morning/bulletin', zones: ['A'], leaves: ['A1', 'A2'], from: '2026-11-23T22:45:00Z', to: '2026-11-23T23:00:00Z', winner: 'bulletin', outcome: 'preempts', shifted: undefined, resumes: '2026-11-23T23:15:00Z' },
    // The village notice with policy 'wait' is shifted after each airing it meets.
    { pair: 'bulletin/notice', zones: ['A1'], leaves: ['A1'], from: '2026-11-23T22:50:00Z', to: '2026-11-23T23:00:00Z', winner: 'bulletin', outcome: 'waits', shifted: '2026-11-23T23:15:00Z', resumes: undefined },
    { pair: 'morning/notice', zones: ['A1'], leaves: ['A1'], from: '2026-11-23T22:50:00Z', to: '2026-11-23T23:00:00Z', winner: 'morning', outcome: 'waits', shifted: '2026-11-23T23:00:00Z', resumes: undefined },
  ]);
});

t.test('a candidate: only its own overlaps, replacing its older version', async (t) => {
  // Moving the notice to 06:20 clears it; a higher-priority 'wait' candidate waits for the bulletin.
  const moved = makeEntry({ id: 'notice', zoneIds: ['A1'], policy: 'wait', start: '2026-11-24T06:20', durationMs: 10 * 60_000 });
  t.same(findConflicts({ entries: [morning, bulletin, notice], candidate: moved, zones, ...day }).overlaps, []);
  const urgent = makeEntry({ id: 'urgent', zoneIds: ['A'], priority: 400, policy: 'wait', start: '2026-11-24T06:00', durationMs: 5 * 60_000 });
  const r = findConflicts({ entries: [morning, bulletin, notice], candidate: urgent, zones, ...day }).overlaps;
  t.same(r.map((o) => [o.first.entryId, o.second.entryId, o.outcome, iso(o.shiftedStartUtcMs!), o.zoneIds]), [
    ['bulletin', 'urgent', 'waits', '2026-11-23T23:15:00Z', ['A']],
  ]);
  // Same start, equal priority: what is already in the timetable keeps the air.
  const twin = makeEntry({ id: 'twin', zoneIds: ['A1'], start: '2026-11-24T05:30', durationMs: 10 * 60_000 });
  const tw = findConflicts({ entries: [morning], candidate: twin, zones, ...day }).overlaps;
  t.same(tw.map((o) => [o.winnerEntryId, o.outcome, iso(o.shiftedStartUtcMs!)]), [['morning', 'held', '2026-11-23T23:00:00Z']]);
  // Among emergencies the newest wins, as in the arbiter (test/domain/arbitration-rule.test.ts has the whole rule).
  const alertA = makeEntry({ id: 'alertA', zoneIds: ['A'], priority: 500, start: '2026-11-24T07:00', durationMs: 20 * 60_000 });
  const alertB = makeEntry({ id: 'alertB', zoneIds: ['A1'], priority: 500, start: '2026-11-24T07:10', durationMs: 5 * 60_000 });
  const em = findConflicts({ entries: [alertA], candidate: alertB, zones, ...day }).overlaps;
  t.same(em.map((o) => [o.winnerEntryId, o.outcome, iso(o.resumesAtUtcMs!)]), [['alertB', 'preempts', '2026-11-24T00:15:00Z']]);
});

t.test('an airing without an end is assumed to last its cap or the default', async (t) => {
  const open = makeEntry({ id: 'open', zoneIds: ['B'], start: '2026-11-24T05:00' });
  const later = makeEntry({ id: 'later', zoneIds: ['B1'], start: '2026-11-24T05:20', durationMs: 60_000 });
  const r1 = findConflicts({ entries: [open, later], zones, ...day }).overlaps;
  t.equal(r1.length, 1);
  t.equal(r1[0].first.endAssumed, true);
  t.equal(iso(r1[0].first.endUtcMs), '2026-11-23T22:30:00Z'); // 30 min default
  t.same(findConflicts({ entries: [open, later], zones, defaultDurationMs: 10 * 60_000, ...day }).overlaps, []);
});
