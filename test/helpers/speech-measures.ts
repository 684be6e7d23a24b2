/**
 * Measures that tell speech from other sound, for the speech tests: level,
 * where the spectral energy lies, the fundamental frequency of voiced frames,
 * and the syllable rhythm of the energy envelope.
 */
import { fft } from '../../codecs/analysis.js';

/** RMS level in dBFS (a full-scale square wave is 0 dB). */
export function rmsDbfs(pcm: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return 10 * Math.log10(sum / Math.max(1, pcm.length) / (32768 * 32768) + 1e-20);
}

/** Share of the signal's power (long-term spectrum, DC excluded) between loHz and hiHz. */
export function bandEnergyFraction(pcm: ArrayLike<number>, sampleRate: number, loHz: number, hiHz: number): number {
  const n = 4096;
  const power = new Float64Array(n / 2);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let start = 0; start + n <= pcm.length; start += n / 2) {
    for (let i = 0; i < n; i++) {
      re[i] = pcm[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
      im[i] = 0;
    }
    fft(re, im);
    for (let k = 1; k < n / 2; k++) power[k] += re[k] * re[k] + im[k] * im[k];
  }
  let inBand = 0;
  let total = 0;
  for (let k = 1; k < n / 2; k++) {
    const f = (k * sampleRate) / n;
    total += power[k];
    if (f >= loHz && f <= hiHz) inBand += power[k];
  }
  return total === 0 ? 0 : inBand / total;
}

/** Levels of consecutive frames, in dBFS. */
export function frameLevels(pcm: ArrayLike<number>, sampleRate: number, frameMs: number): number[] {
  const len = Math.round((sampleRate * frameMs) / 1000);
  const out: number[] = [];
  for (let start = 0; start + len <= pcm.length; start += len) {
    let sum = 0;
    for (let i = start; i < start + len; i++) sum += pcm[i] * pcm[i];
    out.push(10 * Math.log10(sum / len / (32768 * 32768) + 1e-20));
  }
  return out;
}

/**
 * Fundamental frequencies (Hz) of the voiced 40 ms frames: normalised
 * autocorrelation on a 12 kHz copy, lags for 60–400 Hz, a frame counts as
 * voiced when its peak correlation is above 0.6 and it is within 20 dB of the
 * loudest frame.
 */
export function voicedPitches(pcm: ArrayLike<number>, sampleRate: number): number[] {
  const factor = Math.round(sampleRate / 12000);
  const rate = sampleRate / factor;
  const x = new Float64Array(Math.floor(pcm.length / factor));
  for (let i = 0; i < x.length; i++) {
    let s = 0;
    for (let j = 0; j < factor; j++) s += pcm[i * factor + j];
    x[i] = s / factor;
  }
  const frame = Math.round(rate * 0.04);
  const minLag = Math.floor(rate / 400);
  const maxLag = Math.ceil(rate / 60);
  const energies: number[] = [];
  for (let start = 0; start + frame + maxLag <= x.length; start += frame) {
    let e = 0;
    for (let i = start; i < start + frame; i++) e += x[i] * x[i];
    energies.push(e);
  }
  const loudest = Math.max(...energies, 0);
  const pitches: number[] = [];
  energies.forEach((e, f) => {
    if (e < loudest / 100) return;
    const start = f * frame;
    let best = 0;
    let bestLag = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let num = 0;
      let e1 = 0;
      let e2 = 0;
      for (let i = start; i < start + frame; i++) {
        num += x[i] * x[i + lag];
        e1 += x[i] * x[i];
        e2 += x[i + lag] * x[i + lag];
      }
      const c = num / Math.sqrt(e1 * e2 + 1e-9);
      if (c > best) {
        best = c;
        bestLag = lag;
      }
    }
    if (best > 0.6) pitches.push(rate / bestLag);
  });
  return pitches;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}

/**
 * Syllable-like peaks of the energy envelope (10 ms frames): local maxima
 * within 25 dB of the loudest frame that stand at least `prominenceDb` above
 * the lowest point between them and the previous peak.
 */
export function envelopePeaks(pcm: ArrayLike<number>, sampleRate: number, prominenceDb = 6): number {
  const levels = frameLevels(pcm, sampleRate, 10);
  // 30 ms moving average: syllables are ≥ 100 ms, glottal and frame jitter is not a syllable.
  const smooth = levels.map((_, i) => {
    const w = levels.slice(Math.max(0, i - 1), i + 2);
    return w.reduce((a, b) => a + b, 0) / w.length;
  });
  const top = Math.max(...smooth);
  let peaks = 0;
  let valley = Infinity;
  let candidate = -Infinity;
  for (const v of smooth) {
    if (v > candidate) candidate = v;
    if (candidate - v >= prominenceDb && candidate - valley >= prominenceDb && candidate > top - 25) {
      peaks++;
      valley = v;
      candidate = v;
    }
    if (v < valley) {
      valley = v;
      candidate = v;
    }
  }
  return peaks;
}

/**
 * Sample-exact equality of two recordings (false when either is missing).
 * Byte comparison: tap's deep comparison of two differing 100 000-sample
 * arrays takes minutes to build its diff.
 */
export function identicalAudio(a: Int16Array | undefined, b: Int16Array | undefined): boolean {
  if (!a || !b) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
