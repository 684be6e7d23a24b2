/**
 * Synthesised speech cached on disk by content: the key is a hash of what
 * determines the sound (normalised text, voice, rate, engine identity), the
 * value a 48 kHz mono WAV file. Writes are atomic (temporary file, then
 * rename), the directory is bounded in bytes with least-recently-used
 * eviction, and a file that fails its checksum is deleted and reported as a
 * miss, so the caller synthesises it again.
 *
 * File layout: RIFF/WAVE with fmt, a 'loaH' chunk holding the SHA-256 of the
 * sample bytes, then data. Any WAV reader plays it (unknown chunks are skipped).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_RATE } from '../codecs/pcm.js';

export interface SpeechCacheOptions {
  dir: string;
  /** Bound on the cached audio, in bytes. Default 512 MiB (about 90 minutes of 48 kHz speech). */
  maxBytes?: number;
}

export interface SpeechCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  /** Files found corrupt (bad header or checksum), deleted and counted as misses. */
  corrupt: number;
  evictions: number;
}

const SUFFIX = '.wav';
const TMP_MARK = '.tmp-';
const HASH_CHUNK = 'loaH';
const HEADER_BYTES = 12 + 8 + 16 + 8 + 32 + 8;
/** Temporary files older than this are leftovers of a crash, removed on open. */
const STALE_TMP_MS = 3600_000;

/** The cache key of a list of parts: SHA-256, hex. */
export function cacheKey(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

export function encodeCacheWav(pcm: Int16Array): Buffer {
  const data = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const out = Buffer.alloc(HEADER_BYTES + data.length);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(out.length - 8, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(SAMPLE_RATE, 24);
  out.writeUInt32LE(SAMPLE_RATE * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write(HASH_CHUNK, 36, 'ascii');
  out.writeUInt32LE(32, 40);
  createHash('sha256').update(data).digest().copy(out, 44);
  out.write('data', 76, 'ascii');
  out.writeUInt32LE(data.length, 80);
  // Little-endian int16 on every platform Node runs on that we support; write explicitly to be sure.
  for (let i = 0; i < pcm.length; i++) out.writeInt16LE(pcm[i], HEADER_BYTES + i * 2);
  return out;
}

/** The samples of a file written by encodeCacheWav, or a reason why it is not one. */
export function decodeCacheWav(buf: Buffer): Int16Array | string {
  if (buf.length < HEADER_BYTES) return 'shorter than its header';
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 16) !== 'WAVEfmt ') return 'not a RIFF/WAVE file';
  if (buf.readUInt32LE(4) !== buf.length - 8) return 'RIFF size does not match the file';
  if (buf.readUInt16LE(20) !== 1 || buf.readUInt16LE(22) !== 1 || buf.readUInt32LE(24) !== SAMPLE_RATE || buf.readUInt16LE(34) !== 16) {
    return 'not 48 kHz mono 16-bit PCM';
  }
  if (buf.toString('ascii', 36, 40) !== HASH_CHUNK || buf.toString('ascii', 76, 80) !== 'data') return 'unexpected chunk layout';
  const dataBytes = buf.readUInt32LE(80);
  if (dataBytes !== buf.length - HEADER_BYTES || dataBytes % 2 !== 0) return 'data size does not match the file';
  const data = buf.subarray(HEADER_BYTES);
  if (!createHash('sha256').update(data).digest().equals(buf.subarray(44, 76))) return 'checksum mismatch';
  const pcm = new Int16Array(dataBytes / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = data.readInt16LE(i * 2);
  return pcm;
}

interface Entry {
  bytes: number;
  /** Recency: higher is more recent. */
  used: number;
}

export class SpeechCache {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  private total = 0;
  private counters = { hits: 0, misses: 0, corrupt: 0, evictions: 0 };
  /** Called with (key, reason) when a corrupt file is dropped. */
  onCorrupt: ((key: string, reason: string) => void) | undefined;

  private constructor(opts: SpeechCacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
    if (!(this.maxBytes > 0)) throw new RangeError('SpeechCache: maxBytes must be > 0');
  }

  /** Creates the directory if needed and indexes what is there, oldest-used first (by mtime). */
  static async open(opts: SpeechCacheOptions): Promise<SpeechCache> {
    const cache = new SpeechCache(opts);
    await mkdir(cache.dir, { recursive: true });
    const found: { key: string; bytes: number; mtime: number }[] = [];
    for (const name of await readdir(cache.dir)) {
      const path = join(cache.dir, name);
      if (name.includes(TMP_MARK)) {
        const s = await stat(path).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs > STALE_TMP_MS) await unlink(path).catch(() => {});
        continue;
      }
      if (!/^[0-9a-f]{64}\.wav$/.test(name)) continue;
      const s = await stat(path).catch(() => undefined);
      if (s?.isFile()) found.push({ key: name.slice(0, 64), bytes: s.size, mtime: s.mtimeMs });
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const f of found) cache.remember(f.key, f.bytes);
    await cache.evict(undefined);
    return cache;
  }

  stats(): SpeechCacheStats {
    return { entries: this.entries.size, bytes: this.total, ...this.counters };
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  pathOf(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new RangeError(`SpeechCache: "${key}" is not a cache key`);
    return join(this.dir, key + SUFFIX);
  }

  /** The cached audio, or undefined (a miss, or a corrupt file now deleted). */
  async get(key: string): Promise<Int16Array | undefined> {
    const path = this.pathOf(key);
    let buf: Buffer;
    try {
      buf = await readFile(path);
    } catch {
      this.forget(key);
      this.counters.misses++;
      return undefined;
    }
    const pcm = decodeCacheWav(buf);
    if (typeof pcm === 'string') {
      this.counters.corrupt++;
      this.counters.misses++;
      this.forget(key);
      await unlink(path).catch(() => {});
      this.onCorrupt?.(key, pcm);
      return undefined;
    }
    this.counters.hits++;
    this.remember(key, buf.length);
    // The file's mtime carries the recency across restarts; failing to set it costs only LRU accuracy.
    const now = new Date();
    await utimes(path, now, now).catch(() => {});
    return pcm;
  }

  /** Stores audio under key atomically, then evicts least-recently-used files beyond maxBytes. */
  async put(key: string, pcm: Int16Array): Promise<void> {
    const path = this.pathOf(key);
    const bytes = encodeCacheWav(pcm);
    const tmp = `${path}${TMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(tmp, bytes, { flush: true });
      await rename(tmp, path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    this.remember(key, bytes.length);
    await this.evict(key);
  }

  private remember(key: string, bytes: number): void {
    this.forget(key);
    this.entries.set(key, { bytes, used: ++this.clock });
    this.total += bytes;
  }

  private forget(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.total -= e.bytes;
    this.entries.delete(key);
  }

  /** Deletes least-recently-used files until the total fits; `keep` (just written) goes last. */
  private async evict(keep: string | undefined): Promise<void> {
    if (this.total <= this.maxBytes) return;
    const order = [...this.entries].sort((a, b) => a[1].used - b[1].used).map(([k]) => k);
    if (keep !== undefined) order.push(order.splice(order.indexOf(keep), 1)[0]);
    for (const key of order) {
      if (this.total <= this.maxBytes) break;
      this.forget(key);
      this.counters.evictions++;
      await unlink(this.pathOf(key)).catch(() => {});
    }
  }
}
