// The as-run log: engine programme events (the protocol's own event objects, emitted as the
// Engine emits them) described from the programme catalog, journaled, written to the as_run
// table; read back scoped to the caller's subtree, as CSV and as monthly hours; and rows that
// survive a database outage (a closed database handle) landing once it is back.
import t from 'tap';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildTestApp, bearer } from '../helpers/app.js';
import { openTestDatabase } from '../helpers/database.js';
import { openPglite, openPostgres } from '../../server/db/database.js';
import { ProgrammeCatalog } from '../../server/broadcast/programme-catalog.js';
import { startAsRunRecorder } from '../../server/as-run/recorder.js';
import { timetableDb } from '../../server/timetable/tables.js';
import { createLogger } from '../../server/logger.js';
import type { EngineEvents } from '../../engine/engine.js';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import type { Kysely } from 'kysely';
import type { DB } from '../../server/db/types.js';

const logger = createLogger({ level: 'silent' });
const T0 = Date.parse('2026-11-23T05:30:00+07:00');

function programmeEvent(programmeId: string, zoneId: string, state: ProgrammeZoneEvent['state'], atMs: number, extra: Partial<ProgrammeZoneEvent> = {}): ProgrammeZoneEvent {
  return { type: 'programme', programmeId, zoneId, state, atMs, frame: Math.round(atMs / 20), positionMs: 0, ...extra };
}

function dataDir(t: { teardown(fn: () => unknown): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-as-run-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('events become described rows; the API shows each operator only their zones', async (t) => {
  const h = await buildTestApp(t);
  const a = await h.zone(null, 'Xã A', 'commune');
  const b = await h.zone(null, 'Xã B', 'commune');
  const opA = await h.user([{ role: 'operator', zoneId: a.id }]);
  const opB = await h.user([{ role: 'operator', zoneId: b.id }]);
  const engine = new EventEmitter<EngineEvents>();
  const catalog = new ProgrammeCatalog();
  const recorder = await startAsRunRecorder({ engine, catalog, database: h.database, config: { dataDir: dataDir(t) }, logger });
  t.teardown(() => recorder.close());

  catalog.register({ programmeId: 'tte_1@x', title: 'Bản tin sáng', kind: 'media', priority: 200, zoneIds: [a.id], by: 'timetable', entryId: 'tte_1', airingId: 'tte_1@x', requestedAtMs: T0 });
  catalog.register({ programmeId: 'prg_alert', title: 'Cảnh báo lũ', kind: 'alert', priority: 500, zoneIds: [a.id], by: 'alert', requestedAtMs: T0 });
  catalog.register({ programmeId: 'prg_b', title: 'Nhạc', kind: 'media', priority: 200, zoneIds: [b.id], by: opB.id, requestedAtMs: T0 });
  const events = [
    programmeEvent('tte_1@x', a.id, 'on-air', T0),
    programmeEvent('prg_alert', a.id, 'on-air', T0 + 600_000),
    programmeEvent('tte_1@x', a.id, 'preempted', T0 + 600_000, { by: 'prg_alert', positionMs: 600_000 }),
    programmeEvent('prg_alert', a.id, 'ended', T0 + 900_000, { reason: 'completed', positionMs: 300_000 }),
    programmeEvent('tte_1@x', a.id, 'resumed', T0 + 900_000, { positionMs: 600_000 }),
    programmeEvent('tte_1@x', a.id, 'ended', T0 + 1_800_000 + 1, { reason: 'max-duration', positionMs: 1_500_001 }),
    programmeEvent('prg_b', b.id, 'on-air', T0),
    programmeEvent('prg_b', b.id, 'ended', T0 + 3_600_000, { reason: 'stopped' }),
  ];
  for (const e of events) engine.emit('programme', e);
  await recorder.flushed();

  const rows = await timetableDb(h.database.db).selectFrom('as_run').selectAll().orderBy('seq').execute();
  t.equal(rows.length, events.length, 'one row per event');
  t.match(rows[0], { zone_id: a.id, programme: 'Bản tin sáng', kind: 'media', entry_id: 'tte_1', airing_id: 'tte_1@x', programme_id: 'tte_1@x', event: 'start', reason: 'scheduled', by: 'timetable' });
  t.match(rows[2], { event: 'preempted', reason: 'preempted by Cảnh báo lũ (prg_alert)', media_position_ms: 600_000 });
  t.match(rows[5], { event: 'end', reason: 'max duration' });
  t.match(rows[6], { kind: 'media', programme_id: 'prg_b', airing_id: null, by: opB.id, reason: null }, 'manual play is logged too');

  const get = (token: string, url: string, lang = 'en') => h.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { ...bearer(token), 'accept-language': lang } });
  const seenA = (await get(opA.token, '/as-run')).json();
  t.equal(seenA.items.length, 6, 'operator A sees the six rows of A');
  t.ok(seenA.items.every((r: { zoneId: string }) => r.zoneId === a.id));
  t.equal(seenA.items[0].at, '2026-11-23T05:30:00+07:00', 'times in the zone’s offset');
  t.equal((await get(opB.token, '/as-run')).json().items.length, 2, 'operator B sees the two rows of B');
  t.equal((await get(opB.token, `/as-run?zoneId=${a.id}`)).statusCode, 404, 'and not A at all');
  t.same((await get(opA.token, '/as-run?kind=alert')).json().items.map((r: { programme: string }) => r.programme), ['Cảnh báo lũ', 'Cảnh báo lũ']);
  const window = (await get(opA.token, `/as-run?from=${encodeURIComponent('2026-11-23T05:40:00+07:00')}&to=${encodeURIComponent('2026-11-23T05:45:00+07:00')}`)).json();
  t.same(window.items.map((r: { event: string }) => r.event), ['start', 'preempted']);

  // Paging: 4 + 2, nothing skipped or repeated.
  const p1 = (await get(opA.token, '/as-run?limit=4')).json();
  t.equal(p1.items.length, 4);
  const p2 = (await get(opA.token, `/as-run?limit=4&cursor=${p1.nextCursor}`)).json();
  t.same([...p1.items, ...p2.items].map((r: { id: string }) => r.id), seenA.items.map((r: { id: string }) => r.id));
  t.equal(p2.nextCursor, null);
  t.equal((await get(opA.token, '/as-run?cursor=bm9wZQ')).statusCode, 400);

  const csv = await get(opA.token, '/as-run.csv', 'vi');
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /text\/csv/);
  const lines = csv.body.split('\r\n');
  t.equal(lines[0], '\uFEFFthời gian,vùng,chương trình,loại,sự kiện,lý do,mục lịch,lượt phát,chương trình phát tay,vị trí trong tệp (ms),người phát');
  t.equal(lines.filter((l) => l !== '').length, 7, 'header and six rows');
  t.match(lines[1], /^2026-11-23T05:30:00\+07:00,/);
  t.match((await get(opA.token, '/as-run.csv', 'en')).body, /^\uFEFFtime,zone,programme,kind,event/);

  const stats = (await get(opA.token, `/as-run/stats?year=2026&zoneId=${a.id}`)).json();
  t.equal(stats.timeZone, 'Asia/Ho_Chi_Minh');
  t.equal(stats.stats.length, 1);
  t.equal(stats.stats[0].month, '2026-11');
  // Media on air 05:30–05:40 and 05:45–06:00:00.001; the alert 05:40–05:45.
  t.ok(Math.abs(stats.stats[0].hoursByKind.media - 25 / 60) < 1e-5, `media hours ${stats.stats[0].hoursByKind.media}`);
  t.ok(Math.abs(stats.stats[0].hoursByKind.alert - 5 / 60) < 1e-9);
  t.equal(stats.anomalies, 0);
  const statsB = (await get(opB.token, '/as-run/stats?year=2026')).json();
  t.same(statsB.stats.map((s: { zoneId: string }) => s.zoneId), [b.id], 'stats scoped too');
});

