// Starting and stopping the server, media first: config → data-dir lock → media worker spawned
// while the database module loads and opens → programme ledger and topology snapshot: when the
// snapshot is whole, the engine gets its zones and fixed-address endpoints from it, the as-run
// log starts (journal only) and the programmes of the previous run (manual, emergency, and
// timetable airings that were on air) go back on air at their offset before the database is
// open → database (migrated) → first admin → demo data → the engine reconciled with the
// database (the truth) → as-run rows written → the rest of the ledger (no snapshot: all of it)
// and the timetable, which adopts the airings already back → HTTP app → listen.
// Everything not needed to get on air is imported only when its turn comes (the database
// drivers, the timetable, fastify and the routes): module loading took 0.6–0.7 s before the
// config was read. SIGINT/SIGTERM close the app, then the database (PGlite must be closed to
// leave its files consistent). Each stage's time since process start is logged ('startup timings').
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, type LoaConfig } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { lockDataDir } from './data-dir-lock.js';
import { guardDatabaseRejections } from './db/rejection-guard.js';
import type { Database } from './db/types.js';
import { BroadcastHost, startHostEngine } from './broadcast/engine-host.js';
import { readTopologySnapshot } from './broadcast/topology-snapshot.js';
import type { AsRunRecorder } from './as-run/recorder.js';
import type { TimetableRuntime } from './timetable/runtime.js';

