import type { Frame } from '../../codecs/pcm.js';
import type { PullResult, Source } from './source.js';

/** Multiplies another source by a fixed linear gain (with clipping). */
export class GainSource implements Source {
  readonly kind = 'gain';

  constructor(
    readonly inner: Source,
    readonly gain: number,
  ) {}

  get live(): boolean {
    return this.inner.live;
  }
  get positionMs(): number {
    return this.inner.positionMs;
  }
  get error(): string | undefined {
    return this.inner.error;
  }
  get ready(): boolean {
    return this.inner.ready;
  }
  prepare(): void {
    this.inner.prepare();
  }
  pull(frame: Frame): PullResult {
    const r = this.inner.pull(frame);
    if (r === 'audio' && this.gain !== 1) {
      const g = this.gain;
      for (let i = 0; i < frame.length; i++) {
        const v = Math.round(frame[i] * g);
        frame[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
      }
    }
    return r;
  }
  fork(): Source {
    return new GainSource(this.inner.fork(), this.gain);
  }
  close(): void {
    this.inner.close();
  }
}

export function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}
