/**
 * Decoded audio laid out on the playout axis (whole 48 kHz sample positions)
 * and read back at fractional positions, so the agent can play a little
 * faster or slower than the stream (clock corrections, the sound card's own
 * rate) without dropping or repeating a sample.
 *
 * Why a 4-point cubic (Catmull-Rom) and not codecs/resample.ts: that Kaiser
 * polyphase filter converts between fixed integer ratios (48 ↔ 8/16 kHz);
 * here the ratio is 1 ± a few hundred ppm and changes every slot. At such
 * ratios the fractional phase moves slowly (one sample per ≥ 10 000), so
 * there are no audible images; what an interpolator costs is a slow
 * wobble of high-frequency level as the phase turns. For a 4-point cubic the
 * worst case (phase ½) is −0.0004 dB at 1 kHz, −0.015 dB at 4 kHz, −0.23 dB
 * at 8 kHz, −0.53 dB at 10 kHz (linear: −0.02, −0.30, −1.25, −2.0 dB, with
 * a corner at every sample); a windowed-sinc would cost
 * 16+ multiplies a sample for the hundreds of agents a bench runs in one
 * process. At ratio exactly 1 with phase 0 it copies samples bit-exactly.
 */

/** Capacity in samples (power of 2): the played history the playout keeps, a few packets and one output slot. */
const CAPACITY = 1 << 14;
const MASK = CAPACITY - 1;

export class SampleFifo {
  /** Axis position of the oldest sample held. */
  start = 0;
  /** Axis position one past the newest sample held. */
  end = 0;
  /** Samples it can hold. */
  readonly capacity = CAPACITY;
  private readonly ring = new Int16Array(CAPACITY);

  /** Forgets everything; the next sample written is at `pos`. */
  resetAt(pos: number): void {
    this.start = this.end = pos;
  }

  /** Room left before the oldest held sample would be overwritten. */
  get room(): number {
    return CAPACITY - (this.end - this.start);
  }

  /** Appends silence up to position `pos`. */
  fillSilenceTo(pos: number): void {
    const to = Math.min(pos, this.start + CAPACITY);
    if (to <= this.end) return;
    if (to - this.end >= CAPACITY) this.ring.fill(0);
    else {
      const a = this.end & MASK;
      const b = to & MASK;
      if (a < b) this.ring.fill(0, a, b);
      else {
        this.ring.fill(0, a);
        this.ring.fill(0, 0, b);
      }
    }
    this.end = to;
  }

  /**
   * Writes `n` samples of `src` (from `from`) at axis position `pos`; the
   * part before `end` (already written or played) is skipped, a gap after
   * `end` becomes silence. Returns how many samples were appended.
   */
  write(src: Int16Array, from: number, n: number, pos: number): number {
    if (pos > this.end) this.fillSilenceTo(pos);
    const skip = Math.max(0, this.end - pos);
    const count = Math.min(n - skip, this.start + CAPACITY - this.end);
    if (count <= 0) return 0;
    const a = this.end & MASK;
    const first = Math.min(count, CAPACITY - a);
    this.ring.set(src.subarray(from + skip, from + skip + first), a);
    if (first < count) this.ring.set(src.subarray(from + skip + first, from + skip + count), 0);
    this.end += count;
    return count;
  }

  /** Drops everything before `pos`. */
  trimTo(pos: number): void {
    if (pos > this.start) this.start = Math.min(pos, this.end);
  }

  /** The sample at whole position p (silence outside what is held). */
  at(p: number): number {
    return p >= this.start && p < this.end ? this.ring[p & MASK] : 0;
  }

  /**
   * Reads out.length samples starting at fractional position `pos`, `step`
   * positions apart (step = 1 ± ppm); what is not held reads as silence.
   */
  read(out: Int16Array, pos: number, step: number): void {
    const n = out.length;
    const i0 = Math.floor(pos);
    const ring = this.ring;
    if (step === 1 && pos === i0 && i0 >= this.start && i0 + n <= this.end) {
      const a = i0 & MASK;
      const first = Math.min(n, CAPACITY - a);
      out.set(ring.subarray(a, a + first));
      if (first < n) out.set(ring.subarray(0, n - first), first);
      return;
    }
    const last = Math.floor(pos + (n - 1) * step);
    const held = i0 - 1 >= this.start && last + 2 < this.end;
    // Walk the stream with a whole index k and a fraction f in [0, 1): one new sample per step.
    let k = i0;
    let f = pos - i0;
    let x0 = held ? ring[(k - 1) & MASK] : this.at(k - 1);
    let x1 = held ? ring[k & MASK] : this.at(k);
    let x2 = held ? ring[(k + 1) & MASK] : this.at(k + 1);
    let x3 = held ? ring[(k + 2) & MASK] : this.at(k + 2);
    for (let i = 0; i < n; i++) {
      // Catmull-Rom: passes through x1 (f = 0) and x2 (f = 1) with matching slopes.
      const y = x1 + 0.5 * f * (x2 - x0 + f * (2 * x0 - 5 * x1 + 4 * x2 - x3 + f * (3 * (x1 - x2) + x3 - x0)));
      out[i] = y > 32767 ? 32767 : y < -32768 ? -32768 : Math.round(y);
      f += step;
      while (f >= 1) {
        f -= 1;
        k++;
        x0 = x1;
        x1 = x2;
        x2 = x3;
        x3 = held ? ring[(k + 2) & MASK] : this.at(k + 2);
      }
    }
  }
}
