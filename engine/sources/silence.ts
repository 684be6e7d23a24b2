import { FRAME_MS, type Frame } from '../../codecs/pcm.js';
import type { PullResult, Source } from './source.js';

/** Silence for a duration (or forever): keeps a zone on air without sound (gaps, placeholders). */
export class SilenceSource implements Source {
  readonly kind = 'silence';
  readonly live = false;
  readonly error = undefined;
  readonly ready = true;
  private frames = 0;

  constructor(
    private readonly durationMs?: number,
    skipFrames = 0,
  ) {
    this.frames = skipFrames;
  }

  get positionMs(): number {
    return this.frames * FRAME_MS;
  }
  prepare(): void {}
  pull(frame: Frame): PullResult {
    frame.fill(0);
    if (this.durationMs !== undefined && this.frames * FRAME_MS >= this.durationMs) return 'ended';
    this.frames++;
    return 'silence';
  }
  fork(): Source {
    return new SilenceSource(this.durationMs, this.frames);
  }
  close(): void {}
}
