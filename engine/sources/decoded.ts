/**
 * What a file and a relay share: audio decoded by ffmpeg into a bounded
 * readahead (codecs/ffmpeg.ts), prepared before it goes on air so it can start
 * exactly on its frame, pulled a frame at a time without ever blocking.
 * Subclasses say how to open the decoder, whether the source is live, and
 * what a fork is.
 */
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../../codecs/pcm.js';
import type { PcmStream } from '../../codecs/ffmpeg.js';
import type { PullResult, Source } from './source.js';

export abstract class DecodedSource implements Source {
  abstract readonly kind: string;
  abstract readonly live: boolean;
  private stream: PcmStream | undefined;
  private isReady = false;
  /** Samples pulled so far. */
  protected samples = 0;
  private failure: string | undefined;
  private closed = false;
  /** Frames that found the decoder empty while it had not ended (disk, CPU or network too slow). */
  underruns = 0;

  /** Spawns the decoder (called once, by prepare or the first pull). */
  protected abstract open(): PcmStream;
  abstract get positionMs(): number;
  abstract fork(): Source;

  get error(): string | undefined {
    return this.failure;
  }
  get ready(): boolean {
    return this.isReady || this.failure !== undefined;
  }

  prepare(): void {
    if (this.stream || this.closed) return;
    try {
      const stream = this.open();
      this.stream = stream;
      stream.ready().then(
        () => {
          this.isReady = true;
        },
        (err: unknown) => {
          this.failure ??= describe(err);
        },
      );
    } catch (err) {
      this.failure = describe(err);
    }
  }

  pull(frame: Frame): PullResult {
    if (this.failure !== undefined || this.closed) {
      frame.fill(0);
      return 'ended';
    }
    if (!this.stream) this.prepare();
    const stream = this.stream;
    if (!stream) {
      frame.fill(0);
      return 'ended';
    }
    const n = stream.read(frame);
    if (n > 0) {
      if (n < FRAME_SAMPLES) frame.fill(0, n);
      this.samples += n;
      return 'audio';
    }
    frame.fill(0);
    if (stream.error) {
      this.failure = describe(stream.error);
      return 'ended';
    }
    if (stream.ended) return 'ended';
    if (this.isReady) this.underruns++;
    return 'silence';
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
    this.stream = undefined;
  }

  protected get pulledMs(): number {
    return (this.samples * 1000) / SAMPLE_RATE;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
