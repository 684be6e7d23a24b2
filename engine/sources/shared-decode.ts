/**
 * One ffmpeg decode read by several cursors: how a file forks for free.
 *
 * When a programme is preempted in some of its zones, those zones get a fork
 * of its source (engine/programme.ts). A fork that opened its own ffmpeg
 * spawned a process on the media worker's thread inside the tick (2–15 ms
 * per spawn on a loaded 2-core machine, 35–60 ms holes in every stream
 * measured from outside), and `-ss` seeking is sample-exact only for PCM
 * containers. So a fork is a second cursor over the same decoded audio
 * instead: the leading cursor takes frames from ffmpeg into a shared store,
 * the others read them there, and the store is trimmed behind the slowest
 * cursor. Forking is O(1), spawns nothing, and a preempted zone resumes on the
 * exact sample whatever the codec. (Starting the fork's own decoder off the
 * tick was the other option; it still spawns on the worker's thread, is not
 * sample-exact for mp3/ogg, and runs two decoders for audio decoded once.)
 *
 * A cursor that does not move (a zone preempted for long) makes the store grow
 * by 96 kB per second of lag. Past `lagMaxSamples` behind the leader it
 * detaches: it keeps a copy of its next `prefixSamples` and gets a decoder of
 * its own, spawned from setImmediate (after the current tick's frames are out,
 * in the idle part of the 20 ms period), starting where that copy ends.
 */
import type { PcmStream } from '../../codecs/ffmpeg.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../codecs/pcm.js';

/** Opens a decoder at an absolute sample index of the media. */
export type DecoderOpener = (fromSample: number) => PcmStream;

export interface SharedDecodeOptions {
  /** A cursor this far behind the leader detaches (bounds the store's memory). */
  lagMaxSamples: number;
  /** Audio a detaching cursor takes with it, to play while its own decoder starts. */
  prefixSamples: number;
}

export class SharedDecode {
  private ring: Int16Array;
  private head = 0;
  private size = 0;
  /** Absolute sample index of ring[head]. */
  private base: number;
  private stream: PcmStream | undefined;
  private pendingOpen: ReturnType<typeof setImmediate> | undefined;
  /** No decoder will be opened (a detached copy that already holds the end of the media). */
  private complete = false;
  private readonly cursors = new Set<DecodeCursor>();
  private scratch = new Int16Array(FRAME_SAMPLES);
  private closed = false;
  /** Cursors that detached after lagging lagMaxSamples behind (each opened a decoder). */
  detached = 0;

  /**
   * @param prefix audio from startSample already in hand: the decoder is then
   * opened from setImmediate at its end (a detached cursor), or never if `complete`.
   */
  constructor(
    private readonly openAt: DecoderOpener,
    startSample: number,
    private readonly opts: SharedDecodeOptions,
    prefix?: { samples: Int16Array; complete: boolean },
  ) {
    this.base = startSample;
    this.ring = new Int16Array(Math.max(4 * FRAME_SAMPLES, prefix?.samples.length ?? 0));
    if (!prefix) {
      this.stream = openAt(startSample);
      return;
    }
    this.ring.set(prefix.samples);
    this.size = prefix.samples.length;
    this.complete = prefix.complete;
    if (!this.complete) {
      const from = startSample + this.size;
      this.pendingOpen = setImmediate(() => {
        this.pendingOpen = undefined;
        if (!this.closed) this.stream = openAt(from);
      });
    }
  }

  /** A new cursor at an absolute sample index (at least the oldest sample kept). */
  cursor(at = this.base): DecodeCursor {
    if (this.closed) throw new Error('SharedDecode: closed');
    if (at < this.base || at > this.end) throw new RangeError(`SharedDecode: sample ${at} is not kept`);
    const c = new DecodeCursor(this, at);
    this.cursors.add(c);
    return c;
  }

  get cursorCount(): number {
    return this.cursors.size;
  }
  /** Samples kept in the shared store (oldest cursor to newest decoded). */
  get storedSamples(): number {
    return this.size;
  }
  get pid(): number | undefined {
    return this.stream?.pid;
  }
  /** Audio decoded ahead of the store, in the decoder's own buffer. */
  get decoderBufferedMs(): number {
    return this.stream?.bufferedMs ?? 0;
  }
  get error(): Error | undefined {
    return this.stream?.error;
  }
  /** Absolute index one past the newest decoded sample. */
  get end(): number {
    return this.base + this.size;
  }
  /** Nothing more will come from the decoder. */
  get drained(): boolean {
    if (this.complete || this.closed) return true;
    return this.stream !== undefined && this.stream.ended;
  }

  ready(): Promise<void> {
    return this.stream ? this.stream.ready() : Promise.resolve();
  }

