/**
 * A source fills one 20 ms frame per pull and never blocks. Sources compose
 * like values (sequence, repeat, gain wrap other sources).
 *
 * Pause semantics are the arbiter's: a source that is not heard is simply not
 * pulled, so a file "pauses" and later continues where it was. A `live`
 * source must keep running while unheard: the arbiter keeps pulling it and
 * throws the audio away.
 *
 * Per-zone position: when a programme airs in several zones and is preempted
 * in only some of them, the zones that keep hearing it keep the original
 * source, and the preempted ones get `fork()`: an independent source that
 * will produce, from now on, what this one would have. Each zone thus has its
 * own read-head. A fork runs inside the media tick, so it must cost O(1) and
 * never wait: a generator clones its state, a file adds a read-head on the
 * same decode (shared-decode.ts).
 */
import type { Frame } from '../../codecs/pcm.js';

/** 'audio': the frame holds audio; 'silence': the frame is zeroed (e.g. a gap, or data not ready yet); 'ended': nothing more (frame zeroed). */
export type PullResult = 'audio' | 'silence' | 'ended';

export interface Source {
  /** Short name for logs and status ('file', 'tone', 'sequence', ...). */
  readonly kind: string;
  /** True for live inputs that keep running unheard (never paused). */
  readonly live: boolean;
  /** Media position in ms: how much of this source has been pulled. */
  readonly positionMs: number;
  /** Set when the source ended because of a failure (the reason, for the as-run log). */
  readonly error: string | undefined;
  /** True when the first frame can be produced without waiting (files: decoder prefetched). */
  readonly ready: boolean;
  /** Starts any prefetch (opening and decoding ahead); idempotent. */
  prepare(): void;
  /** Fills exactly one frame. Never blocks. */
  pull(frame: Frame): PullResult;
  /** An independent source continuing from the current position (not prepared yet). */
  fork(): Source;
  /** Releases resources (processes, buffers). Idempotent. */
  close(): void;
}
