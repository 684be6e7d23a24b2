/**
 * A media file decoded by ffmpeg. Not pulled = paused: the decoder's
 * readahead fills and ffmpeg blocks on its pipe, so a paused file costs no
 * CPU. A fork is a second read-head over the same decode (shared-decode.ts):
 * no process is spawned on the media worker when a zone is preempted, and the
 * fork resumes on the exact sample.
 */
import { openPcmStream, type PcmStream } from '../../codecs/ffmpeg.js';
import { SAMPLE_RATE } from '../../codecs/pcm.js';
import { DecodedSource } from './decoded.js';
import { SharedDecode, type DecodeCursor } from './shared-decode.js';
import type { Source } from './source.js';

/** How much decoded audio ffmpeg keeps ahead of the read-head. */
export const FILE_READAHEAD_MS = 2000;

/**
 * How far a fork's read-head may lag behind the one on air before it gets a
 * decoder of its own: 5 min (28.8 MB of 48 kHz int16) covers an alert and
 * its repeats without a second ffmpeg; beyond it memory would grow unbounded.
 */
export const FILE_SHARED_LAG_MAX_MS = 300_000;

export class FileSource extends DecodedSource {
  readonly kind = 'file';
  readonly live = false;
  private head: DecodeCursor | undefined;

  /** @param head a read-head on an open decode, positioned at startMs (a fork). */
  constructor(
    readonly path: string,
    readonly startMs = 0,
    head?: DecodeCursor,
  ) {
    super();
    this.head = head;
  }

  protected open(): PcmStream {
    this.head ??= new SharedDecode(
      (fromSample) => openPcmStream(this.path, { startMs: (fromSample * 1000) / SAMPLE_RATE, readaheadMs: FILE_READAHEAD_MS }),
      Math.round((this.startMs * SAMPLE_RATE) / 1000),
      { lagMaxSamples: (FILE_SHARED_LAG_MAX_MS * SAMPLE_RATE) / 1000, prefixSamples: (FILE_READAHEAD_MS * SAMPLE_RATE) / 1000 },
    ).cursor();
    return this.head;
  }

  get positionMs(): number {
    return this.startMs + this.pulledMs;
  }

  /** The decode this file reads (shared with its forks); undefined until prepared. */
  get decode(): SharedDecode | undefined {
    return this.head?.shared;
  }

  /** Prepared: a read-head on the same decode (O(1)). Not yet: a file that opens its own when prepared. */
  fork(): Source {
    return new FileSource(this.path, this.positionMs, this.head && !this.head.closed ? this.head.fork() : undefined);
  }

  override close(): void {
    super.close();
    this.head?.close();
  }
}
