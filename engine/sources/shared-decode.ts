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

/** The store grows by 1 s chunks (96 kB): growing never copies what is stored, however long the lag. */
const CHUNK_SAMPLES = SAMPLE_RATE;

export class SharedDecode {
  private chunks: Int16Array[] = [];
  /** Absolute sample index of chunks[0][0]. */
  private base: number;
  /** Absolute index one past the newest decoded sample. */
  private top: number;
  private stream: PcmStream | undefined;
  private pendingOpen: ReturnType<typeof setImmediate> | undefined;
  /** No decoder will be opened (a detached copy that already holds the end of the media). */
  private complete = false;
  private readonly cursors = new Set<DecodeCursor>();
  private scratch = new Int16Array(FRAME_SAMPLES);
  private closed = false;
  private failure: Error | undefined;
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
    this.top = startSample;
    if (!prefix) {
      this.stream = openAt(startSample);
      return;
    }
    this.append(prefix.samples, prefix.samples.length);
    this.complete = prefix.complete;
    if (!this.complete) {
      const from = this.top;
      this.pendingOpen = setImmediate(() => {
        this.pendingOpen = undefined;
        if (this.closed) return;
        try {
          this.stream = openAt(from);
        } catch (err) {
          // Out of the tick, nobody would catch it: the read-head ends with the reason instead.
          this.failure = err instanceof Error ? err : new Error(String(err));
        }
      });
    }
  }

  /** A new cursor at an absolute sample index (at least the oldest sample kept). */
  cursor(at = this.oldest): DecodeCursor {
    if (this.closed) throw new Error('SharedDecode: closed');
    if (at < this.oldest || at > this.end) throw new RangeError(`SharedDecode: sample ${at} is not kept`);
    const c = new DecodeCursor(this, at);
    this.cursors.add(c);
    return c;
  }

  get cursorCount(): number {
    return this.cursors.size;
  }
  /** Samples kept for the read-heads (slowest read-head to newest decoded; memory is at most one chunk more). */
  get storedSamples(): number {
    return this.end - this.oldest;
  }
  /** Absolute index of the oldest sample a read-head still needs. */
  private get oldest(): number {
    let min = this.end;
    for (const c of this.cursors) if (c.index < min) min = c.index;
    return this.cursors.size > 0 ? Math.max(min, this.base) : this.base;
  }
  get pid(): number | undefined {
    return this.stream?.pid;
  }
  /** Audio decoded ahead of the store, in the decoder's own buffer. */
  get decoderBufferedMs(): number {
    return this.stream?.bufferedMs ?? 0;
  }
  get error(): Error | undefined {
    return this.stream?.error ?? this.failure;
  }
  /** Absolute index one past the newest decoded sample. */
  get end(): number {
    return this.top;
  }
  /** Nothing more will come from the decoder. */
  get drained(): boolean {
    if (this.complete || this.closed || this.failure) return true;
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
    this.chunks = [];
    this.base = this.top;
  }

  private append(src: Int16Array, n: number): void {
    let done = 0;
    while (done < n) {
      const fill = (this.top - this.base) % CHUNK_SAMPLES;
      if (fill === 0 && this.top - this.base === this.chunks.length * CHUNK_SAMPLES) this.chunks.push(new Int16Array(CHUNK_SAMPLES));
      const last = this.chunks[this.chunks.length - 1];
      const k = Math.min(n - done, CHUNK_SAMPLES - fill);
      last.set(src.subarray(done, done + k), fill);
      done += k;
      this.top += k;
    }
  }

  private copyOut(from: number, dst: Int16Array, n: number): void {
    let done = 0;
    while (done < n) {
      const off = from + done - this.base;
      const chunk = this.chunks[Math.floor(off / CHUNK_SAMPLES)];
      const at = off % CHUNK_SAMPLES;
      const k = Math.min(n - done, CHUNK_SAMPLES - at);
      dst.set(chunk.subarray(at, at + k), done);
      done += k;
    }
  }

  /** Drops the chunks every cursor has read. */
  private trim(): void {
    const oldest = this.oldest;
    while (this.chunks.length > 0 && this.base + CHUNK_SAMPLES <= oldest) {
      this.chunks.shift();
      this.base += CHUNK_SAMPLES;
    }
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
