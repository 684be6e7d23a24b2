// One table of "who gets the air" drives both places that apply the rule: the media plane's
// arbiter, frame by frame, and the timetable conflict report, on planned airings. If either
// stopped using domain/priority.ts's rule, a row would fail there.
import t from 'tap';
import { PRIORITY, type PriorityName } from '../../domain/priority.js';
import { findConflicts } from '../../scheduler/conflicts.js';
import { harness, TREE } from '../engine/helpers.js';
import { makeEntry } from '../scheduler/fixtures/entries.js';

const RULE: Array<[onAir: PriorityName, later: PriorityName, winner: 'on-air' | 'later']> = [
  ['normal', 'priority', 'later'],
  ['priority', 'normal', 'on-air'],
  ['normal', 'normal', 'on-air'],
  ['priority', 'priority', 'on-air'],
  ['live', 'live', 'on-air'],
  ['live', 'emergency', 'later'],
  ['emergency', 'live', 'on-air'],
  ['emergency', 'emergency', 'later'], // a stuck microphone must never block an alert
  ['background', 'emergency', 'later'],
];

for (const [onAir, later, winner] of RULE) {
  t.test(`${onAir} on air, then ${later}: ${winner} wins`, async (t) => {
    // The arbiter: 'first' is on air in v1 when 'second' arrives.
    const h = await harness();
    t.teardown(() => h.plane.close());
    h.plane.handle({ type: 'play', programmeId: 'first', zones: ['c1'], priority: PRIORITY[onAir], source: { kind: 'tone', freqHz: 440 } });
    h.frames(5);
    h.plane.handle({ type: 'play', programmeId: 'second', zones: ['v1'], priority: PRIORITY[later], source: { kind: 'tone', freqHz: 880 } });
    h.frames(5);
    t.equal(h.plane.arbiter.buses.get('v1')!.onAir, winner === 'later' ? 'second' : 'first', 'arbiter');

    // The conflict report: the same two as timetable airings, 'second' starting 10 minutes later.
    const first = makeEntry({ id: 'first', zoneIds: ['c1'], priority: PRIORITY[onAir], start: '2026-11-24T07:00', durationMs: 30 * 60_000 });
    const second = makeEntry({ id: 'second', zoneIds: ['v1'], priority: PRIORITY[later], start: '2026-11-24T07:10', durationMs: 5 * 60_000 });
    const { overlaps } = findConflicts({ entries: [first], candidate: second, zones: TREE, fromUtcMs: Date.UTC(2026, 10, 23, 17), toUtcMs: Date.UTC(2026, 10, 24, 17) });
    t.equal(overlaps.length, 1);
    t.equal(overlaps[0].winnerEntryId, winner === 'later' ? 'second' : 'first', 'conflict report');
  });
}
