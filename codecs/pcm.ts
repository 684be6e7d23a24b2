/**
 * The one internal audio format of Loa: 48 kHz, mono, signed 16-bit PCM,
 * in frames of 20 ms. Every source produces frames; every encoder consumes them.
 */
export const SAMPLE_RATE = 48_000;
export const FRAME_MS = 20;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000; // 960
export const FRAME_BYTES = FRAME_SAMPLES * 2;

/** One 20 ms frame: FRAME_SAMPLES samples of 48 kHz mono int16. */
export type Frame = Int16Array;

export function newFrame(): Frame {
  return new Int16Array(FRAME_SAMPLES);
}
