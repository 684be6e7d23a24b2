/**
 * A media file decoded by ffmpeg. Not pulled = paused: the decoder's
 * readahead fills and ffmpeg blocks on its pipe, so a paused file costs no
 * CPU. A fork reopens the file at the current position (a zone's own read-head).
 */
import { openPcmStream, type PcmStream } from '../../codecs/ffmpeg.js';
import { DecodedSource } from './decoded.js';
import type { Source } from './source.js';

/** How much decoded audio ffmpeg keeps ahead of the read-head. */
export const FILE_READAHEAD_MS = 2000;

export class FileSource extends DecodedSource {
  readonly kind = 'file';
  readonly live = false;

  constructor(
    readonly path: string,
    readonly startMs = 0,
  ) {
    super();
  }

  protected open(): PcmStream {
    return openPcmStream(this.path, { startMs: this.startMs, readaheadMs: FILE_READAHEAD_MS });
  }

  get positionMs(): number {
    return this.startMs + this.pulledMs;
  }

  fork(): Source {
    return new FileSource(this.path, this.positionMs);
  }
}
