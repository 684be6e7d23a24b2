// The as-run log at work: every programme event the engine reports (timetable, manual play,
// alerts alike) becomes a row, described from the programme catalog, appended to the durable
// journal under <dataDir>/as-run (fsync'd before it counts), and drained into the as_run table
// by the writer, which retries while the database is down. A crash loses no row: the journal
// replays what the database did not acknowledge, and the table ignores rows it already has.
import path from 'node:path';
import type { Kysely } from 'kysely';
import { AsRunJournal } from '../../scheduler/as-run-journal.js';
import { AsRunWriter, type AsRunWriterOptions } from '../../scheduler/as-run-writer.js';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import type { ProgrammeCatalog } from '../broadcast/programme-catalog.js';
import type { LoaConfig } from '../config.js';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';
import { describeProgrammeEvent } from './describe.js';
import { writeAsRunRecords } from './store.js';

/** The Engine's programme events (any EventEmitter<EngineEvents> will do). */
export interface AsRunEngine {
  on(event: 'programme', listener: (e: ProgrammeZoneEvent) => void): unknown;
  off(event: 'programme', listener: (e: ProgrammeZoneEvent) => void): unknown;
}

export interface AsRunOptions {
  engine: AsRunEngine;
  catalog: ProgrammeCatalog;
  /** Read at every write, so a reconnected handle is picked up. */
  database: { readonly db: Kysely<DB> };
  config: Pick<LoaConfig, 'dataDir'>;
  logger: Logger;
  /** Retry tuning (tests); defaults from scheduler/as-run-writer.ts. */
  writer?: Pick<AsRunWriterOptions, 'batchSize' | 'retryMinMs' | 'retryMaxMs'>;
  /** How often fully written journal segments are deleted. Default 10 min. */
  compactEveryMs?: number;
}

export function asRunDir(config: Pick<LoaConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'as-run');
}

export class AsRunRecorder {
  readonly journal: AsRunJournal;
  readonly writer: AsRunWriter;
  /** Rows the journal refused (it failed on disk); logged, and visible in health. */
  lostRows = 0;
  readonly #opts: AsRunOptions;
  readonly #log: Logger;
  readonly #compactTimer: NodeJS.Timeout;
  #appends = new Set<Promise<unknown>>();
  #closed = false;

  readonly #onProgramme = (e: ProgrammeZoneEvent): void => {
    const { catalog } = this.#opts;
    const row = describeProgrammeEvent(e, catalog.get(e.programmeId), (id) => catalog.get(id)?.title);
    const p = this.journal.append([row]).catch((err: unknown) => {
      this.lostRows++;
      this.#log.error({ err, zoneId: row.zoneId, event: row.event, programme: row.programme }, 'as-run row could not be journaled');
    });
    this.#appends.add(p);
    void p.finally(() => this.#appends.delete(p));
  };

  private constructor(opts: AsRunOptions, journal: AsRunJournal) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'as-run' });
    this.journal = journal;
    this.writer = new AsRunWriter({
      journal,
      write: (records) => writeAsRunRecords(opts.database.db, journal.id, records),
      ...opts.writer,
      onError: (err, attempt, retryInMs) => {
        const log = attempt === 1 || attempt % 10 === 0 ? this.#log.warn.bind(this.#log) : this.#log.debug.bind(this.#log);
        log({ err, attempt, retryInMs, pending: journal.pendingCount }, 'as-run rows not written yet; kept on disk, retrying');
      },
    });
    this.#compactTimer = setInterval(() => {
      void journal.compact().catch((err: unknown) => this.#log.warn({ err }, 'as-run journal compaction failed'));
    }, opts.compactEveryMs ?? 10 * 60_000);
    this.#compactTimer.unref();
  }

  /** Opens the journal (replaying what a crash left unwritten), starts the writer, listens to the engine. */
  static async start(opts: AsRunOptions): Promise<AsRunRecorder> {
    const journal = await AsRunJournal.open(asRunDir(opts.config));
    const recorder = new AsRunRecorder(opts, journal);
    const { records, tornBytes, corruptLines } = journal.openReport;
    if (journal.pendingCount > 0 || tornBytes > 0 || corruptLines > 0) {
      recorder.#log.info({ pending: journal.pendingCount, records, tornBytes, corruptLines }, 'as-run journal reopened with rows to write');
    }
    recorder.writer.start();
    opts.engine.on('programme', recorder.#onProgramme);
    return recorder;
  }

  /** Resolves once every row recorded so far is durable in the journal and written to the database. */
  async flushed(): Promise<void> {
    await Promise.all([...this.#appends]);
    await this.writer.drained();
  }

  /** Stops listening, lets journal appends finish, stops the writer (unwritten rows stay on disk). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.engine.off('programme', this.#onProgramme);
    clearInterval(this.#compactTimer);
    await Promise.all([...this.#appends]);
    await this.writer.close();
    await this.journal.close();
  }
}

/** Starts the as-run log (main.ts): returns it running; close() before the database closes. */
export function startAsRunRecorder(opts: AsRunOptions): Promise<AsRunRecorder> {
  return AsRunRecorder.start(opts);
}
