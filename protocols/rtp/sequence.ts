/**
 * Modular arithmetic on RTP sequence numbers (16 bit) and timestamps (32 bit).
 * Both wrap; "a is after b" means "a is less than half the space ahead of b".
 */

/** Signed distance a - b in the 16-bit sequence space, in [-32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/** Signed distance a - b in the 32-bit timestamp space, in [-2^31, 2^31 - 1]. */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** True when sequence number a comes after b (with wrap). */
export function seqNewer(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** a + n in the 16-bit sequence space. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** a + n in the 32-bit timestamp space (unsigned result). */
export function tsAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * Turns 16-bit sequence numbers into a monotonic extended count
 * (cycles * 65536 + seq, RFC 3550 A.1). Each number is placed at the extended
 * value nearest to the highest seen so far, so reordered packets on either
 * side of a wrap get the right cycle.
 */
export class ExtendedSequence {
  private highestExt = -1;

  /** Extended value of seq; advances the highest when seq is newer. */
  update(seq: number): number {
    if (this.highestExt < 0) {
      this.highestExt = seq & 0xffff;
      return this.highestExt;
    }
    const ext = this.highestExt + seqDiff(seq, this.highestExt & 0xffff);
    if (ext > this.highestExt) this.highestExt = ext;
    return ext;
  }

  /** Extended value seq would get, without changing state. */
  peek(seq: number): number {
    if (this.highestExt < 0) return seq & 0xffff;
    return this.highestExt + seqDiff(seq, this.highestExt & 0xffff);
  }

  /** Highest extended sequence number seen, or -1 before the first packet. */
  get highest(): number {
    return this.highestExt;
  }

  /** Number of 16-bit wraps so far. */
  get cycles(): number {
    return this.highestExt < 0 ? 0 : Math.floor(this.highestExt / 0x10000);
  }

  reset(): void {
    this.highestExt = -1;
  }
}
