/**
 * Drains the as-run journal into the database (or anything async), in order.
 *
 * The writer takes the oldest pending rows, hands them to `write`, and only
 * after `write` resolves acknowledges them in the journal. When `write` throws
 * (database down) it waits — exponential backoff up to retryMaxMs — and tries
 * the same rows again: never skips, never reorders. `write` may see a batch
 * twice (crash between commit and acknowledge): key rows on (journal.id, seq).
 */
import type { AsRunJournal, JournalRecord } from './as-run-journal.js';

export interface AsRunWriterOptions {
  journal: AsRunJournal;
  /** Store these rows (oldest first); throw to have them retried later. */
  write: (records: JournalRecord[]) => Promise<void>;
  /** Rows per write. Default 500. */
  batchSize?: number;
  /** First retry delay. Default 500 ms. */
  retryMinMs?: number;
  /** Longest retry delay. Default 30 s. */
  retryMaxMs?: number;
  /** Told about every failed write (for logs and health). */
  onError?: (err: unknown, attempt: number, retryInMs: number) => void;
}

export interface AsRunWriterStats {
  /** Rows written and acknowledged. */
  written: number;
  /** Failed write attempts. */
  failures: number;
  /** Consecutive failures of the current batch (0 when healthy). */
  attempt: number;
}

export class AsRunWriter {
  readonly #journal: AsRunJournal;
  readonly #write: AsRunWriterOptions['write'];
  readonly #batchSize: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #onError: AsRunWriterOptions['onError'];
  readonly #stats: AsRunWriterStats = { written: 0, failures: 0, attempt: 0 };
  #running = false;
  #loop: Promise<void> | null = null;
  /** Wakes the loop when it sleeps (new rows, close). */
  #wake: (() => void) | null = null;
  #sleepTimer: NodeJS.Timeout | null = null;
  #idleWaiters: (() => void)[] = [];
  #retrying = false;
  readonly #onDurable = (): void => {
    if (!this.#retrying) this.#wakeUp(); // new rows must not hurry a backoff
  };

  constructor(options: AsRunWriterOptions) {
    this.#journal = options.journal;
    this.#write = options.write;
    this.#batchSize = options.batchSize ?? 500;
    this.#retryMinMs = options.retryMinMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 30_000;
    this.#onError = options.onError;
  }

  get stats(): Readonly<AsRunWriterStats> {
    return { ...this.#stats };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#journal.on('durable', this.#onDurable);
    this.#loop = this.#run();
  }

  /** Resolves when the journal has nothing pending (everything written and acknowledged). */
  drained(): Promise<void> {
    if (this.#journal.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stop after the write in flight (its rows stay pending if it fails). */
  async close(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#journal.off('durable', this.#onDurable);
    this.#wakeUp();
    await this.#loop;
  }

  #wakeUp(): void {
    if (this.#sleepTimer) {
      clearTimeout(this.#sleepTimer);
      this.#sleepTimer = null;
    }
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Sleep until woken (new rows, close), or for `ms` when given. */
  #sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      if (ms !== undefined) this.#sleepTimer = setTimeout(() => this.#wakeUp(), ms);
    });
  }

  async #run(): Promise<void> {
    while (this.#running) {
      const batch = this.#journal.pending(this.#batchSize);
      if (batch.length === 0) {
        for (const w of this.#idleWaiters.splice(0)) w();
        await this.#sleep();
        continue;
      }
      try {
        await this.#write(batch);
        await this.#journal.acknowledge(batch[batch.length - 1].seq);
      } catch (err) {
        this.#stats.failures++;
        this.#stats.attempt++;
        const delay = Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** (this.#stats.attempt - 1));
        this.#onError?.(err, this.#stats.attempt, delay);
        if (!this.#running) break;
        this.#retrying = true;
        await this.#sleep(delay);
        this.#retrying = false;
        continue;
      }
      this.#stats.attempt = 0;
      this.#stats.written += batch.length;
    }
  }
}