t.test('rows survive a database outage and land exactly once when it is back', async (t) => {
  const first = await openTestDatabase(t);
  // The recorder reads `db` at each write: the test swaps in a reconnected handle later.
  const handle: { db: Kysely<DB> } = { db: first.db };
  const engine = new EventEmitter<EngineEvents>();
  const recorder = await startAsRunRecorder({
    engine,
    catalog: new ProgrammeCatalog(),
    database: handle,
    config: { dataDir: dataDir(t) },
    logger,
    writer: { retryMinMs: 20, retryMaxMs: 100 },
  });
  engine.emit('programme', programmeEvent('prg_1', 'z1', 'on-air', T0));
  await recorder.flushed();

  await first.close(); // the database goes away
  for (let i = 1; i <= 5; i++) engine.emit('programme', programmeEvent(`prg_${i + 1}`, 'z1', 'on-air', T0 + i * 1000));
  const failuresBefore = recorder.writer.stats.failures;
  const deadline = Date.now() + 10_000;
  while ((recorder.journal.durableSeq < 6 || recorder.writer.stats.failures < failuresBefore + 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.equal(recorder.journal.durableSeq, 6, 'rows are journaled on disk while the database is down');
  t.ok(recorder.writer.stats.failures >= failuresBefore + 2, 'the writer keeps retrying');
  t.equal(recorder.journal.pendingCount, 5, 'five rows wait for the database');

  const again = first.url !== undefined ? await openPostgres(first.url) : await openPglite(first.dir!);
  handle.db = again.db;
  await recorder.flushed();
  const rows = await timetableDb(again.db).selectFrom('as_run').select(['seq', 'programme_id']).orderBy('seq').execute();
  t.same(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6], 'every row, once, in order');
  await recorder.close();
  await again.close();
});
