// Opens the database: embedded PGlite under <dataDir>/db when no DATABASE_URL is set,
// a pg Pool against a PostgreSQL server when it is. Everything above this file sees one Kysely<DB>.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGliteDialect } from './pglite-dialect.js';
import type { DB, Database } from './types.js';
import type { LoaConfig } from '../config.js';

const INT8_OID = 20;
// Counts and byte sizes are int8; they fit a JS number in this application.
const parseInt8 = (v: string) => Number(v);

/** Opens (creating if needed) an embedded PGlite database in `dir`. */
export async function openPglite(dir: string): Promise<Database> {
  mkdirSync(path.dirname(dir), { recursive: true });
  const pglite = await PGlite.create({ dataDir: dir, parsers: { [INT8_OID]: parseInt8 } });
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect: 'pglite',
    close: () =>
      (closing ??= (async () => {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      })()),
  };
}

/** Connects a pool to a PostgreSQL server. */
export async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener it would crash us.
  pool.on('error', () => {});
  const client = await pool.connect().catch(async (err: Error) => {
    await pool.end();
    throw new Error(`cannot connect to DATABASE_URL: ${err.message}`);
  });
  client.release();
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closing: Promise<void> | undefined;
  return { db, dialect: 'postgres', close: () => (closing ??= db.destroy()) };
}

export async function openDatabase(config: Pick<LoaConfig, 'dataDir' | 'databaseUrl'>): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPglite(path.join(config.dataDir, 'db'));
}
