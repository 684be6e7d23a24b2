import t from 'tap';
import { expandEntry } from '../../scheduler/recurrence.js';
import { makeEntry, iso, utc } from './fixtures/entries.js';

const starts = (e: Parameters<typeof expandEntry>[0], from: string, to: string): string[] =>
  expandEntry(e, utc(from), utc(to)).map((o) => iso(o.startUtcMs));

t.test('daily at 05:30 and 17:00 in Asia/Ho_Chi_Minh: exact UTC instants', async (t) => {
  const morning = makeEntry({ id: 'm', start: '2026-11-23T05:30', end: '06:00', recurrence: 'FREQ=DAILY' });
  const occ = expandEntry(morning, utc('2026-11-22T00:00Z'), utc('2026-11-25T00:00Z'));
  // 05:30 ICT (+07:00) is 22:30Z the day before.
  t.same(occ.map((o) => iso(o.startUtcMs)), ['2026-11-22T22:30:00Z', '2026-11-23T22:30:00Z', '2026-11-24T22:30:00Z']);
  t.same(occ.map((o) => iso(o.endUtcMs!)), ['2026-11-22T23:00:00Z', '2026-11-23T23:00:00Z', '2026-11-24T23:00:00Z']);
  t.equal(occ[1].localStart, '2026-11-24T05:30:00');
  const evening = makeEntry({ id: 'e', start: '2026-11-23T17:00', durationMs: 30 * 60_000, recurrence: 'FREQ=DAILY' });
  t.same(starts(evening, '2026-11-23T00:00Z', '2026-11-25T00:00Z'), ['2026-11-23T10:00:00Z', '2026-11-24T10:00:00Z']);
  // The window is half-open on the start instant.
  t.same(starts(morning, '2026-11-22T22:30Z', '2026-11-23T22:30Z'), ['2026-11-22T22:30:00Z']);
  // Nothing before the start date.
  t.same(starts(morning, '2026-11-01T00:00Z', '2026-11-22T00:00Z'), []);
});

