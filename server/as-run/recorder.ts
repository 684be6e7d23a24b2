// The as-run log at work: every programme event the engine reports (timetable, manual play,
// alerts alike) becomes a row, described from the programme catalog, appended to the durable
// journal under <dataDir>/as-run (fsync'd before it counts), and drained into the as_run table
// by the writer, which retries while the database is down. A crash loses no row: the journal
// replays what the database did not acknowledge, and the table ignores rows it already has.
import path from 'node:path';
import type { Kysely } from 'kysely';
import { AsRunJournal, type AsRunJournalOptions } from '../../scheduler/as-run-journal.js';
import { AsRunWriter, type AsRunWriterOptions } from '../../scheduler/as-run-writer.js';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import type { AsRunRow } from '../../scheduler/as-run.js';
import type { ProgrammeCatalog } from '../broadcast/programme-catalog.js';
import type { LoaConfig } from '../config.js';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';
import type { Degradation } from '../api/health.js';
import { describeProgrammeEvent } from './describe.js';
import { INTERRUPTED_REASON, OpenIntervals, closingRows, readOnAirMark, writeOnAirMark } from './on-air-marks.js';
import { writeAsRunRecords } from './store.js';

/** The Engine's programme events (any EventEmitter<EngineEvents> will do). */
export interface AsRunEngine {
  on(event: 'programme', listener: (e: ProgrammeZoneEvent) => void): unknown;
  off(event: 'programme', listener: (e: ProgrammeZoneEvent) => void): unknown;
  /** The media worker died: what it aired stopped then (the rows are closed as interrupted). */
  on(event: 'died', listener: (err: Error) => void): unknown;
  off(event: 'died', listener: (err: Error) => void): unknown;
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
  /** Journal tuning (tests): retry of failed disk writes, rows held meanwhile. */
  journal?: Pick<AsRunJournalOptions, 'retryMinMs' | 'retryMaxMs' | 'maxHeldRows'>;
  /** How often the "still on air" mark is written (on-air-marks.ts). Default 500 ms. */
  markEveryMs?: number;
  /**
   * Journal rows but do not write them to the database until startWriter() (main.ts starts the
   * recorder before the database is open, to log what goes back on air early).
   */
  deferWriter?: boolean;
}

