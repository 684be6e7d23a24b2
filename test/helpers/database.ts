// A fresh, migrated database per test: a uniquely named database on the server of
// DATABASE_URL when it is set (dropped in teardown), else an embedded PGlite in a temp dir.
// PGlite's initdb costs seconds, so a migrated template directory is made once per machine
// (per migration set) and copied for each test.
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPglite, openPostgres } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { MIGRATIONS } from '../../server/db/migrations/index.js';
import type { Database } from '../../server/db/types.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestDatabase extends Database {
  /** Where the PGlite files are (pglite only). */
  dir?: string;
  /** The URL of the database (postgres only). */
  url?: string;
}

function templateDir(): string {
  const key = createHash('sha256').update(Object.keys(MIGRATIONS).join(',')).update(process.version).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `loa-pglite-template-${key}`);
}

async function ensureTemplate(): Promise<string> {
  const template = templateDir();
  if (existsSync(path.join(template, 'PG_VERSION'))) return template;
  const building = mkdtempSync(path.join(os.tmpdir(), 'loa-pglite-build-'));
  const database = await openPglite(path.join(building, 'db'));
  try {
    await migrateToLatest(database);
  } finally {
    await database.close();
  }
  try {
    renameSync(path.join(building, 'db'), template);
  } catch {
    // Another test process made it first; theirs is as good as ours.
  }
  rmSync(building, { recursive: true, force: true });
  return template;
}

export async function openTestDatabase(t: Teardown): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `loa_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const database = await openPostgres(url.toString());
    t.teardown(async () => {
      await database.close();
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    });
    await migrateToLatest(database);
    return { ...database, url: url.toString() };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-test-db-'));
  const dbDir = path.join(dir, 'db');
  cpSync(await ensureTemplate(), dbDir, { recursive: true });
  const database = await openPglite(dbDir);
  t.teardown(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await migrateToLatest(database);
  return { ...database, dir: dbDir };
}

/**
 * For tests that let the server open its own database: with DATABASE_URL set, the URL of a
 * fresh empty database on that server (dropped in teardown); without, undefined (PGlite).
 */
export async function scratchDatabaseUrl(t: Teardown): Promise<string | undefined> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return undefined;
  const name = `loa_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    await c.query(`drop database if exists ${name} with (force)`);
    await c.end();
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * For tests that start the whole server on a data dir with PGlite: puts a copy of the migrated
 * template at <dataDir>/db so that the server skips PGlite's slow first initdb.
 */
export async function seedPgliteDataDir(dataDir: string): Promise<void> {
  cpSync(await ensureTemplate(), path.join(dataDir, 'db'), { recursive: true });
}
