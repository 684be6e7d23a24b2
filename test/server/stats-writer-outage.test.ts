// Endpoint stats while PostgreSQL is stopped for real (pg_ctl stop -m fast): reports are kept,
// one per endpoint however many arrive (the latest wins), and written when the database is back,
// each with the time it was reported.
import t from 'tap';
import { openPostgres } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { StatsWriter } from '../../server/broadcast/stats-writer.js';
import { createLogger } from '../../server/logger.js';
import { newId } from '../../server/ids.js';
import { childPath } from '../../server/zone-tree.js';
import { startPostgres } from '../helpers/postgres.js';
import { eventually } from '../helpers/server-process.js';

t.test('stats queue while the database is down (latest per endpoint) and flush when it returns', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const database = await openPostgres(pg.url, { dbConnectTimeoutMs: 1000, dbStatementTimeoutMs: 2000, dbQueryTimeoutMs: 3000, dbIdleInTransactionTimeoutMs: 5000 });
  t.teardown(() => database.close());
  await migrateToLatest(database);
  const zoneId = newId('zone');
  await database.db.insertInto('zones').values({ id: zoneId, parent_id: null, kind: 'commune', name: 'Xã', time_zone: 'Asia/Ho_Chi_Minh', path: childPath(null, zoneId) }).execute();
  const ids = ['a', 'b', 'c'].map(() => newId('endpoint'));
  for (const id of ids) {
    await database.db.insertInto('endpoints').values({ id, name: id, zone_id: zoneId, kind: 'rtp', codecs: '["opus"]', credential_hash: 'scrypt$1$1$1$x$y' }).execute();
  }
  const writer = new StatsWriter(database.db, createLogger({ level: 'silent' }), 50);
  t.teardown(() => writer.close());

  writer.offer(ids[0], { n: 0 });
  await eventually(async () => (writer.writes >= 1 ? true : undefined), 'a first write');

  pg.stopFast();
  const t0 = Date.now() - 60_000; // report times clearly before any write time
  // 30 reports per endpoint while it is down.
  for (let k = 1; k <= 30; k++) {
    for (const [i, id] of ids.entries()) writer.offer(id, { n: k, endpoint: i }, t0 + k * 1000);
    await new Promise((r) => setTimeout(r, 20));
  }
  const writesDuring = writer.writes;
  t.ok(writer.pendingCount <= ids.length, `at most one report kept per endpoint (${writer.pendingCount})`);

  pg.restart();
  await eventually(async () => (writer.writes >= writesDuring + ids.length && writer.pendingCount === 0 ? true : undefined), 'the kept reports to be written');
  const rows = await database.db.selectFrom('endpoints').select(['id', 'stats', 'last_seen_at']).where('id', 'in', ids).execute();
  for (const [i, id] of ids.entries()) {
    const r = rows.find((x) => x.id === id)!;
    t.same(r.stats, { n: 30, endpoint: i }, `${i}: the latest report was written`);
    t.equal(r.last_seen_at?.getTime(), t0 + 30_000, `${i}: last_seen_at is when it was reported, not when written`);
  }
});
