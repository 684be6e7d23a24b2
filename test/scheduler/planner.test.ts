import t, { type Test } from 'tap';
import { ManualClock } from '../../scheduler/clock.js';
import { Planner, type Airing, type PlanChange } from '../../scheduler/planner.js';
import { makeEntry, iso, utc } from './fixtures/entries.js';

const H = 3600_000;

function setup(t: Test, nowIso: string, opts: { horizonMs?: number; leadMs?: number } = {}) {
  const clock = new ManualClock(utc(nowIso));
  const planner = new Planner({ clock, timers: clock, horizonMs: opts.horizonMs ?? 36 * H, leadMs: opts.leadMs ?? 3000 });
  const changes: PlanChange[] = [];
  const due: { at: number; airings: Airing[] }[] = [];
  planner.on('change', (c) => changes.push(c));
  planner.on('due', (airings, at) => due.push({ at, airings }));
  t.teardown(() => planner.close());
  return { clock, planner, changes, due };
}

const morning = makeEntry({ id: 'morning', start: '2026-11-23T05:30', end: '06:00', recurrence: 'FREQ=DAILY' });
const evening = makeEntry({ id: 'evening', start: '2026-11-23T17:00', end: '17:30', recurrence: 'FREQ=DAILY' });

t.test('expands the window into airings with stable ids', async (t) => {
  const { planner } = setup(t, '2026-11-23T00:00Z'); // 07:00 local
  const change = planner.setEntries([morning, evening]);
  // Window: 6 h back to 36 h ahead = [22-Nov 18:00Z, 24-Nov 12:00Z).
  t.same(planner.airings().map((a) => a.airingId), [
    'morning@2026-11-22T22:30:00.000Z',
    'evening@2026-11-23T10:00:00.000Z',
    'morning@2026-11-23T22:30:00.000Z',
    'evening@2026-11-24T10:00:00.000Z',
  ]);
  t.equal(change.added.length, 4);
  const a = planner.airing('evening@2026-11-23T10:00:00.000Z')!;
  t.same(a, {
    airingId: 'evening@2026-11-23T10:00:00.000Z', entryId: 'evening', zoneIds: ['commune-a'],
    programme: { kind: 'media', mediaId: 'media-1' }, priority: 200,
    startUtcMs: utc('2026-11-23T10:00Z'), endUtcMs: utc('2026-11-23T10:30Z'), policy: 'cut-in',
  });
});

t.test('edits produce minimal diffs and leave other airings alone', async (t) => {
  const { planner, changes } = setup(t, '2026-11-23T00:00Z');
  planner.setEntries([morning, evening]);
  const before = new Map(planner.airings().map((a) => [a.airingId, a]));
  changes.length = 0;

  // Raise the evening programme's priority: two airings changed, nothing added or removed.
  const louder = makeEntry({ id: 'evening', start: '2026-11-23T17:00', end: '17:30', recurrence: 'FREQ=DAILY', priority: 300 });
  const c1 = planner.upsertEntry(louder);
  t.same(c1.added, []);
  t.same(c1.removed, []);
  t.same(c1.changed.map((c) => [c.before.priority, c.after.priority, c.after.airingId]), [
    [200, 300, 'evening@2026-11-23T10:00:00.000Z'],
    [200, 300, 'evening@2026-11-24T10:00:00.000Z'],
  ]);
  t.equal(changes.length, 1);
  // The morning airings are the very same objects.
  for (const a of planner.airings().filter((x) => x.entryId === 'morning')) t.equal(a, before.get(a.airingId));

  // Exclude tomorrow's morning: one removal only.
  const c2 = planner.upsertEntry(makeEntry({ id: 'morning', start: '2026-11-23T05:30', end: '06:00', recurrence: { rrule: 'FREQ=DAILY', exdates: ['2026-11-24'] } }));
  t.same(c2.removed.map((a) => a.airingId), ['morning@2026-11-23T22:30:00.000Z']);
  t.same([c2.added, c2.changed], [[], []]);

  // An edit that changes nothing the airings carry (another author) emits nothing.
  const n = changes.length;
  const c3 = planner.upsertEntry(makeEntry({ id: 'evening', start: '2026-11-23T17:00', end: '17:30', recurrence: 'FREQ=DAILY', priority: 300, createdBy: 'user-2' }));
  t.same(c3, { added: [], removed: [], changed: [] });
  t.equal(changes.length, n);

  // Moving the time: the old airings go, new ones come.
  const c4 = planner.upsertEntry(makeEntry({ id: 'evening', start: '2026-11-23T18:00', end: '18:30', recurrence: 'FREQ=DAILY', priority: 300 }));
  t.same(c4.removed.map((a) => iso(a.startUtcMs)), ['2026-11-23T10:00:00Z', '2026-11-24T10:00:00Z']);
  t.same(c4.added.map((a) => iso(a.startUtcMs)), ['2026-11-23T11:00:00Z', '2026-11-24T11:00:00Z']);

  const c5 = planner.removeEntry('evening');
  t.equal(c5.removed.length, 2);
  t.ok(planner.airings().every((a) => a.entryId === 'morning'));
});

