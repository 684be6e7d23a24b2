/**
 * Gain, mixing, fades and level measurement on int16 frames. Everything works
 * in place on the caller's frame and allocates nothing.
 * Levels are relative to full scale: 1.0 = 32768, 0 dBFS.
 */
import type { Frame } from './pcm.js';

const FULL_SCALE = 32768;

function clamp16(x: number): number {
  const r = Math.round(x);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Decibels → linear amplitude factor (−6.02 dB ≈ 0.5). */
export function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}

/** Linear amplitude factor → decibels (0 → −Infinity). */
export function gainToDb(gain: number): number {
  return 20 * Math.log10(gain);
}

/** Multiplies every sample by gain, saturating at the int16 limits. */
export function applyGain(frame: Frame, gain: number): void {
  if (gain === 1) return;
  for (let i = 0; i < frame.length; i++) frame[i] = clamp16(frame[i] * gain);
}

/** dst += src × gain, saturating. Mixes min(dst.length, src.length) samples. */
export function mixInto(dst: Frame, src: Frame, gain = 1): void {
  const n = Math.min(dst.length, src.length);
  for (let i = 0; i < n; i++) dst[i] = clamp16(dst[i] + src[i] * gain);
}

export type FadeCurve = 'linear' | 'equal-power';

/**
 * Ramps the gain across the frame from fromGain to toGain; the last sample gets
 * exactly toGain, so consecutive fades (a→b, b→c) join without a step.
 * 'equal-power' interpolates the squared gain, so a fade-out and a fade-in
 * summed in a crossfade keep constant power.
 */
export function fade(frame: Frame, fromGain: number, toGain: number, curve: FadeCurve = 'linear'): void {
  const n = frame.length;
  if (n === 0) return;
  if (curve === 'linear') {
    const step = (toGain - fromGain) / n;
    for (let i = 0; i < n; i++) frame[i] = clamp16(frame[i] * (fromGain + step * (i + 1)));
  } else {
    const p0 = fromGain * fromGain;
    const dp = (toGain * toGain - p0) / n;
    for (let i = 0; i < n; i++) frame[i] = clamp16(frame[i] * Math.sqrt(Math.max(0, p0 + dp * (i + 1))));
  }
}

/** Root mean square, relative to full scale (a full-scale sine is ≈ 0.707). 0 for an empty frame. */
export function rms(frame: Frame): number {
  const n = frame.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += frame[i] * frame[i];
  return Math.sqrt(sum / n) / FULL_SCALE;
}

/** Largest absolute sample, relative to full scale (0..1). */
export function peak(frame: Frame): number {
  let max = 0;
  for (let i = 0; i < frame.length; i++) {
    const a = frame[i] < 0 ? -frame[i] : frame[i];
    if (a > max) max = a;
  }
  return max / FULL_SCALE;
}

/** Level in dBFS of a full-scale-relative value (rms() or peak()); −Infinity for 0. */
export function toDbfs(level: number): number {
  return 20 * Math.log10(level);
}

/** True when the frame's RMS level is below thresholdDb dBFS (default −60). */
export function isSilent(frame: Frame, thresholdDb = -60): boolean {
  return toDbfs(rms(frame)) < thresholdDb;
}
