// The timetable API on a real database: create/list/update/delete, the semantic checks of
// scheduler/validateEntry answered as clear 4xx with nothing saved, the conflicts report, the
// planned airings, and zone scoping (an operator of commune A neither sees nor edits B's).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { buildTestApp, bearer } from '../helpers/app.js';
import { timetableDb } from '../../server/timetable/tables.js';
import type { Zone } from '../../server/db/types.js';

const h = await buildTestApp(t);
const db = timetableDb(h.database.db);
const district = await h.zone(null, 'Huyện Gio Linh', 'district');
const communeA = await h.zone(district, 'Xã A', 'commune');
const communeB = await h.zone(district, 'Xã B', 'commune');
const villageA1 = await h.zone(communeA, 'Thôn A1', 'village');
const admin = await h.user([{ role: 'admin', zoneId: null }]);
const opA = await h.user([{ role: 'operator', zoneId: communeA.id }]);
const opB = await h.user([{ role: 'operator', zoneId: communeB.id }]);

async function media(zone: Zone, title: string, durationMs = 600_000): Promise<string> {
  const id = `med_${randomBytes(8).toString('hex')}`;
  await h.database.db
    .insertInto('media')
    .values({
      id,
      sha256: randomBytes(32).toString('hex'),
      zone_id: zone.id,
      title,
      filename: `${title}.mp3`,
      format: 'mp3',
      codec: 'mp3',
      duration_ms: durationMs,
      size_bytes: 1000,
      sample_rate: 48000,
      channels: 1,
      created_by: null,
    })
    .execute();
  return id;
}
const newsA = await media(communeA, 'Bản tin sáng');
const newsB = await media(communeB, 'Bản tin xã B');
const districtNews = await media(district, 'Thời sự huyện');

type Json = Record<string, any>;
function call(token: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, lang = 'en') {
  return h.app.inject({ method, url: `/api/v1${url}`, headers: { ...bearer(token), 'accept-language': lang }, ...(payload !== undefined && { payload: payload as Json }) });
}
async function counts(): Promise<{ entries: number; links: number }> {
  const e = await db.selectFrom('timetable_entries').select('id').execute();
  const l = await db.selectFrom('timetable_entry_zones').select('entry_id').execute();
  return { entries: e.length, links: l.length };
}

const morningA = {
  title: 'Bản tin sáng xã A',
  zoneIds: [communeA.id],
  programme: { kind: 'media', mediaId: newsA },
  priority: 'normal',
  start: '2026-12-01T05:30',
  recurrence: 'FREQ=DAILY',
  durationMs: 30 * 60_000,
};

let entryA = '';

t.test('create, read, list', async (t) => {
  const res = await call(opA.token, 'POST', '/timetables', morningA);
  t.equal(res.statusCode, 201, res.body);
  const body = res.json() as Json;
  entryA = body.entry.id;
  t.match(body.entry, {
    title: 'Bản tin sáng xã A',
    zoneIds: [communeA.id],
    priority: 200,
    timeZone: 'Asia/Ho_Chi_Minh',
    start: '2026-12-01T05:30',
    firstAiringAt: '2026-12-01T05:30:00+07:00',
    recurrence: { rrule: 'FREQ=DAILY', exdates: [], rdates: [] },
    policy: 'cut-in',
    enabled: true,
    createdBy: opA.id,
    version: 1,
  });
  t.match(body.entry.createdAt, /\+07:00$/, 'instants shown with the zone offset');
  t.same(body.conflicts, [], 'nothing else airs there');
  const stored = await db.selectFrom('timetable_entries').select(['first_start_at']).where('id', '=', entryA).executeTakeFirstOrThrow();
  t.equal(stored.first_start_at?.toISOString(), '2026-11-30T22:30:00.000Z', 'the first airing is stored in UTC');

  const got = await call(opA.token, 'GET', `/timetables/${entryA}`);
  t.equal(got.statusCode, 200);
  t.equal((got.json() as Json).id, entryA);
  const list = await call(opA.token, 'GET', '/timetables');
  t.same((list.json() as Json).items.map((e: Json) => e.id), [entryA]);
  const byVillage = await call(opA.token, 'GET', `/timetables?zoneId=${villageA1.id}`);
  t.same((byVillage.json() as Json).items.map((e: Json) => e.id), [entryA], 'an entry on the commune reaches its villages');
});