  /** Reads for one cursor (PcmStream.read semantics). */
  read(c: DecodeCursor, frame: Int16Array): number {
    const want = frame.length;
    if (this.scratch.length !== want) this.scratch = new Int16Array(want);
    let avail = this.end - c.index;
    let grew = false;
    while (avail < want && this.stream && !this.closed) {
      const got = this.stream.read(this.scratch);
      if (got === 0) break;
      this.append(this.scratch, got);
      avail += got;
      grew = true;
    }
    const n = avail >= want ? want : this.drained ? avail : 0;
    if (n > 0) {
      this.copyOut(c.index, frame, n);
      c.index += n;
      this.trim();
    }
    if (grew) this.detachLaggards();
    return n;
  }

  /** Forgets a cursor; the decoder stops with the last one. */
  remove(c: DecodeCursor): void {
    if (!this.cursors.delete(c)) return;
    if (this.cursors.size === 0) this.close();
    else this.trim();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pendingOpen) clearImmediate(this.pendingOpen);
    this.pendingOpen = undefined;
    this.stream?.close();
    this.ring = new Int16Array(0);
    this.head = 0;
    this.base += this.size;
    this.size = 0;
  }

  private append(src: Int16Array, n: number): void {
    if (this.size + n > this.ring.length) this.grow(this.size + n);
    const cap = this.ring.length;
    const at = (this.head + this.size) % cap;
    const first = Math.min(n, cap - at);
    this.ring.set(src.subarray(0, first), at);
    if (n > first) this.ring.set(src.subarray(first, n), 0);
    this.size += n;
  }

  private copyOut(from: number, dst: Int16Array, n: number): void {
    const cap = this.ring.length;
    const at = (this.head + (from - this.base)) % cap;
    const first = Math.min(n, cap - at);
    dst.set(this.ring.subarray(at, at + first), 0);
    if (n > first) dst.set(this.ring.subarray(0, n - first), first);
  }

  /** Drops what every cursor has read. */
  private trim(): void {
    let min = Infinity;
    for (const c of this.cursors) if (c.index < min) min = c.index;
    const drop = Math.min(min, this.end) - this.base;
    if (!(drop > 0)) return;
    this.head = (this.head + drop) % this.ring.length;
    this.size -= drop;
    this.base += drop;
  }

  /** Cursors more than lagMaxSamples behind the newest sample move to a decode of their own. */
  private detachLaggards(): void {
    for (const c of [...this.cursors]) {
      if (this.end - c.index <= this.opts.lagMaxSamples) continue;
      const len = Math.min(this.opts.prefixSamples, this.end - c.index);
      const samples = new Int16Array(len);
      this.copyOut(c.index, samples, len);
      const complete = this.drained && c.index + len === this.end;
      this.cursors.delete(c);
      c.moveTo(new SharedDecode(this.openAt, c.index, this.opts, { samples, complete }));
      this.detached++;
    }
    this.trim();
  }

  /** Used by moveTo: a cursor joins this decode. */
  adopt(c: DecodeCursor): void {
    this.cursors.add(c);
  }

  private grow(needed: number): void {
    let cap = Math.max(1, this.ring.length);
    while (cap < needed) cap *= 2;
    const bigger = new Int16Array(cap);
    this.copyOut(this.base, bigger, this.size);
    this.ring = bigger;
    this.head = 0;
  }
}

/** One read-head over a SharedDecode; a PcmStream to its reader (engine/sources/decoded.ts). */
export class DecodeCursor implements PcmStream {
  private isClosed = false;

  constructor(
    private decode: SharedDecode,
    /** Absolute sample index of the next sample this cursor reads. */
    public index: number,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }
  read(frame: Int16Array): number {
    if (this.isClosed) return 0;
    return this.decode.read(this, frame);
  }
  get ended(): boolean {
    return this.isClosed || (this.decode.drained && this.index >= this.decode.end);
  }
  get error(): Error | undefined {
    return this.index >= this.decode.end ? this.decode.error : undefined;
  }
  get bufferedMs(): number {
    return ((this.decode.end - this.index) * 1000) / SAMPLE_RATE;
  }
  readonly droppedMs = 0;
  get pid(): number | undefined {
    return this.decode.pid;
  }
  /** The decode this cursor reads now (changes when it detaches). */
  get shared(): SharedDecode {
    return this.decode;
  }
  ready(): Promise<void> {
    return this.decode.ready();
  }
  /** A second read-head at the same sample, over the same decode: O(1), nothing spawned. */
  fork(): DecodeCursor {
    return this.decode.cursor(this.index);
  }
  moveTo(decode: SharedDecode): void {
    this.decode = decode;
    decode.adopt(this);
  }
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.decode.remove(this);
  }
}
