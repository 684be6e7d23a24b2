/**
 * One output slot of an agent: asks the sink how much it still holds,
 * renders the playout audio due when this slot's first sample will be heard
 * (now + device latency + what the card still holds), in as many samples as
 * the card's measured clock consumes in a slot (endpoint/output-clock.ts),
 * and writes it. An output without delay reports gets exactly 960 samples
 * a slot, rendered for now + the configured latency.
 */
import { FRAME_SAMPLES } from '../codecs/pcm.js';
import type { AudioSink } from './output.js';
import { OutputClock } from './output-clock.js';
import type { Playout } from './playout.js';

export interface OutputPumpOptions {
  sink: AudioSink;
  /** Server wall-clock of a local time (for the sink's timeline). */
  serverNow: (local: number) => number;
  /** Fixed time between a sample leaving the card's buffer and the loudspeaker, ms. */
  latencyMs?: number;
  outputClock?: OutputClock;
}

export class OutputPump {
  readonly sink: AudioSink;
  readonly outputClock: OutputClock;
  /** Samples written in total. */
  written = 0;
  private readonly serverNow: (local: number) => number;
  private readonly latencyMs: number;
  private buf = new Int16Array(2 * FRAME_SAMPLES);

  constructor(options: OutputPumpOptions) {
    this.sink = options.sink;
    this.serverNow = options.serverNow;
    this.latencyMs = options.latencyMs ?? 0;
    this.outputClock = options.outputClock ?? new OutputClock();
  }

  /**
   * Plays the slot starting at local time `localMs`: playout's audio, or
   * silence when `playout` is null or `silent`. Returns whether stream audio
   * was played and the server time the slot's first sample sounds at.
   */
  play(playout: Playout | null, localMs: number, silent = false): { audible: boolean; serverMs: number } {
    const queued = this.sink.outputDelay?.(localMs);
    if (queued !== undefined && queued !== null) this.outputClock.report(localMs, this.written, queued);
    const oc = this.outputClock;
    const n = oc.nextSlotSamples();
    if (this.buf.length < n) this.buf = new Int16Array(2 * n);
    const out = this.buf.subarray(0, n);
    const heardAt = localMs + this.latencyMs + oc.delayMs / oc.rate;
    let audible = false;
    if (silent || !playout) out.fill(0);
    else audible = playout.render(out, heardAt, oc.rate);
    const serverMs = this.serverNow(heardAt);
    this.sink.write(out, serverMs);
    this.written += n;
    return { audible, serverMs };
  }
}