t.test('scoping: the operator of commune B neither sees nor edits A', async (t) => {
  t.same((await call(opB.token, 'GET', '/timetables')).json(), { items: [] });
  t.equal((await call(opB.token, 'GET', `/timetables/${entryA}`)).statusCode, 404);
  t.equal((await call(opB.token, 'PUT', `/timetables/${entryA}`, { ...morningA, zoneIds: [communeB.id], programme: { kind: 'media', mediaId: newsB } })).statusCode, 404);
  t.equal((await call(opB.token, 'DELETE', `/timetables/${entryA}`)).statusCode, 404);
  t.equal((await call(opB.token, 'GET', `/timetables?zoneId=${communeA.id}`)).statusCode, 404);
  const air = await call(opB.token, 'GET', '/timetables/airings?from=2026-12-01T00:00:00%2B07:00&to=2026-12-03T00:00:00%2B07:00');
  t.same((air.json() as Json).items, [], 'nor its airings');
  t.same(await counts(), { entries: 1, links: 1 });
});

t.test('invalid entries: clear 4xx, nothing saved', async (t) => {
  const before = await counts();
  const rrule = await call(opA.token, 'POST', '/timetables', { ...morningA, recurrence: 'FREQ=SOMETIMES;BYDAY=XX' });
  t.equal(rrule.statusCode, 422);
  t.equal((rrule.json() as Json).error, 'invalid_entry');
  t.ok((rrule.json() as Json).errors.some((e: Json) => e.field === 'recurrence.rrule'), 'names the field');
  t.match((rrule.json() as Json).message, /RRULE/);

  const unknown = await call(opA.token, 'POST', '/timetables', { ...morningA, programme: { kind: 'playlist', mediaIds: [newsA, 'med_nope'] } });
  t.equal(unknown.statusCode, 422);
  t.same((unknown.json() as Json).errors.map((e: Json) => e.field), ['programme.mediaIds[1]']);
  t.match((unknown.json() as Json).message, /unknown media item “med_nope”/);
  const otherZonesMedia = await call(opA.token, 'POST', '/timetables', { ...morningA, programme: { kind: 'media', mediaId: newsB } });
  t.equal(otherZonesMedia.statusCode, 422, 'media of a zone the operator cannot read is unknown to them');

  const { durationMs: _, ...noDuration } = morningA;
  const endBefore = await call(opA.token, 'POST', '/timetables', { ...noDuration, end: '05:00' }, 'vi');
  t.equal(endBefore.statusCode, 422);
  t.same((endBefore.json() as Json).errors.map((e: Json) => e.field), ['end']);
  t.match((endBefore.json() as Json).message, /^Lịch phát không hợp lệ: end: end 05:00 is not after start 05:30/, 'Vietnamese frame, the field named');

  const outside = await call(opA.token, 'POST', '/timetables', { ...morningA, zoneIds: [communeB.id] });
  t.equal(outside.statusCode, 404, 'a zone outside the subtree is not revealed');
  const partly = await call(opA.token, 'POST', '/timetables', { ...morningA, zoneIds: [communeA.id, communeB.id] });
  t.equal(partly.statusCode, 404, 'an entry on several zones needs scope over all of them');
  const emergency = await call(opA.token, 'POST', '/timetables', { ...morningA, priority: 'emergency' });
  t.equal(emergency.statusCode, 403);
  const shape = await call(opA.token, 'POST', '/timetables', { ...morningA, priority: 'loud' });
  t.equal(shape.statusCode, 400, 'schema errors are 400');
  t.same(await counts(), before, 'nothing was saved');
});

