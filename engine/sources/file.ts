/**
 * A media file decoded by ffmpeg (codecs/ffmpeg.ts). `prepare()` spawns the
 * decoder and lets it read ahead, so the programme can wait for `ready` and
 * start exactly on its frame. Not pulled = paused: the decoder's readahead
 * fills and ffmpeg blocks on its pipe, so a paused file costs no CPU. A fork
 * reopens the file at the current position (a zone's own read-head).
 */
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../../codecs/pcm.js';
import { openPcmStream, type PcmStream } from '../../codecs/ffmpeg.js';
import type { PullResult, Source } from './source.js';

/** How much decoded audio ffmpeg keeps ahead of the read-head. */
export const FILE_READAHEAD_MS = 2000;

export class FileSource implements Source {
  readonly kind = 'file';
  readonly live = false;
  private stream: PcmStream | undefined;
  private isReady = false;
  private samples = 0;
  private failure: string | undefined;
  private closed = false;
  /** Frames that found the decoder empty while it had not ended (disk or CPU too slow). */
  underruns = 0;

  constructor(
    readonly path: string,
    readonly startMs = 0,
  ) {}

  get positionMs(): number {
    return this.startMs + (this.samples * 1000) / SAMPLE_RATE;
  }
  get error(): string | undefined {
    return this.failure;
  }
  get ready(): boolean {
    return this.isReady || this.failure !== undefined;
  }

  prepare(): void {
    if (this.stream || this.closed) return;
    try {
      const stream = openPcmStream(this.path, { startMs: this.startMs, readaheadMs: FILE_READAHEAD_MS });
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

  fork(): Source {
    return new FileSource(this.path, this.positionMs);
  }

  close(): void {
    this.closed = true;
    this.stream?.close();
    this.stream = undefined;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

