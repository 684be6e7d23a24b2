import t from 'tap';
import { validateEntry, type ValidationError } from '../../scheduler/timetable-entry.js';

const base = {
  id: 'e1',
  zoneIds: ['commune-a'],
  programme: { kind: 'media', mediaId: 'm1' },
  priority: 200,
  start: '2026-11-23T05:30',
  createdBy: 'user-1',
};

function errorsOf(input: unknown): ValidationError[] {
  const r = validateEntry(input);
  if (r.ok) throw new Error('expected validation to fail');
  return r.errors;
}

t.test('a minimal entry gets its defaults', async (t) => {
  const r = validateEntry(base);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.entry.timeZone, 'Asia/Ho_Chi_Minh');
  t.equal(r.entry.enabled, true);
  t.equal(r.entry.policy, 'cut-in');
  t.equal(r.entry.recurrence, null);
  t.equal(r.entry.durationMs, null);
  t.equal(r.entry.repeat, null);
  const rec = validateEntry({ ...base, recurrence: 'rrule:freq=weekly;byday=mo' });
  t.ok(rec.ok);
  if (rec.ok) t.same(rec.entry.recurrence, { rrule: 'FREQ=WEEKLY;BYDAY=MO', exdates: [], rdates: [] });
});

t.test('invalid RRULE says what is wrong', async (t) => {
  const cases: [string, RegExp][] = [
    ['FREQ=DAILY;BYDAY=XX', /BYDAY value "XX" is not a weekday/],
    ['BYDAY=MO', /FREQ is missing/],
    ['FREQ=FORTNIGHTLY', /FREQ=FORTNIGHTLY is not a frequency/],
    ['FREQ=DAILY;COUNT=3;UNTIL=20261201T000000Z', /COUNT and UNTIL cannot be used together/],
    ['FREQ=WEEKLY;BYDAY=1MO', /ordinal weekday .* only makes sense with FREQ=MONTHLY or FREQ=YEARLY/],
    ['FREQ=DAILY;BYMONTH=13', /BYMONTH=13 is invalid: months are 1 to 12/],
    ['FREQ=DAILY;COLOR=RED', /unknown rule part "COLOR"/],
    ['FREQ=DAILY;INTERVAL=0', /INTERVAL=0 is invalid/],
    ['FREQ=DAILY;UNTIL=2026-12-01', /UNTIL=2026-12-01 is not a date/],
    ['FREQ=SECONDLY', /SECONDLY is not allowed/],
    ['DTSTART:20261123T053000\nRRULE:FREQ=DAILY', /start date and time go in "start"/],
  ];
  for (const [rrule, re] of cases) {
    const errs = errorsOf({ ...base, recurrence: rrule });
    t.ok(errs.some((e) => e.field === 'recurrence.rrule' && /^invalid RRULE: /.test(e.message) && re.test(e.message)), `${rrule}: ${JSON.stringify(errs)}`);
  }
  // A well-formed rule that can never fire.
  const never = errorsOf({ ...base, recurrence: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' });
  t.match(never, [{ field: 'recurrence', message: /never airs/ }]);
  const excluded = errorsOf({ ...base, recurrence: { rrule: 'FREQ=DAILY;COUNT=1', exdates: ['2026-11-23'] } });
  t.match(excluded, [{ field: 'recurrence', message: /never airs/ }]);
});

t.test('end before start', async (t) => {
  t.match(errorsOf({ ...base, end: '05:00' }), [{ field: 'end', message: /end 05:00 is not after start 05:30; to cross midnight/ }]);
  t.match(errorsOf({ ...base, end: '05:30' }), [{ field: 'end', message: /not after start/ }]);
  t.match(errorsOf({ ...base, end: '2026-11-22T23:00' }), [{ field: 'end', message: /not after start 2026-11-23T05:30/ }]);
  t.match(errorsOf({ ...base, end: '06:00', durationMs: 60_000 }), [{ field: 'end', message: /either an end time or a duration/ }]);
  t.match(errorsOf({ ...base, end: 'half past six' }), [{ field: 'end', message: /not a local time/ }]);
  // Across midnight with a date-time end is fine.
  const ok = validateEntry({ ...base, start: '2026-11-23T23:30', end: '2026-11-24T00:30' });
  t.ok(ok.ok);
});

t.test('unknown time zone, bad start, programme, priority, repeat bounds', async (t) => {
  t.match(errorsOf({ ...base, timeZone: 'Asia/Hanoi_City' }), [{ field: 'timeZone', message: /unknown time zone "Asia\/Hanoi_City"/ }]);
  t.match(errorsOf({ ...base, start: '2026-02-30T05:30' }), [{ field: 'start', message: /write it like 2026-11-23T05:30/ }]);
  t.match(errorsOf({ ...base, start: '2026-11-23T05:30+07:00' }), [{ field: 'start' }]);
  t.match(errorsOf({ ...base, programme: { kind: 'playlist', mediaIds: [] } }), [{ field: 'programme.mediaIds' }]);
  t.match(errorsOf({ ...base, programme: { kind: 'relay', url: 'ftp://x/y' } }), [{ field: 'programme.url', message: /must start with http:\/\// }]);
  t.match(errorsOf({ ...base, programme: { kind: 'video', mediaId: 'x' } }), [{ field: 'programme.kind' }]);
  t.match(errorsOf({ ...base, priority: 2000 }), [{ field: 'priority', message: /between 0 and 1000/ }]);
  t.match(errorsOf({ ...base, repeat: { count: 0, intervalMs: 600_000 } }), [{ field: 'repeat.count', message: /from 1 to 24/ }]);
  t.match(errorsOf({ ...base, repeat: { count: 25, intervalMs: 600_000 } }), [{ field: 'repeat.count' }]);
  t.match(errorsOf({ ...base, repeat: { count: 3, intervalMs: 10 } }), [{ field: 'repeat.intervalMs', message: /between 1 second and 24 hours/ }]);
  t.match(errorsOf({ ...base, durationMs: 900_000, repeat: { count: 3, intervalMs: 600_000 } }), [{ field: 'repeat.intervalMs', message: /would overlap a 15 min programme/ }]);
  t.match(errorsOf({ ...base, validFrom: '2026-12-10', validUntil: '2026-12-01' }), [{ field: 'validUntil', message: /before validFrom/ }]);
  t.match(errorsOf({ ...base, durationMs: 600_000, maxDurationMs: 300_000 }), [{ field: 'maxDurationMs', message: /shorter than the duration/ }]);
  t.match(errorsOf({ ...base, policy: 'interrupt' }), [{ field: 'policy' }]);
  t.match(errorsOf({ ...base, zoneIds: [] }), [{ field: 'zoneIds' }]);
  t.match(errorsOf({ ...base, createdBy: '' }), [{ field: 'createdBy' }]);
  // Every problem is reported at once, not only the first.
  t.ok(errorsOf({ ...base, timeZone: 'Nowhere', priority: -1, end: '01:00', createdBy: undefined }).length >= 3);
  t.match(errorsOf(null), [{ field: '' }]);
});
