/**
 * Where an agent's audio goes. Every sink receives one frame per 20 ms
 * output slot (silence and concealment included), paced by the shared
 * FrameCycle, so a sink's timeline is the slot timeline. A frame is 960
 * samples unless the sink reports its delay (outputDelay) and its clock is
 * found to run fast or slow: then a slot now and then has one more or fewer.
 *
 *   wav:FILE     WAV file plus FILE.json: the server wall-clock time at which
 *                sample 0 (and every 50th frame) was played, so recordings of
 *                different agents can be compared in time
 *   aplay[:DEV]  pipe raw S16_LE 48 kHz mono into `aplay` (ALSA)
 *   ffmpeg:ARGS  pipe into ffmpeg; ARGS are its output arguments split on
 *                spaces, e.g. `ffmpeg:-f pulse default` or `ffmpeg:/tmp/out.mp3`
 *   null         discard
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { ffmpegPath } from '../codecs/ffmpeg.js';
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../codecs/pcm.js';
import { WavWriter } from '../codecs/wav.js';

export type OutputSpec =
  | { kind: 'wav'; path: string }
  | { kind: 'aplay'; device?: string }
  | { kind: 'ffmpeg'; args: string[] }
  | { kind: 'null' };

export interface AudioSink {
  readonly kind: OutputSpec['kind'];
  /** Frames written so far (= slots played). */
  readonly frames: number;
  /** Frames a piped player could not take in time (dropped, not queued without bound). */
  readonly dropped: number;
  /**
   * One slot's audio (960 samples, or a few more or fewer when the sound
   * card's clock is compensated); `serverMs` is the server wall-clock time
   * its first sample plays at.
   */
  write(frame: Frame, serverMs: number): void;
  /**
   * Samples written but not yet played by the device at local time `localMs`
   * (its delay report), or null when unknown. Absent for outputs without a
   * clock of their own (files, null): they are taken to play at the local clock's rate.
   */
  outputDelay?(localMs: number): number | null;
  close(): Promise<void>;
}

/** Parses `--output`. Throws an Error with a user-facing message. */
export function parseOutputSpec(text: string): OutputSpec {
  const colon = text.indexOf(':');
  const kind = colon < 0 ? text : text.slice(0, colon);
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  switch (kind) {
    case 'wav':
      if (!rest) throw new Error('--output wav needs a file: wav:/path/to/out.wav');
      return { kind: 'wav', path: rest };
    case 'aplay':
      return rest ? { kind: 'aplay', device: rest } : { kind: 'aplay' };
    case 'ffmpeg': {
      const args = rest.split(' ').filter(Boolean);
      if (args.length === 0) throw new Error('--output ffmpeg needs output arguments: ffmpeg:/path/out.mp3 or "ffmpeg:-f pulse default"');
      return { kind: 'ffmpeg', args };
    }
    case 'null':
      if (rest) throw new Error('--output null takes no argument');
      return { kind: 'null' };
    default:
      throw new Error(`unknown output "${kind}": use wav:FILE, aplay[:DEVICE], ffmpeg:ARGS or null`);
  }
}

export function createSink(spec: OutputSpec): AudioSink {
  switch (spec.kind) {
    case 'wav':
      return new WavSink(spec.path);
    case 'aplay':
      return new PipeSink('aplay', 'aplay', ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', String(SAMPLE_RATE), '-c', '1', ...(spec.device ? ['-D', spec.device] : [])]);
    case 'ffmpeg':
      return new PipeSink('ffmpeg', ffmpegPath(), [
        '-hide_banner', '-loglevel', 'error', '-nostdin',
        '-f', 's16le', '-ar', String(SAMPLE_RATE), '-ac', '1', '-i', 'pipe:0',
        ...spec.args,
      ]);
    case 'null':
      return new NullSink();
  }
}

export class NullSink implements AudioSink {
  readonly kind = 'null';
  frames = 0;
  readonly dropped = 0;
  write(): void {
    this.frames++;
  }
  async close(): Promise<void> {}
}

/** What FILE.json beside a WAV holds. */
export interface WavTimeline {
  sampleRate: number;
  channels: 1;
  /** Server wall-clock (Unix ms) at which sample 0 was played. */
  sample0ServerMs: number;
  /** [sample index, server wall-clock ms] at frame 0 and every 50th frame after. */
  anchors: [number, number][];
  frames: number;
}

const ANCHOR_EVERY_FRAMES = 50;

export class WavSink implements AudioSink {
  readonly kind = 'wav';
  frames = 0;
  /** Samples written. */
  samples = 0;
  readonly dropped = 0;
  private readonly writer: WavWriter;
  private readonly timeline: WavTimeline = { sampleRate: SAMPLE_RATE, channels: 1, sample0ServerMs: NaN, anchors: [], frames: 0 };
  private closing: Promise<void> | null = null;

  constructor(readonly path: string) {
    this.writer = new WavWriter(path, { sampleRate: SAMPLE_RATE, channels: 1 });
  }

  write(frame: Frame, serverMs: number): void {
    if (this.closing) return;
    if (this.frames % ANCHOR_EVERY_FRAMES === 0) {
      if (this.frames === 0) this.timeline.sample0ServerMs = serverMs;
      this.timeline.anchors.push([this.samples, serverMs]);
    }
    this.writer.write(frame);
    this.frames++;
    this.samples += frame.length;
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      await this.writer.close();
      this.timeline.frames = this.frames;
      await writeFile(`${this.path}.json`, JSON.stringify(this.timeline));
    })());
  }
}

/** Raw PCM into a child process's stdin, dropping frames when it cannot keep up. */
export class PipeSink implements AudioSink {
  frames = 0;
  dropped = 0;
  /** Set when the player failed to start or died. */
  error: Error | null = null;
  /** Resolves once the player process runs; rejects if it cannot start (e.g. not installed). */
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private static readonly MAX_QUEUED_BYTES = FRAME_SAMPLES * 2 * 25; // 0.5 s

  constructor(
    readonly kind: 'aplay' | 'ffmpeg',
    command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child.stderr?.resume();
    this.child.stdin?.on('error', (err) => (this.error ??= err));
    this.ready = new Promise<void>((resolve, reject) => {
      this.child.once('spawn', () => resolve());
      this.child.once('error', (err) => reject(new Error(`${kind} could not start: ${err.message}`)));
    });
    this.ready.catch(() => {});
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.error ??= err;
        resolve();
      });
      this.child.once('close', () => resolve());
    });
  }

  write(frame: Frame): void {
    const stdin = this.child.stdin;
    this.frames++;
    if (this.error || !stdin || !stdin.writable || stdin.writableLength > PipeSink.MAX_QUEUED_BYTES) {
      this.dropped++;
      return;
    }
    // The frame buffer is reused by the caller: copy.
    stdin.write(Buffer.from(frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength)));
  }

  async close(): Promise<void> {
    this.child.stdin?.end();
    const timeout = setTimeout(() => this.child.kill('SIGTERM'), 5000);
    await this.exited;
    clearTimeout(timeout);
  }
}
