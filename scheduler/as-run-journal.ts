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
  #batchTimer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  #ackChain: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
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

  /**
   * Append rows; resolves once they are on disk (fdatasync'd), with their sequence numbers.
   * A malformed row rejects the whole call and nothing of it is written.
   */
  append(rows: AsRunRow[]): Promise<number[]> {
    if (this.#closed) return Promise.reject(new Error('as-run journal is closed'));
    if (this.#failed) return Promise.reject(new Error(`as-run journal failed earlier: ${this.#failed.message}`));
    for (let i = 0; i < rows.length; i++) {
      const problem = asRunRowProblem(rows[i]);
      if (problem !== null) return Promise.reject(new TypeError(`as-run row ${i}: ${problem}`));
    }
    if (rows.length === 0) return Promise.resolve([]);
    const seqs: number[] = [];
    for (const row of rows) {
      const rec = { seq: this.#nextSeq++, row: structuredClone(row) };
      this.#batch.push(rec);
      seqs.push(rec.seq);
    }
    const done = new Promise<void>((resolve, reject) => this.#batchWaiters.push({ resolve, reject }));
    this.#batchTimer ??= setTimeout(() => {
      this.#batchTimer = null;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, this.#groupCommitMs);
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
    if (this.#batchTimer) {
      clearTimeout(this.#batchTimer);
      this.#batchTimer = null;
      this.#flushing = this.#flushing.then(() => this.#flush());
    }
    await this.#flushing;
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
    await this.#active?.close();
    const seg: Segment = { path: join(this.dir, segmentName(this.#nextSeq)), firstSeq: this.#nextSeq, lastSeq: this.#nextSeq - 1 };
    this.#active = await open(seg.path, 'a');
    this.#activeSize = 0;
    this.#segments.push(seg);
    await syncDir(this.dir);
  }

  async #flush(): Promise<void> {
    const batch = this.#batch;
    const waiters = this.#batchWaiters;
    this.#batch = [];
    this.#batchWaiters = [];
    if (batch.length === 0) return;
    try {
      if (this.#failed) throw this.#failed;
      const buf = Buffer.from(batch.map(encodeRecord).join(''), 'utf8');
      await writeAll(this.#active!, buf);
      await this.#active!.datasync();
      this.#activeSize += buf.length;
      const seg = this.#segments[this.#segments.length - 1];
      seg.lastSeq = batch[batch.length - 1].seq;
      this.#durableSeq = seg.lastSeq;
      for (const rec of batch) this.#pending.push(rec);
      if (this.#activeSize >= this.#segmentBytes) await this.#roll();
    } catch (err) {
      // The file may now end in a partial line: stop appending; reopening repairs it.
      this.#failed ??= err instanceof Error ? err : new Error(String(err));
      for (const w of waiters) w.reject(this.#failed);
      return;
    }
    for (const w of waiters) w.resolve();
    this.emit('durable', this.#durableSeq);
  }
}
