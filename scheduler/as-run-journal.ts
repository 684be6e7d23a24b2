/**
 * A durable write-ahead journal for as-run rows, so that no row is lost when
 * the database is down or the process is killed.
 *
 * Layout of the directory:
 *   journal.id            random id of this journal (with seq, an idempotency key for the database)
 *   ack                   highest sequence number the database has committed (replaced atomically)
 *   seg-<firstSeq>.log    append-only segments, one record per line: `<crc32 hex>\t<json {s, r}>\n`
 *
 * append() resolves only once its rows are written and fdatasync'd; appends
 * arriving within `groupCommitMs` share one write and one sync. A crash can
 * only tear the last line of the last segment: reopening drops it (bad
 * checksum or no newline) and truncates it away, keeping every earlier row.
 * Reopening yields every durable row above `ack` exactly once, in order.
 * A crash between the database commit and acknowledge() replays those rows:
 * the database makes that harmless with a unique (journalId, seq).
 *
 * A failed write (disk full, I/O error) does not stop the journal: the file is cut back to its
 * last whole line, the rows stay in memory (their append() still pending) and the write is
 * retried with backoff until it succeeds; meanwhile `degraded` says why and how many rows wait.
 * Only past `maxHeldRows` are new rows refused, and counted in `droppedRows`.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { asRunRowProblem, type AsRunRow } from './as-run.js';

export interface JournalRecord {
  seq: number;
  row: AsRunRow;
}

export interface AsRunJournalOptions {
  /** Appends within this window share one write+fsync. Default 2 ms. */
  groupCommitMs?: number;
  /** A segment is closed and a new one started past this size. Default 4 MiB. */
  segmentBytes?: number;
  /** First retry of a failed write (disk full). Default 500 ms; doubles up to retryMaxMs. */
  retryMinMs?: number;
  /** Longest wait between two retries of a failed write. Default 10 s. */
  retryMaxMs?: number;
  /**
   * Rows kept in memory while the disk refuses them. Default 200 000 (~100 MB at ~500 B a row:
   * days of as-run events for a whole province); beyond it new rows are refused and counted.
   */
  maxHeldRows?: number;
}

/** Why the journal cannot write now, while it does not (null when healthy). */
export interface JournalDegraded {
  /** The error of the last failed write (e.g. "ENOSPC: no space left on device, write"). */
  reason: string;
  code: string | null;
  /** When the first write of this episode failed (ms since epoch). */
  sinceMs: number;
  /** Failed writes in this episode. */
  attempts: number;
  /** Rows waiting in memory to be written. */
  heldRows: number;
}

export interface JournalOpenReport {
  /** Records found on disk (acknowledged or not). */
  records: number;
  /** Bytes of a torn last line cut off the last segment. */
  tornBytes: number;
  /** Lines with a bad checksum in the middle of a segment (disk corruption), skipped. */
  corruptLines: number;
}

export interface AsRunJournalEvents {
  /** New rows became durable (and so visible in pending()). */
  durable: [lastSeq: number];
  /** A write failed; its rows are held and will be retried in `retryInMs`. */
  writeFailed: [err: Error, state: JournalDegraded, retryInMs: number];
  /** Writes work again after a failure: everything held is durable. */
  recovered: [state: { awayMs: number; attempts: number; rows: number }];
}

export class JournalFullError extends Error {
  override readonly name = 'JournalFullError';
}