t.test('conflicts: dry run, and in the create response', async (t) => {
  // The district's bulletin cuts into A's morning programme every day 05:40–05:50.
  const districtEntry = {
    zoneIds: [district.id],
    programme: { kind: 'media', mediaId: districtNews },
    priority: 'priority',
    start: '2026-12-01T05:40',
    recurrence: { rrule: 'FREQ=DAILY;COUNT=3' },
    end: '05:50',
  };
  const dry = await call(admin.token, 'POST', '/timetables/conflicts', { entry: districtEntry, from: '2026-12-01T00:00:00+07:00', to: '2026-12-02T00:00:00+07:00' });
  t.equal(dry.statusCode, 200, dry.body);
  const [c] = (dry.json() as Json).conflicts as Json[];
  t.equal((dry.json() as Json).conflicts.length, 1, 'one overlap in the day asked for');
  t.match(c, {
    zoneIds: [communeA.id],
    from: '2026-12-01T05:40:00+07:00',
    to: '2026-12-01T05:50:00+07:00',
    winnerEntryId: c.second.entryId,
    loserEntryId: entryA,
    outcome: 'preempts',
    resumesAt: '2026-12-01T05:50:00+07:00',
  });
  t.same(await counts(), { entries: 1, links: 1 }, 'a dry run saves nothing');

  const created = await call(admin.token, 'POST', '/timetables', districtEntry);
  t.equal(created.statusCode, 201);
  const body = created.json() as Json;
  t.ok(Array.isArray(body.conflicts), 'the create response carries the conflicts');
  t.ok(body.conflicts.every((x: Json) => x.winnerEntryId === body.entry.id && x.loserEntryId === entryA));
  // A sees the district's entry affects it through the conflicts of its own edits, not in its list.
  t.same((await call(opA.token, 'GET', '/timetables')).json().items.map((e: Json) => e.id), [entryA]);
  t.equal((await call(admin.token, 'DELETE', `/timetables/${body.entry.id}`)).statusCode, 204);
});

t.test('update with optimistic version, planned airings, delete', async (t) => {
  const upd = await call(opA.token, 'PUT', `/timetables/${entryA}`, { ...morningA, start: '2026-12-01T06:00', version: 1 });
  t.equal(upd.statusCode, 200, upd.body);
  t.equal((upd.json() as Json).entry.version, 2);
  t.equal((upd.json() as Json).entry.title, 'Bản tin sáng xã A');
  const stale = await call(opA.token, 'PUT', `/timetables/${entryA}`, { ...morningA, version: 1 });
  t.equal(stale.statusCode, 409, 'someone else changed it');
  const bad = await call(opA.token, 'PUT', `/timetables/${entryA}`, { ...morningA, recurrence: 'FREQ=DAILY;INTERVAL=0' });
  t.equal(bad.statusCode, 422);
  t.equal((await call(opA.token, 'GET', `/timetables/${entryA}`)).json().start, '2026-12-01T06:00', 'a rejected update changes nothing');

  const air = await call(opA.token, 'GET', `/timetables/airings?zoneId=${communeA.id}&from=2026-12-01T00:00:00%2B07:00&to=2026-12-04T00:00:00%2B07:00`);
  t.equal(air.statusCode, 200, air.body);
  const items = (air.json() as Json).items as Json[];
  t.same(items.map((a) => a.start), ['2026-12-01T06:00:00+07:00', '2026-12-02T06:00:00+07:00', '2026-12-03T06:00:00+07:00']);
  t.same(items.map((a) => a.end), ['2026-12-01T06:30:00+07:00', '2026-12-02T06:30:00+07:00', '2026-12-03T06:30:00+07:00']);
  t.equal(items[0].airingId, `${entryA}@2026-11-30T23:00:00.000Z`);
  t.equal((await call(opA.token, 'GET', '/timetables/airings?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z')).statusCode, 400);

  t.equal((await call(opA.token, 'DELETE', `/timetables/${entryA}`)).statusCode, 204);
  t.equal((await call(opA.token, 'GET', `/timetables/${entryA}`)).statusCode, 404);
  t.same(await counts(), { entries: 0, links: 0 });
});
