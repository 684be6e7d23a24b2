/**
 * ffmpeg as Loa's decoder of everything: files, URLs, live relays. It always
 * hands us 48 kHz mono s16le on a pipe; this module buffers a bounded
 * readahead of it and lets the media clock take frames without ever blocking.
 * There is no ffprobe in @ffmpeg-installer, so probing parses `ffmpeg -i`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SAMPLE_RATE } from './pcm.js';

const require = createRequire(import.meta.url);

let found: string | null = null;

/**
 * The one answer to "which ffmpeg": FFMPEG_PATH when set; else the system's ffmpeg on PATH
 * (Debian's 5.1 decodes more and better than the 2018 build bundled by @ffmpeg-installer);
 * else the bundled binary, so that a bare `npm ci` still works.
 */
export function ffmpegPath(): string {
  const fromEnv = process.env.FFMPEG_PATH;
  if (fromEnv) return fromEnv;
  return (found ??= onPath('ffmpeg') ?? (require('@ffmpeg-installer/ffmpeg') as { path: string }).path);
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export interface AudioProbe {
  /**
   * What the container declares; null when it declares nothing (live streams)
   * or ffmpeg only guessed it from the bitrate (VBR mp3 without a Xing header).
   */
  durationMs: number | null;
  /** Container as ffmpeg names it ('wav', 'mp3', 'ogg', 'mov,mp4,m4a,3gp,3g2,mj2', …). */
  format: string;
  /** Codec of the first audio stream ('pcm_s16le', 'mp3', 'opus', …). */
  codec: string;
  sampleRate: number;
  channels: number;
}

const LAYOUT_CHANNELS: Record<string, number> = { mono: 1, stereo: 2, downmix: 2, quad: 4, hexagonal: 6, octagonal: 8 };

function channelsOf(layout: string): number {
  const text = layout.trim();
  const counted = /^(\d+) channels/.exec(text);
  if (counted) return Number(counted[1]);
  const named = LAYOUT_CHANNELS[text.replace(/\(.*\)$/, '')];
  if (named) return named;
  const dotted = /^(\d+)\.(\d+)/.exec(text); // 5.1, 7.1(wide), 2.1 …
  if (dotted) return Number(dotted[1]) + Number(dotted[2]);
  return NaN;
}

/** Parses the stderr of `ffmpeg -hide_banner -i <input>`; exported for tests. */
export function parseProbeOutput(stderr: string, input: string): AudioProbe {
  const head = /^Input #0, (.+?), from '/m.exec(stderr);
  if (!head) {
    const last = stderr.trim().split('\n').filter((l) => !/output file must be specified/.test(l)).pop();
    throw new Error(`cannot read ${input}: ${last?.trim() || 'ffmpeg gave no reason'}`);
  }
  const audio = /Stream #0:\d+.*?: Audio: ([^\s,]+)[^\n]*?, (\d+) Hz, ([^,\n]+)/.exec(stderr);
  if (!audio) throw new Error(`no audio stream in ${input}`);
  const d = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(stderr);
  const guessed = /Estimating duration from bitrate/.test(stderr);
  const durationMs = d && !guessed ? Math.round((Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000) : null;
  return { durationMs, format: head[1], codec: audio[1], sampleRate: Number(audio[2]), channels: channelsOf(audio[3]) };
}

/** Duration, container, codec, rate and channels of a file or URL's first audio stream. */
export function probeAudio(input: string, opts: { timeoutMs?: number } = {}): Promise<AudioProbe> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath(), ['-hide_banner', '-nostdin', '-i', input], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 15000);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (stderr.length < 256 * 1024) stderr += s;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ffmpeg (${ffmpegPath()}): ${err.message}`));
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`probing ${input} timed out`));
      try {
        resolve(parseProbeOutput(stderr, input));
      } catch (err) {
        reject(err);
      }
    });
  });
}

export interface PcmStreamOptions {
  /** Seek before decoding (ffmpeg -ss before -i). Default 0. */
  startMs?: number;
  /** Decoded audio kept ahead of the reader; ffmpeg is paused beyond it. Default 5000. */
  readaheadMs?: number;
  /**
   * For relays of live URLs: ffmpeg reads at native rate (-re), http(s)
   * inputs reconnect, the pipe is never paused (a live source cannot wait)
   * and, if the reader falls behind, the oldest audio beyond readaheadMs is
   * dropped. readaheadMs is then both the prebuffer and the latency cap.
   */
  realtime?: boolean;
}

export interface PcmStream {
  /**
   * Copies buffered samples into frame; never blocks. Returns frame.length,
   * or fewer only for the last samples of the stream; 0 while a whole frame
   * is not buffered yet (an underrun), or once ended.
   */
  read(frame: Int16Array): number;
  /** ffmpeg finished (or failed, or close() was called) and the buffer is drained. */
  readonly ended: boolean;
  /** Why decoding failed: spawn failure or non-zero exit (with ffmpeg's last stderr lines). */
  readonly error: Error | undefined;
  readonly bufferedMs: number;
  /** Audio dropped because a realtime reader fell behind. */
  readonly droppedMs: number;
  /** ffmpeg's process id (undefined if it could not start). */
  readonly pid: number | undefined;
  /** Resolves (never rejects) once readaheadMs is buffered, or ffmpeg ended or failed, or close() was called. */
  ready(): Promise<void>;
  /** Kills ffmpeg and drops the buffer. Idempotent. */
  close(): void;
}

const STDERR_TAIL = 2000;

class FfmpegPcmStream implements PcmStream {
  private readonly child: ChildProcess;
  private readonly readahead: number; // samples
  private readonly realtime: boolean;
  private ring: Int16Array;
  private head = 0; // index of the oldest buffered sample
  private size = 0;
  private carry = -1; // a low byte waiting for its high byte (chunks may split a sample)
  private paused = false;
  private finished = false;
  private closed = false;
  private dropped = 0;
  private stderrTail = '';
  private failure: Error | undefined;
  private readonly readyPromise: Promise<void>;
  private resolveReady!: () => void;

  constructor(input: string, opts: PcmStreamOptions) {
    const readaheadMs = opts.readaheadMs ?? 5000;
    if (!(readaheadMs > 0)) throw new RangeError('openPcmStream: readaheadMs must be > 0');
    // At least two frames, so a paused ffmpeg always leaves a whole frame to read.
    this.readahead = Math.max(2 * 960, Math.ceil((readaheadMs * SAMPLE_RATE) / 1000));
    this.realtime = opts.realtime ?? false;
    // Room for the readahead plus one pipe chunk (64 KiB = 32768 samples) arriving after it.
    this.ring = new Int16Array(this.realtime ? this.readahead : this.readahead + 32768);
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));

    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
    if (this.realtime) {
      args.push('-re');
      if (/^https?:/i.test(input)) args.push('-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', '5');
    }
    const startMs = opts.startMs ?? 0;
    if (startMs > 0) args.push('-ss', (startMs / 1000).toFixed(3));
    args.push('-i', input, '-vn', '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 's16le', '-acodec', 'pcm_s16le', 'pipe:1');

    this.child = spawn(ffmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.on('error', (err) => {
      this.failure ??= new Error(`cannot run ffmpeg (${ffmpegPath()}): ${err.message}`);
      this.finish();
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_TAIL);
    });
    this.child.on('close', (code, signal) => {
      if (!this.closed && code !== 0) {
        const why = this.stderrTail.trim() || 'no message';
        this.failure ??= new Error(`ffmpeg failed on ${input} (${code === null ? `signal ${signal}` : `exit code ${code}`}): ${why}`);
      }
      this.finish();
    });
  }

  get ended(): boolean {
    return this.finished && this.size === 0;
  }
  get error(): Error | undefined {
    return this.failure;
  }
  get bufferedMs(): number {
    return (this.size * 1000) / SAMPLE_RATE;
  }
  get droppedMs(): number {
    return (this.dropped * 1000) / SAMPLE_RATE;
  }
  get pid(): number | undefined {
    return this.child.pid;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  read(frame: Int16Array): number {
    const want = frame.length;
    let n = this.size >= want ? want : this.finished ? this.size : 0;
    if (n > 0) {
      const cap = this.ring.length;
      const first = Math.min(n, cap - this.head);
      frame.set(this.ring.subarray(this.head, this.head + first), 0);
      if (n > first) frame.set(this.ring.subarray(0, n - first), first);
      this.head = (this.head + n) % cap;
      this.size -= n;
    }
    if (this.paused && !this.closed && this.size < this.readahead) {
      this.paused = false;
      this.child.stdout!.resume();
    }
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.size = 0;
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
    // SIGKILL: ffmpeg may be blocked writing to the pipe we paused. Node reaps it (no zombie).
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    this.resolveReady();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let i = 0;
    const len = chunk.length;
    if (this.carry >= 0 && len > 0) {
      this.push(((chunk[0] << 24) >> 16) | this.carry);
      this.carry = -1;
      i = 1;
    }
    const whole = (len - i) >> 1;
    if (this.size + whole > this.ring.length && !this.realtime) this.grow(this.size + whole);
    for (let k = 0; k < whole; k++, i += 2) this.push(((chunk[i + 1] << 24) >> 16) | chunk[i]);
    if (i < len) this.carry = chunk[i];

    if (this.size >= this.readahead) {
      this.resolveReady();
      if (!this.realtime && !this.paused) {
        this.paused = true;
        this.child.stdout!.pause();
      }
    }
  }

  private push(sample: number): void {
    const cap = this.ring.length;
    if (this.size === cap) {
      // Only reachable in realtime mode: keep the newest audio.
      this.head = (this.head + 1) % cap;
      this.size--;
      this.dropped++;
    }
    this.ring[(this.head + this.size) % cap] = sample;
    this.size++;
  }

  private grow(needed: number): void {
    let cap = this.ring.length;
    while (cap < needed) cap *= 2;
    const bigger = new Int16Array(cap);
    const first = Math.min(this.size, this.ring.length - this.head);
    bigger.set(this.ring.subarray(this.head, this.head + first), 0);
    bigger.set(this.ring.subarray(0, this.size - first), first);
    this.ring = bigger;
    this.head = 0;
  }
}

/** Starts ffmpeg decoding `input` (file path or URL) to 48 kHz mono int16. */
export function openPcmStream(input: string, opts: PcmStreamOptions = {}): PcmStream {
  return new FfmpegPcmStream(input, opts);
}