interface Segment {
  path: string;
  firstSeq: number;
  lastSeq: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

const ID_FILE = 'journal.id';
const ACK_FILE = 'ack';
const SEGMENT_RE = /^seg-(\d{16})\.log$/;
const segmentName = (firstSeq: number): string => `seg-${String(firstSeq).padStart(16, '0')}.log`;
const checksum = (text: string): string => crc32(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');

function encodeRecord(rec: JournalRecord): string {
  const json = JSON.stringify({ s: rec.seq, r: rec.row });
  return `${checksum(json)}\t${json}\n`;
}

/** A line (without its newline) back to a record, or null when it fails its checksum or shape. */
function decodeRecord(line: string): JournalRecord | null {
  const tab = line.indexOf('\t');
  if (tab !== 8) return null;
  const json = line.slice(9);
  if (checksum(json) !== line.slice(0, 8)) return null;
  try {
    const v = JSON.parse(json) as { s?: unknown; r?: unknown };
    if (typeof v.s !== 'number' || !Number.isSafeInteger(v.s) || v.s < 1 || asRunRowProblem(v.r) !== null) return null;
    return { seq: v.s, row: v.r as AsRunRow };
  } catch {
    return null;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write a small file so that after a crash it holds either the old or the new content, whole. */
async function writeFileAtomic(dir: string, name: string, content: string): Promise<void> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  await syncDir(dir);
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

export class AsRunJournal extends EventEmitter<AsRunJournalEvents> {
  readonly dir: string;
  /** Random, created with the directory: (id, seq) identifies a row forever. */
  readonly id: string;
  readonly openReport: JournalOpenReport;
  readonly #groupCommitMs: number;
  readonly #segmentBytes: number;
  #segments: Segment[];
  #active: FileHandle | null = null;
  #activeSize = 0;
  #nextSeq: number;
  #ackedSeq: number;
  #durableSeq: number;
  #pending: JournalRecord[];
  #batch: JournalRecord[] = [];
  #batchWaiters: Waiter[] = [];
  /** Rows of the write in progress (not in #batch meanwhile). */
  #writing = 0;
  #batchTimer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #ackChain: Promise<void> = Promise.resolve();
  #degraded: JournalDegraded | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #needRoll = false;
  /** A failed write could not be cut back: end its partial line before the next record. */
  #needNewline = false;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #maxHeldRows: number;
  /** Rows refused because maxHeldRows were already waiting. */
  droppedRows = 0;
  #closed = false;

  private constructor(
    dir: string,
    id: string,
    options: AsRunJournalOptions,
    state: { segments: Segment[]; ackedSeq: number; lastSeq: number; pending: JournalRecord[]; report: JournalOpenReport },
  ) {
    super();
    this.dir = dir;
    this.id = id;
    this.#groupCommitMs = options.groupCommitMs ?? 2;
    this.#segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.#retryMinMs = options.retryMinMs ?? 500;
    this.#retryMaxMs = options.retryMaxMs ?? 10_000;
    this.#maxHeldRows = options.maxHeldRows ?? 200_000;
    this.#segments = state.segments;
    this.#ackedSeq = state.ackedSeq;
    this.#durableSeq = state.lastSeq;
    this.#nextSeq = Math.max(state.lastSeq, state.ackedSeq) + 1;
    this.#pending = state.pending;
    this.openReport = state.report;
  }

  /** Open (creating if needed) the journal in `dir`, recovering from a crash if there was one. */
  static async open(dir: string, options: AsRunJournalOptions = {}): Promise<AsRunJournal> {
    await mkdir(dir, { recursive: true });
    let id: string;
    try {
      id = (await readFile(join(dir, ID_FILE), 'utf8')).trim();
      if (id === '') throw new Error('empty id');
    } catch {
      id = randomUUID();
      await writeFileAtomic(dir, ID_FILE, `${id}\n`);
    }

    let ackedSeq = 0;
    try {
      const line = (await readFile(join(dir, ACK_FILE), 'utf8')).replace(/\n$/, '');
      const [sum, text] = line.split('\t');
      // A bad ack file replays rows rather than losing them; the database dedups on (id, seq).
      if (text !== undefined && checksum(text) === sum && /^\d+$/.test(text)) ackedSeq = Number(text);
    } catch {
      /* no ack yet */
    }

    const names = (await readdir(dir)).filter((n) => SEGMENT_RE.test(n)).sort();
    const segments: Segment[] = [];
    const pending: JournalRecord[] = [];
    const report: JournalOpenReport = { records: 0, tornBytes: 0, corruptLines: 0 };
    let lastSeq = 0;
    for (let i = 0; i < names.length; i++) {
      const path = join(dir, names[i]);
      const firstSeq = Number(SEGMENT_RE.exec(names[i])![1]);
      const buf = await readFile(path);
      const isLast = i === names.length - 1;
      let offset = 0;
      let goodEnd = 0; // byte offset just after the last good line
      let badSinceGood = 0;
      let segLast = firstSeq - 1;
      while (offset < buf.length) {
        const nl = buf.indexOf(0x0a, offset);
        const lineEnd = nl === -1 ? buf.length : nl;
        const rec = nl === -1 ? null : decodeRecord(buf.toString('utf8', offset, lineEnd));
        if (rec !== null) {
          goodEnd = nl + 1;
          report.corruptLines += badSinceGood;
          badSinceGood = 0;
          if (rec.seq > lastSeq) {
            lastSeq = rec.seq;
            segLast = rec.seq;
            report.records++;
            if (rec.seq > ackedSeq) pending.push(rec);
          }
        } else {
          badSinceGood++;
        }
        offset = lineEnd + 1;
      }
      if (!isLast) {
        report.corruptLines += badSinceGood;
      } else if (goodEnd < buf.length) {
        // Whatever follows the last good line of the last segment is the write a crash tore: cut it off.
        report.tornBytes = buf.length - goodEnd;
        const fh = await open(path, 'r+');
        try {
          await fh.truncate(goodEnd);
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      segments.push({ path, firstSeq, lastSeq: segLast });
    }
    const journal = new AsRunJournal(dir, id, options, { segments, ackedSeq, lastSeq, pending, report });
    await journal.#openActive();
    return journal;
  }

  /** Highest sequence number acknowledged by the database writer. */
  get ackedSeq(): number {
    return this.#ackedSeq;
  }

  /** Highest sequence number that is durable on disk. */
  get durableSeq(): number {
    return this.#durableSeq;
  }

  /** Durable rows not yet acknowledged, oldest first (at most `limit`). */
  pending(limit = Infinity): JournalRecord[] {
    return this.#pending.length <= limit ? this.#pending.slice() : this.#pending.slice(0, limit);
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Why writes fail now and how many rows wait in memory; null while writes work. */
  get degraded(): JournalDegraded | null {
    return this.#degraded && { ...this.#degraded, heldRows: this.#heldRows() };
  }

  /**
   * Append rows; resolves once they are on disk (fdatasync'd), with their sequence numbers.
   * A malformed row rejects the whole call and nothing of it is written.
   */
  append(rows: AsRunRow[]): Promise<number[]> {
    if (this.#closed) return Promise.reject(new Error('as-run journal is closed'));
    for (let i = 0; i < rows.length; i++) {
      const problem = asRunRowProblem(rows[i]);
      if (problem !== null) return Promise.reject(new TypeError(`as-run row ${i}: ${problem}`));
    }
    if (rows.length === 0) return Promise.resolve([]);
    if (this.#heldRows() + rows.length > this.#maxHeldRows) {
      this.droppedRows += rows.length;
      const why = this.#degraded?.reason ?? 'the disk is too slow';
      return Promise.reject(new JournalFullError(`as-run journal holds ${this.#heldRows()} rows it cannot write (${why}); row refused`));
    }
    const seqs: number[] = [];
    for (const row of rows) {
      const rec = { seq: this.#nextSeq++, row: structuredClone(row) };
      this.#batch.push(rec);
      seqs.push(rec.seq);
    }
    const done = new Promise<void>((resolve, reject) => this.#batchWaiters.push({ resolve, reject }));
    // While degraded the retry timer writes them, with the rows held before them.
    if (!this.#degraded) {
      this.#batchTimer ??= setTimeout(() => {
        this.#batchTimer = null;
        this.#flushing = this.#flushing.then(() => this.#flush());
      }, this.#groupCommitMs);
    }
    return done.then(() => seqs);
  }

  /** The database committed every row up to `uptoSeq`: forget them (durably). */
  acknowledge(uptoSeq: number): Promise<void> {
    if (!Number.isSafeInteger(uptoSeq) || uptoSeq > this.#durableSeq) {
      return Promise.reject(new RangeError(`cannot acknowledge ${uptoSeq}: only rows up to ${this.#durableSeq} are durable`));
    }
    const next = this.#ackChain.then(async () => {
      if (uptoSeq <= this.#ackedSeq) return;
      await writeFileAtomic(this.dir, ACK_FILE, `${checksum(String(uptoSeq))}\t${uptoSeq}\n`);
      this.#ackedSeq = uptoSeq;
      let drop = 0;
      while (drop < this.#pending.length && this.#pending[drop].seq <= uptoSeq) drop++;
      this.#pending.splice(0, drop);
    });
    this.#ackChain = next.catch(() => undefined);
    return next;
  }

  /** Delete segments whose rows are all acknowledged. Returns how many files were removed. */
  async compact(): Promise<number> {
    await this.#flushing;
    await this.#ackChain;
    const active = this.#segments[this.#segments.length - 1];
    if (active && active.lastSeq >= active.firstSeq && active.lastSeq <= this.#ackedSeq) await this.#roll();
    const keep: Segment[] = [];
    let removed = 0;
    for (let i = 0; i < this.#segments.length; i++) {
      const s = this.#segments[i];
      const isActive = i === this.#segments.length - 1;
      if (!isActive && s.lastSeq <= this.#ackedSeq) {
        await rm(s.path, { force: true });
        removed++;
      } else {
        keep.push(s);
      }
    }
    this.#segments = keep;
    if (removed > 0) await syncDir(this.dir);
    return removed;
  }

  /** Write what is batched, wait for acknowledgements in flight, close the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#batchTimer = this.#retryTimer = null;
    // One last try; what the disk still refuses is lost with this process: say so to each append().
    this.#flushing = this.#flushing.then(() => this.#flush());
    await this.#flushing;
    if (this.#batch.length > 0) {
      const err = new Error(`as-run journal closed with ${this.#batch.length} rows the disk refused (${this.#degraded?.reason})`);
      this.droppedRows += this.#batch.length;
      for (const w of this.#batchWaiters) w.reject(err);
      this.#batch = [];
      this.#batchWaiters = [];
    }
    await this.#ackChain;
    await this.#active?.close();
    this.#active = null;
    this.removeAllListeners();
  }

  async #openActive(): Promise<void> {
    const last = this.#segments[this.#segments.length - 1];
    if (last) {
      const size = (await stat(last.path)).size;
      if (size < this.#segmentBytes) {
        this.#active = await open(last.path, 'a');
        this.#activeSize = size;
        return;
      }
    }
    await this.#roll();
  }

  /** Close the active segment and start a new one at the next sequence number. */
  async #roll(): Promise<void> {
    const old = this.#active;
    this.#active = null;
    await old?.close().catch(() => {});
    const seg: Segment = { path: join(this.dir, segmentName(this.#nextSeq)), firstSeq: this.#nextSeq, lastSeq: this.#nextSeq - 1 };
    this.#active = await open(seg.path, 'a');
    this.#activeSize = 0;
    this.#segments.push(seg);
    this.#needRoll = false;
    await syncDir(this.dir);
  }

  /** Rows not yet durable: waiting, plus those of the write in progress (a retry while degraded). */
  #heldRows(): number {
    return this.#batch.length + this.#writing;
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    const waiters = this.#batchWaiters;
    this.#batch = [];
    this.#batchWaiters = [];
    if (batch.length === 0) return;
    const sizeBefore = this.#activeSize;
    this.#writing = batch.length;
    try {
      if (this.#needRoll || !this.#active) await this.#roll();
      const buf = Buffer.from((this.#needNewline ? '\n' : '') + batch.map(encodeRecord).join(''), 'utf8');
      await writeAll(this.#active!, buf);
      await this.#active!.datasync();
      this.#activeSize += buf.length;
      this.#needNewline = false;
    } catch (err) {
      await this.#cutBack(sizeBefore);
      this.#writing = 0;
      this.#hold(batch, waiters, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.#writing = 0;
    const seg = this.#segments[this.#segments.length - 1];
    seg.lastSeq = batch[batch.length - 1].seq;
    this.#durableSeq = seg.lastSeq;
    for (const rec of batch) this.#pending.push(rec);
    if (this.#degraded) {
      const { sinceMs, attempts } = this.#degraded;
      this.#degraded = null;
      this.emit('recovered', { awayMs: Date.now() - sinceMs, attempts, rows: batch.length });
      // Rows appended during this write found the journal degraded and armed no timer.
      if (this.#batch.length > 0 && !this.#closed) {
        this.#batchTimer ??= setTimeout(() => {
          this.#batchTimer = null;
          this.#flushing = this.#flushing.then(() => this.#flush());
        }, this.#groupCommitMs);
      }
    }
    // The rows are durable whatever happens to the next segment: a failed roll is retried before the next write.
    if (this.#activeSize >= this.#segmentBytes) await this.#roll().catch(() => (this.#needRoll = true));
    for (const w of waiters) w.resolve();
    this.emit('durable', this.#durableSeq);
  }

  /** After a failed write: cut the file back to its last whole line (truncating needs no space). */
  async #cutBack(size: number): Promise<void> {
    try {
      if (this.#active) await this.#active.truncate(size);
      this.#activeSize = size;
    } catch {
      // The partial line stays; the next write ends it first, and reopening skips it as one bad line.
      this.#needNewline = true;
    }
  }

  /** Keep the rows of a failed write first in line, and retry later. */
  #hold(batch: JournalRecord[], waiters: Waiter[], err: Error): void {
    this.#batch = batch.concat(this.#batch);
    this.#batchWaiters = waiters.concat(this.#batchWaiters);
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#batchTimer = null;
    const code = (err as NodeJS.ErrnoException).code ?? null;
    this.#degraded ??= { reason: err.message, code, sinceMs: Date.now(), attempts: 0, heldRows: 0 };
    this.#degraded.reason = err.message;
    this.#degraded.code = code;
    this.#degraded.attempts++;
    const retryInMs = Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** Math.min(this.#degraded.attempts - 1, 20));
    this.emit('writeFailed', err, { ...this.#degraded, heldRows: this.#heldRows() }, retryInMs);
    if (this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, retryInMs);
  }
}
