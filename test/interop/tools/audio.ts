/**
 * What interop tests measure in the WAV a real peer decoded: per-window
 * level and tone share (how much of a window's power sits at one frequency,
 * by Goertzel), sample-to-sample steps (clicks), and the reference waveform
 * a pure tone should correlate with.
 */
import { goertzelPower } from '../../../codecs/analysis.js';
import { readWav } from '../../../codecs/wav.js';

export interface MonoWav {
  sampleRate: number;
  samples: Int16Array;
  /** Seconds. */
  duration: number;
}

/** Reads a 16-bit WAV and keeps its first channel. */
export function readMono(file: string): MonoWav {
  const w = readWav(file);
  let samples = w.samples;
  if (w.channels > 1) {
    samples = new Int16Array(Math.floor(w.samples.length / w.channels));
    for (let i = 0; i < samples.length; i++) samples[i] = w.samples[i * w.channels];
  }
  return { sampleRate: w.sampleRate, samples, duration: samples.length / w.sampleRate };
}

/** The samples between two times (seconds), clamped to the signal. */
export function slice(w: MonoWav, fromS: number, toS: number): Int16Array {
  const a = Math.max(0, Math.round(fromS * w.sampleRate));
  const b = Math.min(w.samples.length, Math.round(toS * w.sampleRate));
  return w.samples.subarray(a, Math.max(a, b));
}

export function rms(x: ArrayLike<number>): number {
  if (x.length === 0) return 0;
  let e = 0;
  for (let i = 0; i < x.length; i++) e += x[i] * x[i];
  return Math.sqrt(e / x.length);
}

export function peak(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/**
 * Share of the power of x that is at freqHz, 0..1 (≈ 1 for a pure tone at
 * freqHz, ≈ 0 when the energy is elsewhere). Hann-windowed Goertzel, whose
 * window loses nothing for a steady tone, over the plain mean square.
 */
export function toneShare(x: ArrayLike<number>, sampleRate: number, freqHz: number): number {
  const ms = rms(x) ** 2;
  return ms === 0 ? 0 : goertzelPower(x, sampleRate, freqHz) / ms;
}

export interface Window {
  /** Start, seconds from the beginning of the WAV. */
  atS: number;
  samples: Int16Array;
}

/** Consecutive windows of windowMs between fromS and toS (the last partial one dropped). */
export function windows(w: MonoWav, windowMs: number, fromS = 0, toS = w.duration): Window[] {
  const n = Math.round((windowMs * w.sampleRate) / 1000);
  const out: Window[] = [];
  const end = Math.min(w.samples.length, Math.round(toS * w.sampleRate));
  for (let a = Math.max(0, Math.round(fromS * w.sampleRate)); a + n <= end; a += n) {
    out.push({ atS: a / w.sampleRate, samples: w.samples.subarray(a, a + n) });
  }
  return out;
}

/** Largest |x[i] − x[i−1]|: a hard cut between two signals shows up as one big step. */
export function maxStep(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 1; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - x[i - 1]));
  return m;
}

/**
 * Click detector: the largest step of the third difference of x. Each
 * difference scales a tone of frequency f by 2·sin(πf/fs) — 0.04 in all for
 * 440 Hz at 8 kHz, 0.32 for 900 Hz — while the broadband burst of a hard cut
 * keeps its size. A plain step cannot see a cut once a codec has band-limited
 * it: at 8 kHz an 800 Hz tone's own steps are as large (measured in
 * measurements-can-fail.test.ts).
 */
export function maxThirdDifference(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 3; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - 3 * x[i - 1] + 3 * x[i - 2] - x[i - 3]));
  return m;
}

/** A sine of freqHz at the given rate and peak amplitude (int16 units), delayed by a (fractional) number of samples. */
export function sine(freqHz: number, sampleRate: number, seconds: number, amplitude = 16384, delaySamples = 0): Int16Array {
  const out = new Int16Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * (i - delaySamples)) / sampleRate));
  return out;
}

/** Describes windows that fail a check, compactly, for assertion messages. */
export function describeWindows(ws: Window[], value: (w: Window) => number, digits = 2): string {
  return ws.map((w) => `${w.atS.toFixed(2)}s:${value(w).toFixed(digits)}`).join(' ');
}