t.test('weekdays, weekly BYDAY and two times a day', async (t) => {
  const weekdays = makeEntry({ id: 'w', start: '2026-11-23T05:30', recurrence: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' });
  // Mon 23 Nov 2026 .. Sun 6 Dec: ten weekdays.
  const got = starts(weekdays, '2026-11-22T00:00Z', '2026-12-06T17:00Z');
  t.equal(got.length, 10);
  t.same(got.slice(0, 6), [
    '2026-11-22T22:30:00Z', '2026-11-23T22:30:00Z', '2026-11-24T22:30:00Z', '2026-11-25T22:30:00Z', '2026-11-26T22:30:00Z',
    '2026-11-29T22:30:00Z', // Monday 30 Nov local
  ]);
  const bulletin = makeEntry({ id: 'b', start: '2026-11-23T19:00', recurrence: 'FREQ=WEEKLY;BYDAY=MO' });
  t.same(starts(bulletin, '2026-11-20T00:00Z', '2026-12-08T00:00Z'), ['2026-11-23T12:00:00Z', '2026-11-30T12:00:00Z', '2026-12-07T12:00:00Z']);
  const twice = makeEntry({ id: 't', start: '2026-11-23T05:30', recurrence: 'FREQ=DAILY;BYHOUR=5,17;BYMINUTE=30' });
  t.same(starts(twice, '2026-11-22T00:00Z', '2026-11-24T12:00Z'), ['2026-11-22T22:30:00Z', '2026-11-23T10:30:00Z', '2026-11-23T22:30:00Z', '2026-11-24T10:30:00Z']);
});

t.test('monthly by weekday: first Monday and last Friday', async (t) => {
  const firstMonday = makeEntry({ id: 'fm', start: '2026-11-23T08:00', recurrence: 'FREQ=MONTHLY;BYDAY=1MO' });
  t.same(starts(firstMonday, '2026-11-01T00:00Z', '2027-02-01T00:00Z'), ['2026-12-07T01:00:00Z', '2027-01-04T01:00:00Z']);
  const lastFriday = makeEntry({ id: 'lf', start: '2026-11-23T08:00', recurrence: 'FREQ=MONTHLY;BYDAY=-1FR' });
  t.same(starts(lastFriday, '2026-11-01T00:00Z', '2027-02-01T00:00Z'), ['2026-11-27T01:00:00Z', '2026-12-25T01:00:00Z', '2027-01-29T01:00:00Z']);
});

t.test('EXDATE (one occurrence or a whole day) and RDATE', async (t) => {
  const e = makeEntry({
    id: 'x',
    start: '2026-11-23T05:30',
    recurrence: { rrule: 'FREQ=DAILY;BYHOUR=5,17;BYMINUTE=30', exdates: ['2026-11-24T17:30', '2026-11-25'], rdates: ['2026-11-25T12:00'] },
  });
  t.same(starts(e, '2026-11-23T00:00Z', '2026-11-26T00:00Z'), [
    '2026-11-23T10:30:00Z', // 23rd 17:30
    '2026-11-23T22:30:00Z', // 24th 05:30; 24th 17:30 excluded
    // 25th: the whole day is excluded, its RDATE at 12:00 included
    '2026-11-25T22:30:00Z', // 26th 05:30
  ]);
  // An RDATE on a day that is not excluded is added.
  const r = makeEntry({ id: 'r', start: '2026-11-23T05:30', recurrence: { rrule: 'FREQ=WEEKLY;BYDAY=MO', rdates: ['2026-11-27T09:00'] } });
  t.same(starts(r, '2026-11-22T00:00Z', '2026-12-01T00:00Z'), ['2026-11-22T22:30:00Z', '2026-11-27T02:00:00Z', '2026-11-29T22:30:00Z']);
});

t.test('COUNT and UNTIL', async (t) => {
  const count = makeEntry({ id: 'c', start: '2026-11-23T05:30', recurrence: 'FREQ=DAILY;COUNT=3' });
  t.same(starts(count, '2026-11-20T00:00Z', '2026-12-31T00:00Z'), ['2026-11-22T22:30:00Z', '2026-11-23T22:30:00Z', '2026-11-24T22:30:00Z']);
  // A window that starts mid-way still counts from the first occurrence.
  t.same(starts(count, '2026-11-24T00:00Z', '2026-12-31T00:00Z'), ['2026-11-24T22:30:00Z']);
  // UNTIL in UTC: 2026-11-25T22:30Z is the 26th at 05:30 local, included.
  const untilUtc = makeEntry({ id: 'u', start: '2026-11-23T05:30', recurrence: 'FREQ=DAILY;UNTIL=20261125T223000Z' });
  t.equal(starts(untilUtc, '2026-11-20T00:00Z', '2026-12-31T00:00Z').at(-1), '2026-11-25T22:30:00Z');
  t.equal(starts(untilUtc, '2026-11-20T00:00Z', '2026-12-31T00:00Z').length, 4);
  // UNTIL as a date: every occurrence on that local day, inclusive.
  const untilDate = makeEntry({ id: 'd', start: '2026-11-23T17:00', recurrence: 'FREQ=DAILY;UNTIL=20261125' });
  t.same(starts(untilDate, '2026-11-20T00:00Z', '2026-12-31T00:00Z'), ['2026-11-23T10:00:00Z', '2026-11-24T10:00:00Z', '2026-11-25T10:00:00Z']);
});

t.test('validity window, one-off, repeat, disabled', async (t) => {
  const valid = makeEntry({ id: 'v', start: '2026-11-23T05:30', recurrence: 'FREQ=DAILY', validFrom: '2026-11-25', validUntil: '2026-11-26' });
  t.same(starts(valid, '2026-11-20T00:00Z', '2026-12-31T00:00Z'), ['2026-11-24T22:30:00Z', '2026-11-25T22:30:00Z']);
  const oneOff = makeEntry({ id: 'o', start: '2026-11-27T09:00' });
  t.same(starts(oneOff, '2026-11-20T00:00Z', '2026-12-31T00:00Z'), ['2026-11-27T02:00:00Z']);
  const repeated = makeEntry({ id: 'rep', start: '2026-11-27T09:00', durationMs: 120_000, repeat: { count: 3, intervalMs: 600_000 } });
  const occ = expandEntry(repeated, utc('2026-11-27T00:00Z'), utc('2026-11-28T00:00Z'));
  t.same(occ.map((o) => [iso(o.startUtcMs), iso(o.endUtcMs!), o.repeatIndex]), [
    ['2026-11-27T02:00:00Z', '2026-11-27T02:02:00Z', 0],
    ['2026-11-27T02:10:00Z', '2026-11-27T02:12:00Z', 1],
    ['2026-11-27T02:20:00Z', '2026-11-27T02:22:00Z', 2],
  ]);
  t.ok(occ.every((o) => o.occurrenceUtcMs === utc('2026-11-27T02:00Z')));
  // A window starting after the occurrence still sees its later repeats.
  t.same(starts(repeated, '2026-11-27T02:05Z', '2026-11-28T00:00Z'), ['2026-11-27T02:10:00Z', '2026-11-27T02:20:00Z']);
  const disabled = makeEntry({ id: 'off', start: '2026-11-23T05:30', recurrence: 'FREQ=DAILY', enabled: false });
  t.same(starts(disabled, '2026-11-20T00:00Z', '2026-12-31T00:00Z'), []);
});

t.test('DST in Europe/Berlin: spring gap shifts forward, autumn overlap takes the first', async (t) => {
  // 29 Mar 2026: 02:00 CET -> 03:00 CEST. 25 Oct 2026: 03:00 CEST -> 02:00 CET.
  const e = makeEntry({ id: 'de', timeZone: 'Europe/Berlin', start: '2026-03-20T02:30', durationMs: 600_000, recurrence: 'FREQ=DAILY' });
  t.same(starts(e, '2026-03-27T12:00Z', '2026-03-31T00:00Z'), [
    '2026-03-28T01:30:00Z', // 02:30 CET
    '2026-03-29T01:30:00Z', // 02:30 does not exist: aired at 03:30 CEST (shifted by the 1 h gap)
    '2026-03-30T00:30:00Z', // 02:30 CEST
  ]);
  t.same(starts(e, '2026-10-23T12:00Z', '2026-10-27T00:00Z'), [
    '2026-10-24T00:30:00Z', // 02:30 CEST
    '2026-10-25T00:30:00Z', // 02:30 happens twice: the first (CEST), aired once
    '2026-10-26T01:30:00Z', // 02:30 CET
  ]);
  // An end time across the autumn change keeps its wall-clock meaning: 01:30 CEST .. 03:30 CET is 3 real hours.
  const long = makeEntry({ id: 'de2', timeZone: 'Europe/Berlin', start: '2026-10-20T01:30', end: '03:30', recurrence: 'FREQ=DAILY' });
  const [o] = expandEntry(long, utc('2026-10-24T22:00Z'), utc('2026-10-25T22:00Z'));
  t.equal(iso(o.startUtcMs), '2026-10-24T23:30:00Z');
  t.equal(iso(o.endUtcMs!), '2026-10-25T02:30:00Z');
});

t.test('DST in America/New_York, both directions', async (t) => {
  // 8 Mar 2026: 02:00 EST -> 03:00 EDT. 1 Nov 2026: 02:00 EDT -> 01:00 EST.
  const gap = makeEntry({ id: 'ny', timeZone: 'America/New_York', start: '2026-03-01T02:30', recurrence: 'FREQ=DAILY' });
  t.same(starts(gap, '2026-03-07T00:00Z', '2026-03-10T00:00Z'), [
    '2026-03-07T07:30:00Z', // 02:30 EST
    '2026-03-08T07:30:00Z', // nonexistent 02:30 -> 03:30 EDT
    '2026-03-09T06:30:00Z', // 02:30 EDT
  ]);
  const overlap = makeEntry({ id: 'ny2', timeZone: 'America/New_York', start: '2026-10-25T01:30', recurrence: 'FREQ=DAILY' });
  t.same(starts(overlap, '2026-10-31T00:00Z', '2026-11-03T00:00Z'), [
    '2026-10-31T05:30:00Z', // 01:30 EDT
    '2026-11-01T05:30:00Z', // ambiguous 01:30 -> first (EDT), only once
    '2026-11-02T06:30:00Z', // 01:30 EST
  ]);
  // A morning programme keeps its local 06:00 on both sides of the change.
  const morning = makeEntry({ id: 'ny3', timeZone: 'America/New_York', start: '2026-10-25T06:00', recurrence: 'FREQ=DAILY' });
  t.same(starts(morning, '2026-10-31T00:00Z', '2026-11-03T00:00Z'), ['2026-10-31T10:00:00Z', '2026-11-01T11:00:00Z', '2026-11-02T11:00:00Z']);
});
