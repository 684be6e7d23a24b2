import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { openPglite, openPostgres } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { MIGRATIONS } from '../../server/db/migrations/index.js';
import type { Database } from '../../server/db/types.js';
import { newId } from '../../server/ids.js';
import { childPath } from '../../server/zone-tree.js';
import { startPostgres } from '../helpers/postgres.js';

const TABLES = ['alert_airings', 'alert_audit', 'alert_delivery', 'alerts', 'as_run', 'endpoints', 'media', 'role_assignments', 'timetable_entries', 'timetable_entry_zones', 'tokens', 'users', 'zones'];

async function tables(database: Database): Promise<string[]> {
  const r = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(database.db);
  return r.rows.map((x) => x.table_name);
}

/** Same checks on either database: schema there, constraints enforced, types round-trip. */
async function exercise(t: Test, database: Database) {
  const applied = await migrateToLatest(database);
  t.same(applied, Object.keys(MIGRATIONS), 'every migration applied once');
  t.same(await migrateToLatest(database), [], 'second run applies nothing');
  t.same(await tables(database), TABLES);
  const id = newId('zone');
  await database.db.insertInto('zones').values({ id, parent_id: null, kind: 'province', name: 'Tỉnh Quảng Trị', code: '45', time_zone: 'Asia/Ho_Chi_Minh', path: childPath(null, id) }).execute();
  const row = await database.db.selectFrom('zones').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  t.equal(row.name, 'Tỉnh Quảng Trị', 'unicode text round-trips');
  t.ok(row.created_at instanceof Date, 'timestamptz comes back as a Date');
  await t.rejects(
    database.db.insertInto('zones').values({ id: newId('zone'), parent_id: 'zon_missing', kind: 'x', name: 'x', time_zone: 'UTC', path: '/zon_missing/x/' }).execute(),
    'foreign key on parent_id enforced',
  );
  const count = await database.db.selectFrom('zones').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  t.equal(count.n, 1, 'int8 counts come back as numbers');
  // Transactions roll back on error, and the connection stays usable afterwards.
  await t.rejects(
    database.db.transaction().execute(async (tx) => {
      await tx.updateTable('zones').set({ name: 'changed' }).where('id', '=', id).execute();
      throw new Error('abort');
    }),
  );
  const after = await database.db.selectFrom('zones').select('name').where('id', '=', id).executeTakeFirstOrThrow();
  t.equal(after.name, 'Tỉnh Quảng Trị', 'rolled back');
  return id;
}


t.test('PGlite: migrations, and data survives close and reopen', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-mig-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dbDir = path.join(dir, 'db');
  const first = await openPglite(dbDir);
  let id: string;
  try {
    t.equal(first.dialect, 'pglite');
    id = await exercise(t, first);
  } finally {
    await first.close();
  }
  const second = await openPglite(dbDir);
  t.teardown(() => second.close());
  t.same(await migrateToLatest(second), [], 'reopened database is already migrated');
  const row = await second.db.selectFrom('zones').select('name').where('id', '=', id!).executeTakeFirst();
  t.equal(row?.name, 'Tỉnh Quảng Trị', 'row written before close is there after reopen');
});

t.test('PostgreSQL server: the same migrations', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  await c.query('create database loa_migrations');
  await c.end();
  const database = await openPostgres(server.url.replace(/\/postgres$/, '/loa_migrations'));
  t.teardown(() => database.close());
  t.equal(database.dialect, 'postgres');
  await exercise(t, database);
});

t.test('a bad DATABASE_URL fails with a clear error', async (t) => {
  await t.rejects(openPostgres('postgres://nobody@127.0.0.1:1/none'), /cannot connect to DATABASE_URL/);
});
