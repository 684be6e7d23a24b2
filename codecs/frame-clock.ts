/**
 * The one 20 ms clock of Loa: the media plane's (one per engine) and the speaker
 * agents' (one per agent process, endpoint/frame-cycle.ts). Frame n is due at t0 + n·FRAME_MS on a
 * monotonic time base, so it never drifts (each due time is computed from t0,
 * never by adding intervals). A late wake-up produces every frame that is due
 * (catch-up), bounded by `maxCatchUpFrames`: after a long stall (GC pause,
 * suspended VM) older frames are skipped and counted rather than burst out,
 * because a receiver's jitter buffer (≈ 60–200 ms) could not use them anyway.
 *
 * Frame n also maps to wall-clock time: wallT0 + n·FRAME_MS, with wallT0 read
 * from Date at the same instant as t0. RTCP sender reports, startAt and the
 * as-run log use that mapping, so they agree with the frame numbers exactly.
 *
 * When nothing is on air the clock is stopped: no timer at all.
 */
import { FRAME_MS } from './pcm.js';

export type TimerHandle = unknown;

/** Injectable time: the real one in production, a simulated one in tests. */
export interface TimeSource {
  /** Monotonic milliseconds (performance.now()-like, sub-ms resolution). */
  now(): number;
  /** Wall-clock epoch milliseconds (Date.now()-like). */
  wallNow(): number;
  /** Calls `fn` once, as close as possible to (never before) monotonic time `atMs`. */
  setTimer(atMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/**
 * Default bound on catch-up: 10 frames (200 ms). A stall longer than that
 * skips the oldest frames (counted in `skippedFrames`); the RTP timestamps then
 * jump forward like after a talk-spurt gap.
 */
export const MAX_CATCH_UP_FRAMES = 10;

export interface FrameClockOptions {
  maxCatchUpFrames?: number;
}

export class FrameClock {
  /** Monotonic time at which frame 0 is due. */
  readonly t0: number;
  /** Wall-clock epoch ms of frame 0 (read together with t0). */
  readonly wallT0: number;
  readonly maxCatchUpFrames: number;
  /** Frames skipped after stalls longer than maxCatchUpFrames. */
  skippedFrames = 0;
  /** Wake-ups that found more than one frame due. */
  lateWakeups = 0;
  private next = 0;
  private timer: TimerHandle | undefined;
  private active = false;

  constructor(
    private readonly time: TimeSource,
    private readonly onFrame: (n: number) => void,
    opts: FrameClockOptions = {},
  ) {
    this.t0 = time.now();
    this.wallT0 = time.wallNow();
    this.maxCatchUpFrames = Math.max(1, opts.maxCatchUpFrames ?? MAX_CATCH_UP_FRAMES);
  }

  get running(): boolean {
    return this.active;
  }

  /** The next frame the clock will produce. */
  get nextFrame(): number {
    return this.next;
  }

  /** Monotonic due time of frame n. */
  frameDue(n: number): number {
    return this.t0 + n * FRAME_MS;
  }

  /** Wall-clock epoch ms of frame n. */
  frameWallMs(n: number): number {
    return this.wallT0 + n * FRAME_MS;
  }

  /** First frame whose wall-clock time is at or after `wallMs`. */
  frameAtWallMs(wallMs: number): number {
    return Math.ceil((wallMs - this.wallT0) / FRAME_MS - 1e-9);
  }

  /** First frame not yet due at the current time. */
  upcomingFrame(): number {
    return Math.floor((this.time.now() - this.t0) / FRAME_MS) + 1;
  }

  /**
   * Starts ticking. The first frame produced is the first one due from now
   * (frames due in the past while stopped are not produced), or `fromFrame`
   * if that is later: the clock sleeps until then without intermediate wake-ups.
   */
  start(fromFrame?: number): void {
    // Already ticking towards an earlier frame: keep going, so frames that are
    // due (a catch-up, or a frame whose work overran 20 ms) are still produced.
    if (this.active && (fromFrame === undefined || fromFrame <= this.next)) return;
    const now = this.time.now();
    const first = Math.ceil((now - this.t0) / FRAME_MS - 1e-9);
    const want = Math.max(first, fromFrame ?? first, this.active ? this.next : first);
    if (this.active && want === this.next) return;
    this.cancel();
    this.active = true;
    this.next = want;
    this.arm();
  }

  stop(): void {
    this.active = false;
    this.cancel();
  }

  private cancel(): void {
    if (this.timer !== undefined) {
      this.time.clearTimer(this.timer);
      this.timer = undefined;
    }
  }

  private arm(): void {
    this.timer = this.time.setTimer(this.frameDue(this.next), this.tick);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (!this.active) return;
    const latestDue = Math.floor((this.time.now() - this.t0) / FRAME_MS + 1e-9);
    const behind = latestDue - this.next + 1;
    if (behind > 1) this.lateWakeups++;
    if (behind > this.maxCatchUpFrames) {
      this.skippedFrames += behind - this.maxCatchUpFrames;
      this.next = latestDue - this.maxCatchUpFrames + 1;
    }
    while (this.active && this.next <= latestDue) {
      const n = this.next++;
      this.onFrame(n);
    }
    // onFrame may have stopped and restarted us (with a timer already armed).
    if (this.active && this.timer === undefined) this.arm();
  };
}

/**
 * Real time. Timers: setTimeout to SPIN_MARGIN_MS before the due time (Node
 * timers have whole-ms granularity and fire late under load), then
 * setImmediate turns until the due time. Measured on the 2-core CI-class box
 * under heavy load (250 frames each, lateness / CPU of one core):
 *   margin 0    → median 0.02 ms, p90 2.5 ms, ≈ 4 % CPU
 *   margin 1.5  → median 0.01 ms, p90 1.0 ms, ≈ 8.5 % CPU
 *   margin 3    → median 0.01 ms, p90 4.8 ms, ≈ 13 % CPU
 * 1 ms is the compromise: receivers' jitter buffers absorb a few ms anyway
 * (playout follows RTP timestamps, not send times), and the spin only runs
 * while the clock runs, i.e. while something is on air.
 */
export const SPIN_MARGIN_MS = 1;

export function realTimeSource(spinMarginMs = SPIN_MARGIN_MS): TimeSource {
  interface Handle {
    timeout?: NodeJS.Timeout;
    immediate?: NodeJS.Immediate;
    cancelled: boolean;
  }
  return {
    now: () => performance.now(),
    wallNow: () => Date.now(),
    setTimer(atMs, fn) {
      const h: Handle = { cancelled: false };
      const spin = (): void => {
        h.immediate = undefined;
        if (h.cancelled) return;
        if (performance.now() >= atMs) fn();
        else h.immediate = setImmediate(spin);
      };
      const wait = atMs - performance.now() - spinMarginMs;
      if (wait > 1) h.timeout = setTimeout(spin, wait);
      // Never synchronously, even when already due: a clock behind its frames re-arms from its
      // tick, and a synchronous call ticked again at once, so an overloaded worker never got
      // back to its event loop and a play command (an alert) waited until it caught up
      // (bench N=1000 on a loaded machine: first alert frame due 3.5-7.2 s after the call).
      else h.immediate = setImmediate(spin);
      return h;
    },
    clearTimer(handle) {
      const h = handle as Handle;
      h.cancelled = true;
      if (h.timeout) clearTimeout(h.timeout);
      if (h.immediate) clearImmediate(h.immediate);
    },
  };
}

/**
 * Simulated time for tests and benchmarks: nothing happens until `advance`.
 * `advance(ms)` fires each timer at its exact time; `stall(ms)` jumps the time
 * first and fires what is due afterwards (a blocked event loop).
 */
export class SimulatedTime implements TimeSource {
  private t: number;
  private timers: { at: number; fn: () => void; seq: number }[] = [];
  private seq = 0;

  constructor(
    startMono = 1000,
    private readonly wallOffset = 1_700_000_000_000,
  ) {
    this.t = startMono;
  }

  now(): number {
    return this.t;
  }
  wallNow(): number {
    return this.wallOffset + this.t;
  }
  setTimer(atMs: number, fn: () => void): TimerHandle {
    const timer = { at: atMs, fn, seq: this.seq++ };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: TimerHandle): void {
    const i = this.timers.indexOf(handle as (typeof this.timers)[number]);
    if (i >= 0) this.timers.splice(i, 1);
  }
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Advances time, firing each timer at its own due time (plus `lateMs`). */
  advance(ms: number, lateMs = 0): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.earliest();
      if (!next || next.at + lateMs > end) break;
      this.t = Math.max(this.t, next.at + lateMs);
      this.timers.splice(this.timers.indexOf(next), 1);
      next.fn();
    }
    this.t = end;
  }

  /** Jumps time forward, then fires whatever became due (a stalled loop). */
  stall(ms: number): void {
    this.t += ms;
    this.advance(0);
  }

  private earliest() {
    let best: (typeof this.timers)[number] | undefined;
    for (const tm of this.timers) if (!best || tm.at < best.at || (tm.at === best.at && tm.seq < best.seq)) best = tm;
    return best;
  }
}
