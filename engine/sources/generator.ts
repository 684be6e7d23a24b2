/**
 * Sources computed from nothing but the sample index (tone, siren, clicks):
 * they pause by not being pulled, and fork by replaying the generator up to
 * the current frame (cheap: arithmetic only, and only when zones diverge).
 */
import { FRAME_MS, FRAME_SAMPLES, type Frame } from '../../codecs/pcm.js';
import type { PullResult, Source } from './source.js';

/** Anything that writes the next frame of a signal (codecs/tone.ts generators). */
export interface FrameFiller {
  fill(frame: Frame): void;
}

export class GeneratorSource implements Source {
  readonly live = false;
  readonly error = undefined;
  readonly ready = true;
  private frames = 0;
  private filler: FrameFiller;
  private closed = false;

  /**
   * @param make creates a fresh generator positioned at sample 0
   * @param durationMs stops after this much audio (undefined: until stopped)
   */
  constructor(
    readonly kind: string,
    private readonly make: () => FrameFiller,
    private readonly durationMs?: number,
    skipFrames = 0,
  ) {
    this.filler = make();
    if (skipFrames > 0) {
      const scratch = new Int16Array(FRAME_SAMPLES);
      for (let i = 0; i < skipFrames; i++) this.filler.fill(scratch);
      this.frames = skipFrames;
    }
  }

  get positionMs(): number {
    const ms = this.frames * FRAME_MS;
    return this.durationMs === undefined ? ms : Math.min(ms, this.durationMs);
  }

  prepare(): void {}

  pull(frame: Frame): PullResult {
    const done = this.frames * FRAME_MS;
    if (this.closed || (this.durationMs !== undefined && done >= this.durationMs)) {
      frame.fill(0);
      return 'ended';
    }
    this.filler.fill(frame);
    this.frames++;
    if (this.durationMs !== undefined && done + FRAME_MS > this.durationMs) {
      // The duration ends inside this frame: keep the part that is due.
      frame.fill(0, Math.round(((this.durationMs - done) * FRAME_SAMPLES) / FRAME_MS));
    }
    return 'audio';
  }

  fork(): Source {
    return new GeneratorSource(this.kind, this.make, this.durationMs, this.frames);
  }

  close(): void {
    this.closed = true;
  }
}
