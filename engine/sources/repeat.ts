import { FRAME_MS, type Frame } from '../../codecs/pcm.js';
import type { PullResult, Source } from './source.js';

interface RepeatState {
  current: Source;
  done: number;
  gapLeftFrames: number;
  donePositionMs: number;
  /** The next play, already prefetched (a fork takes its own read-head on it: nothing to open on resume). */
  upNext?: Source;
  startedCurrent?: boolean;
}

/**
 * Plays a source `times` times (0 = until stopped) with `gapMs` of silence
 * between the plays. Each play is a fresh fork of a pristine copy taken before
 * anything was pulled; the next play is prefetched while the current one runs.
 */
export class RepeatSource implements Source {
  readonly kind = 'repeat';
  private readonly pristine: Source;
  private state: RepeatState;
  private upNext: Source | undefined;
  private startedCurrent = false;

  constructor(
    template: Source,
    readonly times: number,
    readonly gapMs = 0,
    state?: RepeatState,
  ) {
    this.pristine = template.fork();
    this.state = state ?? { current: template, done: 0, gapLeftFrames: 0, donePositionMs: 0 };
    this.upNext = this.state.upNext;
    this.startedCurrent = this.state.startedCurrent ?? false;
  }

  get live(): boolean {
    return this.state.current.live;
  }
  get positionMs(): number {
    return this.state.donePositionMs + this.state.current.positionMs;
  }
  get error(): string | undefined {
    return this.state.current.error;
  }
  get ready(): boolean {
    return this.state.current.ready;
  }
  prepare(): void {
    this.state.current.prepare();
  }

  private get finished(): boolean {
    return this.times > 0 && this.state.done >= this.times;
  }

  pull(frame: Frame): PullResult {
    const s = this.state;
    for (;;) {
      if (this.finished) {
        frame.fill(0);
        return 'ended';
      }
      if (s.gapLeftFrames > 0) {
        s.gapLeftFrames--;
        s.donePositionMs += FRAME_MS;
        frame.fill(0);
        return 'silence';
      }
      if (!this.startedCurrent) {
        this.startedCurrent = true;
        s.current.prepare();
        if (this.times === 0 || s.done + 1 < this.times) {
          this.upNext = this.pristine.fork();
          this.upNext.prepare();
        }
      }
      const r = s.current.pull(frame);
      if (r !== 'ended' || s.current.error) return r;
      s.done++;
      s.donePositionMs += s.current.positionMs;
      s.current.close();
      if (this.finished) continue;
      s.current = this.upNext ?? this.pristine.fork();
      this.upNext = undefined;
      this.startedCurrent = false;
      s.gapLeftFrames = Math.round(this.gapMs / FRAME_MS);
    }
  }

  fork(): Source {
    const s = this.state;
    return new RepeatSource(this.pristine, this.times, this.gapMs, {
      current: s.current.fork(),
      done: s.done,
      gapLeftFrames: s.gapLeftFrames,
      donePositionMs: s.donePositionMs,
      upNext: this.upNext?.fork(),
      startedCurrent: this.startedCurrent,
    });
  }

  close(): void {
    this.state.current.close();
    this.upNext?.close();
    this.upNext = undefined;
    this.pristine.close();
  }
}
