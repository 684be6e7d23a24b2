/**
 * Endpoint statistics reach the control plane every few seconds per endpoint;
 * the database sees at most one write per endpoint per interval. The latest
 * report wins; a single timer, running only while something is pending,
 * flushes what is due — in one UPDATE for the whole batch, at most once per
 * batch window. (One statement per endpoint queued hundreds of writes a second
 * at 1000 endpoints in front of the API's own queries on the embedded database,
 * whose queries run one at a time: an alert's scope checks waited behind them.)
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';

/** Reports arriving this close together are written together. */
const BATCH_WINDOW_MS = 1000;
const MAX_ROWS_PER_STATEMENT = 500;

export class StatsWriter {
  private readonly pending = new Map<string, Record<string, unknown>>();
  private readonly lastWrite = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Rows written so far (tests, diagnostics). */
  writes = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly logger: Logger,
    /** Minimum time between two writes of one endpoint's row (default 10 s). */
    private readonly intervalMs = 10_000,
  ) {}

  /** Records the latest stats of an endpoint; written now if its last write is old enough, else later. */
  offer(endpointId: string, stats: Record<string, unknown>, nowMs = Date.now()): void {
    if (this.closed) return;
    this.pending.set(endpointId, stats);
    const last = this.lastWrite.get(endpointId);
    const dueIn = last === undefined ? 0 : last + this.intervalMs - nowMs;
    // Gather what arrives within the batch window into one write.
    this.schedule(Math.max(dueIn, Math.min(BATCH_WINDOW_MS, this.intervalMs)));
  }

  /** Drops what is pending for an endpoint (it went away). */
  forget(endpointId: string): void {
    this.pending.delete(endpointId);
    this.lastWrite.delete(endpointId);
  }

  /** Writes everything pending now (shutdown). */
  async flushAll(): Promise<void> {
    this.flushDue(Infinity, true);
    await this.flushing;
  }

  async close(): Promise<void> {
    await this.flushAll();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Arms the one timer for `inMs` from now, unless it already fires sooner. */
  private schedule(inMs: number): void {
    const at = Date.now() + Math.max(1, inMs);
    if (this.timer) {
      if (this.timerAt <= at) return;
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushDue(Date.now());
    }, at - Date.now());
    this.timer.unref();
  }

  private flushDue(nowMs: number, all = false): void {
    const due: [string, Record<string, unknown>][] = [];
    let nextIn = Infinity;
    for (const [id, stats] of this.pending) {
      const last = this.lastWrite.get(id);
      if (all || last === undefined || nowMs - last >= this.intervalMs) due.push([id, stats]);
      else nextIn = Math.min(nextIn, last + this.intervalMs - nowMs);
    }
    const stamp = Number.isFinite(nowMs) ? nowMs : Date.now();
    for (const [id] of due) {
      this.pending.delete(id);
      this.lastWrite.set(id, stamp);
    }
    if (nextIn < Infinity) this.schedule(nextIn);
    if (due.length === 0) return;
    this.flushing = this.flushing.then(() => this.write(due, new Date(stamp)));
  }

  private async write(rows: [string, Record<string, unknown>][], at: Date): Promise<void> {
    for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + MAX_ROWS_PER_STATEMENT);
      const values = sql.join(chunk.map(([id, stats]) => sql`(${id}, ${JSON.stringify(stats)})`));
      try {
        await sql`update endpoints set stats = v.stats::jsonb, last_seen_at = ${at}
          from (values ${values}) as v(id, stats) where endpoints.id = v.id`.execute(this.db);
        this.writes += chunk.length;
      } catch (err) {
        this.logger.warn({ err, endpoints: chunk.length }, 'could not store endpoint stats');
      }
    }
  }
}
