/**
 * The assertions every "a peer hears a steady tone" interop test makes on the
 * WAV the peer wrote: how long it is, its frequency, its level (neither
 * silence nor clipping), its shape (correlation with a clean sine), that the
 * tone fills every 100 ms, and — when the peer turns lost time into silence —
 * that no 10 ms of it is missing.
 */
import type { Test } from 'tap';
import { dominantFrequency, normalizedCrossCorrelation, toneLevelDb } from '../../../codecs/analysis.js';
import { describeWindows, peak, rms, sine, slice, toneShare, windows, type MonoWav } from './audio.js';

export interface SteadyToneExpectation {
  /** Who decoded it, for messages. */
  who: string;
  freqHz: number;
  /** Peak amplitude as a fraction of full scale (the play command's). */
  amplitude: number;
  /** How long the zone was on air, seconds (the programme plus its faded last frame). */
  onAirS: number;
  /** The peer fills timestamp gaps with silence, so a gap check means something. */
  gapsAudible: boolean;
}

/** Start and end of a WAV left out of level checks: fade-in, fade-out, decoder warm-up. */
const EDGE_S = 0.06;

export function assertSteadyTone(t: Test, w: MonoWav, x: SteadyToneExpectation): void {
  const { who, freqHz, amplitude } = x;
  t.ok(Math.abs(w.duration - x.onAirS) <= 0.06, `${who}: ${w.duration.toFixed(3)} s decoded for ${x.onAirS.toFixed(3)} s on air`);
  const body = slice(w, EDGE_S, w.duration - EDGE_S);
  t.ok(body.length >= 0.5 * w.sampleRate, `${who}: at least 0.5 s of steady audio (${(body.length / w.sampleRate).toFixed(2)} s)`);

  const f = dominantFrequency(body, w.sampleRate);
  t.ok(Math.abs(f - freqHz) <= Math.max(2, freqHz * 0.002), `${who}: dominant frequency ${f.toFixed(1)} Hz, sent ${freqHz} Hz`);

  const levelDb = toneLevelDb(body, w.sampleRate, freqHz);
  const sentDb = 20 * Math.log10(amplitude);
  t.ok(Math.abs(levelDb - sentDb) <= 1, `${who}: tone level ${levelDb.toFixed(2)} dBFS, sent ${sentDb.toFixed(2)} dBFS`);
  const p = peak(body) / 32767;
  t.ok(p > amplitude * 0.85 && p < amplitude * 1.15 && p < 0.99, `${who}: peak ${p.toFixed(3)} of full scale (sent ${amplitude}): not clipped, not attenuated`);

  // The waveform itself, not just its spectrum: a clean sine of the same frequency matches it.
  // Lags are whole samples, so the reference is tried at 1/16-sample delays too (880 Hz at 8 kHz
  // is 9.09 samples a period: a half-sample phase error alone would cost 6 % of correlation).
  const period = Math.ceil(w.sampleRate / freqHz);
  const probe = body.subarray(0, Math.round(0.2 * w.sampleRate) + 2 * period);
  let correlation = -1;
  for (let k = 0; k < 16; k++) {
    const ref = sine(freqHz, w.sampleRate, 0.2, 16384, k / 16);
    correlation = Math.max(correlation, normalizedCrossCorrelation(ref, probe, 2 * period).correlation);
  }
  t.ok(correlation > 0.98, `${who}: correlation with a clean ${freqHz} Hz sine ${correlation.toFixed(4)}`);

  const impure = windows(w, 100, EDGE_S, w.duration - EDGE_S).filter((win) => toneShare(win.samples, w.sampleRate, freqHz) < 0.9);
  t.same(impure.length, 0, `${who}: the tone fills every 100 ms window ${describeWindows(impure, (win) => toneShare(win.samples, w.sampleRate, freqHz))}`);

  if (x.gapsAudible) {
    const floor = 0.5 * (amplitude * 32767) / Math.SQRT2;
    const holes = windows(w, 10, EDGE_S, w.duration - EDGE_S).filter((win) => rms(win.samples) < floor);
    t.same(holes.length, 0, `${who}: no gap: every 10 ms window above RMS ${floor.toFixed(0)} ${describeWindows(holes, (win) => rms(win.samples), 0)}`);
  }
}