export interface StartOptions {
  /** Environment to read the configuration from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Already loaded configuration (skips env). */
  config?: LoaConfig;
  logger?: Logger;
  /** Where the first admin's password is printed (default stdout). */
  print?: (line: string) => void;
  /** Close on SIGINT/SIGTERM (default true; tests pass false). */
  handleSignals?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  /** The media engine and its ties to the data (zones, endpoints, programmes). */
  broadcast: BroadcastHost;
  /** The timetable service and the as-run recorder. */
  timetables: TimetableRuntime;
  config: LoaConfig;
  database: Database;
  logger: Logger;
  /** http://host:port actually bound (port 0 resolved). */
  url: string;
  close(): Promise<void>;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = options.config ?? loadConfig(options.env ?? process.env);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));

  // One server per data directory (journals, media, embedded database): before anything is opened.
  const lock = lockDataDir(config.dataDir);
  if (lock.tookOverFrom) logger.warn({ staleOwner: lock.tookOverFrom, lock: lock.file }, 'took over the data directory lock of a server that is gone');
  guardDatabaseRejections(logger);
  const stages: Record<string, number> = {};
  const stage = (name: string) => (stages[name] = Math.round(performance.now()));
  stage('config');
  // The media plane (a worker thread) needs no database: it starts while the database opens.
  // The worker decodes with the configured ffmpeg (it reads FFMPEG_PATH, set from a config file too).
  process.env.FFMPEG_PATH = config.ffmpegPath;
  const multicastInterface = config.multicastInterface;
  const hostOptions = {
    logger,
    rtpPort: config.rtpPort,
    publicHost: config.publicHost,
    ledgerDir: path.join(config.dataDir, 'programmes'),
    ...(multicastInterface && { multicast: { interfaceAddress: multicastInterface } }),
  };
  const engine = startHostEngine(hostOptions);
  engine.then(() => stage('engine'), () => {});
  const snapshot = readTopologySnapshot(hostOptions.ledgerDir);
  // The database's modules load while the worker starts (another thread). Opening the embedded
  // database holds the main thread in long stretches (PGlite: 0.8–1 s, which delayed the
  // engine's first commands by as much): when the snapshot has devices that hear the engine
  // without HTTP (fixed addresses, multicast), it opens once the programmes are back on air.
  // Otherwise at once: agents hear nothing before HTTP, which waits for the database.
  const dbModule = import('./db/database.js');
  const recorderModule = import('./as-run/recorder.js');
  dbModule.catch(() => {});
  recorderModule.catch(() => {});
  const read = await snapshot;
  const hearersFirst = read.ok && config.databaseUrl === undefined && (read.snapshot.attachments.length > 0 || Object.keys(read.snapshot.multicast).length > 0);
  let openNow: (() => void) | undefined;
  let neverOpen: ((err: unknown) => void) | undefined;
  const openWhen = hearersFirst ? new Promise<void>((resolve, reject) => ((openNow = resolve), (neverOpen = reject))) : Promise.resolve();
  const opening = openWhen
    .then(() => dbModule)
    .then(({ openDatabaseWhenReachable }) => openDatabaseWhenReachable(config, logger, { attempts: config.dbStartAttempts, maxMs: config.dbRetryMaxMs }));
  opening.catch(() => {}); // awaited below; not unhandled while the media path runs
  let database: Database | undefined;
  let started: BroadcastHost | undefined; // for the cleanup below
  let asRun: AsRunRecorder | undefined;
  const airFromLedger = async (): Promise<BroadcastHost> => {
    // The media plane: closed in close() after the app, before the database.
    const broadcast = (started = await BroadcastHost.startEarly({ ...hostOptions, engine, snapshot }));
    stage('snapshot');
    if (!broadcast.fromSnapshot) return broadcast;
    // The as-run log first (it closes what the crash left open, then logs what resumes); its
    // rows reach the database once it is open.
    const { startAsRunRecorder } = await recorderModule;
    asRun = await startAsRunRecorder({
      engine: broadcast.engine,
      catalog: broadcast.catalog,
      database: {
        get db() {
          if (!database) throw new Error('the database is not open yet');
          return database.db;
        },
      },
      config,
      logger,
      deferWriter: true,
    });
    const { resumed, expired } = broadcast.resumeRecovered();
    if (resumed.length || expired.length) logger.info({ resumed, expired }, 'programmes of the previous run put back on air at their offset, before the database');
    stage('on-air-early');
    return broadcast;
  };
  let broadcast: BroadcastHost;
  try {
    broadcast = await airFromLedger().catch((err: unknown) => {
      neverOpen?.(err); // a deferred open does not start for a server that cannot start
      throw err;
    });
    openNow?.();
    database = await opening;
  } catch (err) {
    await asRun?.close().catch(() => {});
    if (started) await started.close().catch(() => {});
    else await engine.then((e) => e.close(), () => {});
    await opening.then((d) => d.close(), () => {});
    lock.release();
    throw err;
  }
  stage('database');
  let app: FastifyInstance | undefined;
  let timetables: TimetableRuntime | undefined;
  try {
    const [{ migrateToLatest }, { bootstrapAdmin }] = await Promise.all([import('./db/migrate.js'), import('./auth/bootstrap.js')]);
    const applied = await migrateToLatest(database);
    if (applied.length) logger.info({ migrations: applied, dialect: database.dialect }, 'database migrated');

    const admin = await bootstrapAdmin(database.db, config.adminPassword);
    if (admin) {
      // Printed, not logged: the logger masks secrets, and this one must reach the operator once.
      print(
        admin.generated
          ? `Loa: created user "${admin.username}" with password: ${admin.password}  (shown once; change it after logging in)`
          : `Loa: created user "${admin.username}" with the password from LOA_ADMIN_PASSWORD`,
      );
    }
    if (config.demoData) {
      const { createDemoData } = await import('./demo-data.js');
      const demo = await createDemoData(database.db, config.timezone);
      if (demo) logger.info(demo, 'demo data created');
    }

    stage('migrated');

    // The engine reconciled with the database (what the snapshot gave it included).
    await broadcast.attachDatabase(database);
    stage('zones');
    asRun?.startWriter();

    // The as-run log (unless started above), the programmes of the previous run still in the
    // ledger (all of them without a snapshot), and the timetable (which puts back on air what
    // should be on air now, adopting what the ledger already put back).
    const host = broadcast;
    const db = database.db;
    const [{ startTimetables }, { resumeDurableProgrammes }] = await Promise.all([import('./timetable/runtime.js'), import('./broadcast/programme-recovery.js')]);
    timetables = await startTimetables({ config, database, logger, broadcast, asRun, beforeTimetable: () => resumeDurableProgrammes(host, db, logger) });
    broadcast.settleLedgerAirings();
    stage('on-air');

    const recorder = timetables.asRun;
    const { buildApp } = await import('./app.js');
    app = await buildApp({ config, database, logger, broadcast, readiness: () => [recorder.health()].filter((d) => d !== null) });
    await app.listen({ host: config.host, port: config.port });
    stage('listening');
  } catch (err) {
    await app?.close().catch(() => {});
    await (timetables ?? asRun)?.close().catch(() => {});
    await broadcast.close().catch(() => {});
    await database.close().catch(() => {});
    lock.release();
    throw err;
  }
  logger.info({ sinceProcessStartMs: stages }, 'startup timings');

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url, dialect: database.dialect, dataDir: config.dataDir }, 'Loa server listening');

  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
    void server.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const engineHost = broadcast;
  const timetableRuntime = timetables;
  const server: RunningServer = {
    app,
    broadcast: engineHost,
    timetables: timetableRuntime,
    config,
    database,
    logger,
    url,
    close: () =>
      (closing ??= (async () => {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
        try {
          await app.close();
          await timetableRuntime.close();
          // After the app: agents' connections are gone, their offline state is written.
          await engineHost.close();
        } finally {
          await database.close().finally(() => lock.release());
        }
      })()),
  };
  if (options.handleSignals ?? true) process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  return server;
}

/**
 * The `loa server` command: returns the exit code when it cannot start (2 for a configuration
 * error, 1 otherwise), 0 once listening (the process then runs until a signal).
 */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, print: (line: string) => void = console.error): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      'Usage: loa server\n\nConfigured by environment (or a JSON file named by LOA_CONFIG):\n' +
        '  LOA_HOST LOA_PORT LOA_DATA_DIR DATABASE_URL FFMPEG_PATH LOA_TIMEZONE LOA_DEMO_DATA\n' +
        '  LOA_ADMIN_PASSWORD LOA_LOG_LEVEL LOA_MAX_UPLOAD_MB LOA_RTP_PORT LOA_PUBLIC_HOST LOA_LANG\n' +
        '  LOA_DB_CONNECT_TIMEOUT_MS LOA_DB_STATEMENT_TIMEOUT_MS LOA_DB_QUERY_TIMEOUT_MS\n' +
        '  LOA_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS LOA_DB_START_ATTEMPTS LOA_DB_RETRY_MAX_MS\n',
    );
    return 0;
  }
  let config: LoaConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      print(`loa: configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  try {
    await startServer({ config });
    return 0;
  } catch (err) {
    print(`loa: cannot start: ${(err as Error).message}`);
    return 1;
  }
}
