/**
 * Endpoint statistics reach the control plane every few seconds per endpoint;
 * the database sees at most one write per endpoint per interval. The latest
 * report wins; a single timer, running only while something is pending,
 * flushes what is due — in one UPDATE for the whole batch, at most once per
 * batch window. (One statement per endpoint queued hundreds of writes a second
 * at 1000 endpoints in front of the API's own queries on the embedded database,
 * whose queries run one at a time: an alert's scope checks waited behind them.)
 *
 * While the database is away a failed batch goes back into the pending map, under any newer
 * report of the same endpoint (the latest wins, so memory stays one entry per endpoint), and is
 * retried with backoff; each row keeps the time of its report, so last_seen_at stays true.
 */
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';

/** Reports arriving this close together are written together. */
const BATCH_WINDOW_MS = 1000;
/**
 * The embedded database runs each statement synchronously on the main thread: a 500-row UPDATE
 * held the event loop for 0.3–0.45 s (measured on the loaded 2-core machine; 100 rows: 8–110 ms),
 * in front of any request that arrived meanwhile, an alert included. Smaller statements, with
 * the event loop let through between them (see write()).
 */
const MAX_ROWS_PER_STATEMENT = 100;
/** Retries of a failed batch back off from the batch window up to this. */
const RETRY_MAX_MS = 30_000;

interface PendingStats {
  stats: Record<string, unknown>;
  /** When the report arrived (ms): last_seen_at, even when written later. */
  atMs: number;
}
export class StatsWriter {
  private readonly pending = new Map<string, PendingStats>();
  private readonly lastWrite = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Rows written so far (tests, diagnostics). */
  writes = 0;
  /** Failed batches in a row (0 when the last write worked); retries wait while > 0. */
  private failures = 0;
  private retryAtMs = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly logger: Logger,
    /** Minimum time between two writes of one endpoint's row (default 10 s). */
    private readonly intervalMs = 10_000,
  ) {}

  /** Records the latest stats of an endpoint; written now if its last write is old enough, else later. */
  offer(endpointId: string, stats: Record<string, unknown>, nowMs = Date.now()): void {
    if (this.closed) return;
    this.pending.set(endpointId, { stats, atMs: nowMs });
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

  /** Reports waiting to be written (one per endpoint at most). */
  get pendingCount(): number {
    return this.pending.size;
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
    // While the database is away, nothing is tried before the backoff is over.
    const at = Math.max(Date.now() + Math.max(1, inMs), this.failures > 0 ? this.retryAtMs : 0);
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
    const due: [string, PendingStats][] = [];
    let nextIn = Infinity;
    for (const [id, entry] of this.pending) {
      const last = this.lastWrite.get(id);
      if (all || last === undefined || nowMs - last >= this.intervalMs) due.push([id, entry]);
      else nextIn = Math.min(nextIn, last + this.intervalMs - nowMs);
    }
    const stamp = Number.isFinite(nowMs) ? nowMs : Date.now();
    for (const [id] of due) {
      this.pending.delete(id);
      this.lastWrite.set(id, stamp);
    }
    if (nextIn < Infinity) this.schedule(nextIn);
    if (due.length === 0) return;
    this.flushing = this.flushing.then(() => this.write(due));
  }

  private async write(rows: [string, PendingStats][]): Promise<void> {
    for (let i = 0; i < rows.length; i += MAX_ROWS_PER_STATEMENT) {
      if (i > 0) await new Promise((r) => setImmediate(r));
      const chunk = rows.slice(i, i + MAX_ROWS_PER_STATEMENT);
      const values = sql.join(chunk.map(([id, e]) => sql`(${id}, ${JSON.stringify(e.stats)}, ${new Date(e.atMs).toISOString()})`));
      try {
        await sql`update endpoints set stats = v.stats::jsonb, last_seen_at = v.at::timestamptz
          from (values ${values}) as v(id, stats, at) where endpoints.id = v.id`.execute(this.db);
        this.writes += chunk.length;
        if (this.failures > 0) this.logger.info({ failures: this.failures, endpoints: chunk.length }, 'endpoint stats stored again');
        this.failures = 0;
      } catch (err) {
        this.requeue(rows.slice(i), err);
        return;
      }
    }
  }

  /** Puts a failed batch back (unless a newer report came meanwhile) and retries it later. */
  private requeue(rows: [string, PendingStats][], err: unknown): void {
    this.failures++;
    const retryInMs = Math.min(RETRY_MAX_MS, Math.min(BATCH_WINDOW_MS, this.intervalMs) * 2 ** Math.min(this.failures - 1, 10));
    // One line when it starts, then one per ten tries: an outage must not flood the log.
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.warn(
        { err, endpoints: rows.length, failures: this.failures, retryInMs, databaseAway: isDatabaseUnavailable(err) },
        'could not store endpoint stats; kept (latest per endpoint) and retried',
      );
    }
    if (this.closed) return;
    for (const [id, entry] of rows) {
      const newer = this.pending.get(id);
      if (!newer || newer.atMs < entry.atMs) this.pending.set(id, entry);
      // Due again as soon as the backoff allows: it was never written.
      this.lastWrite.delete(id);
    }
    this.retryAtMs = Date.now() + retryInMs;
    this.schedule(retryInMs);
  }
}