/** While the disk refuses rows, one reminder per this long (the first failure is logged at once). */
const DEGRADED_LOG_EVERY_MS = 60_000;

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
  #lastDegradedLogMs = -Infinity;
  #lastLostLogMs = -Infinity;
  #lostSinceLog = 0;
  /** Intervals open now: written as the "still on air" mark, closed as interrupted on a crash. */
  readonly #open = new OpenIntervals();
  #markTimer: NodeJS.Timeout | undefined;
  #marking: Promise<void> | undefined;

  readonly #onProgramme = (e: ProgrammeZoneEvent): void => {
    const { catalog } = this.#opts;
    const row = describeProgrammeEvent(e, catalog.get(e.programmeId), (id) => catalog.get(id)?.title);
    this.#open.apply(row);
    this.#append([row]);
  };

  readonly #onDied = (): void => {
    const rows = this.#open.closeAll(Date.now(), `${INTERRUPTED_REASON}: media worker died`);
    if (rows.length === 0) return;
    this.#log.warn({ intervals: rows.length }, 'media worker died: open as-run intervals closed as interrupted');
    this.#append(rows);
  };

  #writeMark(): void {
    if (this.#marking) return; // a slow disk: skip this beat rather than queue them
    this.#marking = writeOnAirMark(this.journal.dir, { atMs: Date.now(), open: this.#open.rows() })
      .catch((err: unknown) => this.#log.warn({ err }, 'as-run on-air mark could not be written'))
      .finally(() => (this.#marking = undefined));
  }

  /** After a kill -9: closes the intervals the previous run left open, at its last mark (the next beat replaces the mark). */
  async #closeInterrupted(): Promise<void> {
    const mark = await readOnAirMark(this.journal.dir);
    if (!mark || mark.open.length === 0) return;
    const rows = closingRows(mark.open, mark.atMs, INTERRUPTED_REASON);
    this.#log.warn({ intervals: rows.length, lastOnAirAt: new Date(mark.atMs).toISOString() }, 'the previous run ended without closing its as-run intervals: closed as interrupted at its last on-air mark');
    this.#append(rows);
  }

  #append(rows: AsRunRow[]): void {
    const row = rows[0];
    const p = this.journal.append(rows).catch((err: unknown) => {
      this.lostRows += rows.length;
      this.#lostSinceLog += rows.length;
      // Only past the journal's large bound of held rows (disk full for days): say so, not once per row.
      const now = Date.now();
      if (now - this.#lastLostLogMs < DEGRADED_LOG_EVERY_MS) return;
      this.#lastLostLogMs = now;
      this.#log.error(
        { err, zoneId: row.zoneId, event: row.event, programme: row.programme, lostSinceLastLine: this.#lostSinceLog, lostRows: this.lostRows },
        'as-run rows could not be journaled and are lost',
      );
      this.#lostSinceLog = 0;
    });
    this.#appends.add(p);
    void p.finally(() => this.#appends.delete(p));
  }

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
    journal.on('writeFailed', (err, state, retryInMs) => {
      const now = Date.now();
      if (state.attempts > 1 && now - this.#lastDegradedLogMs < DEGRADED_LOG_EVERY_MS) return;
      this.#lastDegradedLogMs = now;
      this.#log.error(
        { err, code: state.code, heldRows: state.heldRows, attempts: state.attempts, retryInMs, dir: journal.dir },
        'as-run journal cannot write to disk; rows are held in memory and written when the disk accepts them again',
      );
    });
    journal.on('recovered', ({ awayMs, attempts, rows }) => {
      this.#lastDegradedLogMs = -Infinity;
      this.#log.info({ awayMs, attempts, rows }, 'as-run journal writes to disk again; the rows held meanwhile are durable');
    });
    this.#compactTimer = setInterval(() => {
      void journal.compact().catch((err: unknown) => this.#log.warn({ err }, 'as-run journal compaction failed'));
    }, opts.compactEveryMs ?? 10 * 60_000);
    this.#compactTimer.unref();
  }

  /** Opens the journal (replaying what a crash left unwritten), starts the writer, listens to the engine. */
  static async start(opts: AsRunOptions): Promise<AsRunRecorder> {
    const journal = await AsRunJournal.open(asRunDir(opts.config), opts.journal);
    const recorder = new AsRunRecorder(opts, journal);
    const { records, tornBytes, corruptLines } = journal.openReport;
    if (journal.pendingCount > 0 || tornBytes > 0 || corruptLines > 0) {
      recorder.#log.info({ pending: journal.pendingCount, records, tornBytes, corruptLines }, 'as-run journal reopened with rows to write');
    }
    try {
      await recorder.#closeInterrupted();
    } catch (err) {
      recorder.#log.error({ err }, 'could not close the as-run intervals a crash left open');
    }
    if (!opts.deferWriter) recorder.writer.start();
    opts.engine.on('programme', recorder.#onProgramme);
    opts.engine.on('died', recorder.#onDied);
    recorder.#markTimer = setInterval(() => recorder.#writeMark(), opts.markEveryMs ?? 500);
    recorder.#markTimer.unref();
    return recorder;
  }

  /** Starts writing journaled rows to the database (after `deferWriter`; idempotent). */
  startWriter(): void {
    if (!this.#closed) this.writer.start();
  }

  /** What /readyz reports while the journal cannot write (null when it can). */
  health(): Degradation | null {
    const d = this.journal.degraded;
    if (!d) return null;
    return {
      component: 'as-run-journal',
      code: 'journal-degraded',
      key: 'journal_degraded',
      params: { reason: d.code ?? d.reason, held: d.heldRows },
      reason: `${d.reason}; ${d.heldRows} rows held in memory since ${new Date(d.sinceMs).toISOString()}, ${this.lostRows} refused`,
    };
  }

  /** Resolves once every row recorded so far is durable in the journal and written to the database. */
  async flushed(): Promise<void> {
    await Promise.all([...this.#appends]);
    await this.writer.drained();
  }

  /** Stops listening and the writer, lets journal appends finish (unwritten rows stay on disk). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#opts.engine.off('programme', this.#onProgramme);
    this.#opts.engine.off('died', this.#onDied);
    clearInterval(this.#compactTimer);
    clearInterval(this.#markTimer);
    await this.#marking;
    // A shutdown ends no programme in the engine: the last mark says until when they aired,
    // and the next start closes them there (and resumes the durable ones).
    await writeOnAirMark(this.journal.dir, { atMs: Date.now(), open: this.#open.rows() }).catch((err: unknown) =>
      this.#log.warn({ err }, 'as-run on-air mark could not be written'),
    );
    await this.writer.close();
    // The journal writes what it holds (or, with the disk still full, settles those appends as lost).
    await this.journal.close();
    await Promise.all([...this.#appends]);
  }
}

/** Starts the as-run log (main.ts): returns it running; close() before the database closes. */
export function startAsRunRecorder(opts: AsRunOptions): Promise<AsRunRecorder> {
  return AsRunRecorder.start(opts);
}
