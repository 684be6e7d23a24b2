// Opens the database: embedded PGlite under <dataDir>/db when no DATABASE_URL is set,
// a pg Pool against a PostgreSQL server when it is. Everything above this file sees one Kysely<DB>.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
// pg and PGlite are imported by the function that uses them: a server runs one of the two, and
// loading the other cost ≈ 1.3 s of main-thread time before air in a restart on a loaded
// 2-core machine (node --cpu-prof).
import { PGliteDialect } from './pglite-dialect.js';
import type { DB, Database } from './types.js';
import type { LoaConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { DatabaseAvailability } from './availability.js';
import { isDatabaseUnavailable, unavailableReason } from './unavailable.js';

const INT8_OID = 20;
// Counts and byte sizes are int8; they fit a JS number in this application.
const parseInt8 = (v: string) => Number(v);

/** Opens (creating if needed) an embedded PGlite database in `dir`. */
export async function openPglite(dir: string): Promise<Database> {
  mkdirSync(path.dirname(dir), { recursive: true });
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create({ dataDir: dir, parsers: { [INT8_OID]: parseInt8 } });
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  let closing: Promise<void> | undefined;
  return {
    db,
    dialect: 'pglite',
    availability: new DatabaseAvailability(),
    close: () =>
      (closing ??= (async () => {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      })()),
  };
}

/** Timeouts of a PostgreSQL connection; the same defaults as config.ts (for callers without a config: tests, tools). */
export type PostgresTimeouts = Pick<LoaConfig, 'dbConnectTimeoutMs' | 'dbStatementTimeoutMs' | 'dbQueryTimeoutMs' | 'dbIdleInTransactionTimeoutMs'>;

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  dbConnectTimeoutMs: 5000,
  dbStatementTimeoutMs: 15_000,
  dbQueryTimeoutMs: 20_000,
  dbIdleInTransactionTimeoutMs: 60_000,
};

/**
 * Connects a pool to a PostgreSQL server. No error of pg may end the process: a connection lost
 * while idle is reported on the pool, one lost while a query runs on that client (pg emits
 * 'error' there too, and an EventEmitter without a listener throws). Both only mark the
 * database away; the query itself fails with the same error and its caller answers 503.
 */
export async function openPostgres(url: string, timeouts: PostgresTimeouts = DEFAULT_POSTGRES_TIMEOUTS): Promise<Database> {
  const { default: pg } = await import('pg');
  const availability = new DatabaseAvailability();
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // A server that accepts TCP and never answers would otherwise hang connect and queries forever.
    connectionTimeoutMillis: timeouts.dbConnectTimeoutMs,
    statement_timeout: timeouts.dbStatementTimeoutMs,
    query_timeout: timeouts.dbQueryTimeoutMs,
    idle_in_transaction_session_timeout: timeouts.dbIdleInTransactionTimeoutMs,
    // A peer that vanished without a FIN (cable, power) is noticed by TCP keepalive.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'loa',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const onError = (err: Error) => {
    if (isDatabaseUnavailable(err)) availability.failed(err);
  };
  pool.on('error', onError);
  pool.on('connect', (client) => {
    client.on('error', onError);
    availability.succeeded();
  });
  const client = await pool.connect().catch(async (err: Error) => {
    await pool.end().catch(() => {});
    throw new Error(`cannot connect to DATABASE_URL: ${err.message}`, { cause: err });
  });
  client.release();
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closing: Promise<void> | undefined;
  return { db, dialect: 'postgres', availability, close: () => (closing ??= db.destroy()) };
}

export async function openDatabase(
  config: Pick<LoaConfig, 'dataDir' | 'databaseUrl'> & Partial<PostgresTimeouts>,
): Promise<Database> {
  if (!config.databaseUrl) return openPglite(path.join(config.dataDir, 'db'));
  return openPostgres(config.databaseUrl, { ...DEFAULT_POSTGRES_TIMEOUTS, ...definedOnly(config) });
}

function definedOnly(config: Partial<PostgresTimeouts>): Partial<PostgresTimeouts> {
  return Object.fromEntries(Object.entries(config).filter(([k, v]) => k in DEFAULT_POSTGRES_TIMEOUTS && v !== undefined));
}

export interface StartupRetry {
  /** Tries before giving up; 0: keep trying. */
  attempts: number;
  /** First wait; doubles up to maxMs. */
  minMs?: number;
  maxMs: number;
  /** Injectable for tests of the schedule; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Opens the database, waiting for it when it is away (a server still booting, a network not up
 * yet): one log line per failed try, with the reason and the next wait. An error that is not
 * about reaching the database (bad password, corrupt files) is thrown at once: waiting cannot fix it.
 */
export async function openDatabaseWhenReachable(
  config: Parameters<typeof openDatabase>[0],
  logger: Logger,
  retry: StartupRetry,
): Promise<Database> {
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      const database = await openDatabase(config);
      if (attempt > 1) logger.info({ attempt }, 'database reached');
      database.availability?.attachLogger(logger);
      return database;
    } catch (err) {
      if (!isDatabaseUnavailable(err) || (retry.attempts > 0 && attempt >= retry.attempts)) throw err;
      const retryInMs = Math.min(retry.maxMs, (retry.minMs ?? 500) * 2 ** Math.min(attempt - 1, 20));
      logger.warn(
        { attempt, of: retry.attempts || 'unlimited', retryInMs, reason: unavailableReason((err as Error).cause ?? err) },
        'database not reachable yet; waiting for it before starting',
      );
      await sleep(retryInMs);
    }
  }
}
