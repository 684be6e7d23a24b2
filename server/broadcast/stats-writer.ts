/**
 * Endpoint statistics reach the control plane every few seconds per endpoint;
 * the database sees at most one write per endpoint per interval. The latest
 * report wins; a single timer, running only while something is pending,
 * flushes what is due.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';

export class StatsWriter {
  private readonly pending = new Map<string, Record<string, unknown>>();
  private readonly lastWrite = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
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
    if (last === undefined || nowMs - last >= this.intervalMs) this.flushDue(nowMs);
    else this.schedule(last + this.intervalMs - nowMs);
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

  private schedule(inMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushDue(Date.now());
    }, Math.max(1, inMs));
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
    for (const [id, stats] of rows) {
      try {
        await this.db.updateTable('endpoints').set({ stats: JSON.stringify(stats), last_seen_at: at }).where('id', '=', id).execute();
        this.writes++;
      } catch (err) {
        this.logger.warn({ err, endpointId: id }, 'could not store endpoint stats');
      }
    }
  }
}