t.test('an airing on air is untouched by an unrelated edit', async (t) => {
  // 05:40 local: this morning's 05:30-06:00 airing is on air.
  const { planner, due, clock } = setup(t, '2026-11-22T22:40Z');
  planner.setEntries([morning]);
  planner.start();
  const onAir = planner.whatShouldBeOnAirAt(clock.now());
  t.equal(onAir.length, 1);
  const airing = onAir[0].airing;
  const live = planner.airing(airing.airingId)!;
  // Unrelated: a new entry on another zone, and an edit to the same entry that only changes later days.
  const other = planner.upsertEntry(makeEntry({ id: 'other', zoneIds: ['commune-b'], start: '2026-11-23T05:45', durationMs: 60_000 }));
  t.ok(other.added.every((a) => a.entryId === 'other'));
  const later = planner.upsertEntry(makeEntry({ id: 'morning', start: '2026-11-23T05:30', end: '06:00', recurrence: 'FREQ=DAILY', validUntil: '2026-11-23' }));
  t.same(later.changed, []);
  t.same(later.added, []);
  t.same(later.removed.map((a) => a.airingId), ['morning@2026-11-23T22:30:00.000Z']);
  t.equal(planner.airing(airing.airingId), live, 'same object, not re-created');
  t.notOk(due.some((d) => d.airings.some((a) => a.airingId === airing.airingId)), 'not handed over again');
  // The edit that does touch it says so.
  const touching = planner.upsertEntry(makeEntry({ id: 'morning', start: '2026-11-23T05:30', end: '06:15', recurrence: 'FREQ=DAILY', validUntil: '2026-11-23' }));
  t.same(touching.changed.map((c) => [c.after.airingId, iso(c.after.endUtcMs!)]), [[airing.airingId, '2026-11-22T23:15:00Z']]);
});

t.test('hands airings over leadMs early, once, on the injected clock', async (t) => {
  const { planner, due, clock } = setup(t, '2026-11-22T22:00Z', { leadMs: 4000 });
  planner.setEntries([morning]);
  planner.start();
  t.same(planner.dueWithin(utc('2026-11-22T22:29:57Z'), 4000).map((a) => a.airingId), ['morning@2026-11-22T22:30:00.000Z']);
  t.same(planner.dueWithin(utc('2026-11-22T22:29:55Z'), 4000), []);
  clock.advanceTo(utc('2026-11-22T22:29:55.999Z'));
  t.equal(due.length, 0);
  clock.advance(1); // 22:29:56.000 = start - 4 s
  t.equal(due.length, 1);
  t.equal(iso(due[0].at), '2026-11-22T22:29:56Z');
  t.same(due[0].airings.map((a) => a.airingId), ['morning@2026-11-22T22:30:00.000Z']);
  clock.advance(10 * 60_000);
  t.equal(due.length, 1, 'handed over once');
  // Now 05:39:56 local. An edit adding an airing that starts in 2 s (< leadMs): handed over at once.
  planner.upsertEntry(makeEntry({ id: 'flash', start: '2026-11-23T05:39:58', durationMs: 60_000 }));
  t.same(due.at(-1)!.airings.map((a) => a.entryId), ['flash']);
  // Next day, via window slides (refresh timer).
  clock.advanceTo(utc('2026-11-23T22:29:56Z'));
  t.same(due.at(-1)!.airings.map((a) => a.airingId), ['morning@2026-11-23T22:30:00.000Z']);
  // The window has slid: two days later the plan still reaches 36 h ahead.
  clock.advanceTo(utc('2026-11-25T00:00Z'));
  t.ok(planner.window.toUtcMs >= utc('2026-11-26T11:45Z'));
  t.ok(planner.airings().some((a) => a.airingId === 'morning@2026-11-25T22:30:00.000Z'));
  t.notOk(planner.airings().some((a) => a.startUtcMs < utc('2026-11-24T18:00Z')), 'old airings forgotten');
  planner.close();
  t.equal(clock.pendingTimers, 0, 'close() leaves no timer');
});

t.test('window slide reports the new airings as added', async (t) => {
  const { planner, changes, clock } = setup(t, '2026-11-23T00:00Z', { horizonMs: 12 * H });
  planner.setEntries([morning]);
  planner.start();
  t.same(planner.airings().map((a) => iso(a.startUtcMs)), ['2026-11-22T22:30:00Z']);
  changes.length = 0;
  clock.advanceTo(utc('2026-11-23T11:00Z'));
  t.same(changes.flatMap((c) => c.added.map((a) => iso(a.startUtcMs))), ['2026-11-23T22:30:00Z']);
  t.same(changes.flatMap((c) => c.removed), []);
});

t.test('whatShouldBeOnAirAt gives airings in progress with their offset', async (t) => {
  const { planner } = setup(t, '2026-11-22T00:00Z');
  const relay = makeEntry({ id: 'relay', zoneIds: ['district'], programme: { kind: 'relay', url: 'http://vov.example/live' }, priority: 300, start: '2026-11-23T05:45', durationMs: 10 * 60_000 });
  const open = makeEntry({ id: 'open', start: '2026-11-23T05:00', recurrence: 'FREQ=DAILY' }); // no end: as long as the file
  const capped = makeEntry({ id: 'capped', start: '2026-11-23T04:00', maxDurationMs: H });
  planner.setEntries([morning, relay, open, capped]);
  // After a kill -9 at 05:50:30 local, recovery asks what should be on air.
  const now = utc('2026-11-22T22:50:30Z');
  const r = planner.whatShouldBeOnAirAt(now);
  t.same(r.map((x) => [x.airing.entryId, x.offsetMs]), [
    ['relay', 5 * 60_000 + 30_000], // highest priority first
    ['open', 50 * 60_000 + 30_000],
    ['morning', 20 * 60_000 + 30_000],
  ]);
  t.notOk(r.some((x) => x.airing.entryId === 'capped'), 'past its maxDurationMs');
  t.same(planner.whatShouldBeOnAirAt(utc('2026-11-22T23:00Z')).map((x) => x.airing.entryId), ['open'], 'ends are exclusive');
  // Works far outside the planned window too.
  t.same(planner.whatShouldBeOnAirAt(utc('2026-12-24T22:31Z')).map((x) => [x.airing.entryId, x.offsetMs]), [['open', 31 * 60_000], ['morning', 60_000]]);
});
