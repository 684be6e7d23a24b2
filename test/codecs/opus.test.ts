import t from 'tap';
import { OpusDecoder, OpusEncoder, opusFecDecodingSupported, opusImplementation, type OpusImplementation } from '../../codecs/opus.js';
import { SineOscillator } from '../../codecs/tone.js';
import { dominantFrequency, normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { rms, toDbfs } from '../../codecs/mix.js';

const FRAMES = 100; // 2 s

function toneFrames(freq: number): Int16Array[] {
  const osc = new SineOscillator(freq, 0.4);
  return Array.from({ length: FRAMES }, () => {
    const f = new Int16Array(960);
    osc.fill(f);
    return f;
  });
}

/** The tone with a slow, irregular swell, so its delay through the codec is unambiguous (a bare sine repeats every period). */
function swellingToneFrames(freq: number): Int16Array[] {
  const frames = toneFrames(freq);
  let n = 0;
  for (const f of frames) {
    for (let i = 0; i < f.length; i++, n++) {
      const t = n / 48000;
      f[i] = Math.round(f[i] * (0.6 + 0.25 * Math.sin(2 * Math.PI * 3.7 * t) + 0.15 * Math.sin(2 * Math.PI * 5.3 * t)));
    }
  }
  return frames;
}

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.length * 960);
  frames.forEach((f, i) => out.set(f, i * 960));
  return out;
}

t.equal(opusImplementation, '@discordjs/opus', 'the native binding loads on this machine');
t.equal(opusFecDecodingSupported, false);

for (const impl of ['@discordjs/opus', 'opusscript'] as OpusImplementation[]) {
  t.test(`${impl}: round trip of a 1 kHz tone`, async (t) => {
    const enc = new OpusEncoder({ implementation: impl, application: 'audio', bitrate: 32000 });
    const dec = new OpusDecoder({ implementation: impl });
    t.teardown(() => (enc.close(), dec.close()));
    t.equal(enc.implementation, impl);
    const input = swellingToneFrames(1000);
    const output = input.map((f) => Int16Array.from(dec.decode(enc.encode(f))));
    t.ok(output.every((f) => f.length === 960), 'every packet decodes to 960 samples');
    const a = concat(input);
    const b = concat(output);
    // Compensate the codec delay (lookahead ≈ 6.5 ms) by cross-correlation, skipping the start-up.
    const { lag, correlation } = normalizedCrossCorrelation(a.subarray(4800, 48000), b.subarray(4800, 48000), 960);
    // libopus delays by its lookahead: 2.5 ms + 4 ms = 312 samples at 48 kHz.
    t.ok(Math.abs(lag - 312) <= 4, `codec delay ${lag} samples (312 expected)`);
    t.ok(correlation > 0.95, `correlation after delay compensation ${correlation.toFixed(4)}`);
    t.ok(Math.abs(dominantFrequency(b.subarray(4800), 48000) - 1000) < 2, 'frequency kept');
  });

  t.test(`${impl}: packet loss concealment`, async (t) => {
    const enc = new OpusEncoder({ implementation: impl, application: 'voip', fec: true, packetLossPercent: 10 });
    const dec = new OpusDecoder({ implementation: impl });
    t.teardown(() => (enc.close(), dec.close()));
    t.ok(dec.conceal().every((v) => v === 0), 'before any packet, concealment is silence');
    const frames = toneFrames(1000);
    for (let i = 0; i < 50; i++) dec.decode(enc.encode(frames[i]));
    enc.encode(frames[50]); // this packet is lost
    const plc = Int16Array.from(dec.decode(null));
    t.equal(plc.length, 960, 'one 20 ms frame for one lost packet');
    t.ok(toDbfs(rms(plc)) > -20, `concealment is not silence (${toDbfs(rms(plc)).toFixed(1)} dBFS)`);
    t.ok(Math.abs(dominantFrequency(plc, 48000) - 1000) < 30, `it continues the tone (${dominantFrequency(plc, 48000).toFixed(0)} Hz)`);
    t.equal(dec.decode(Buffer.alloc(0)).length, 960, 'an empty payload conceals one frame too');
    const next = dec.decode(enc.encode(frames[51]));
    t.equal(next.length, 960, 'decoding resumes');
    t.equal(dec.decode(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])).length, 960, 'a corrupt packet is concealed, not thrown');
    t.equal(dec.invalidPackets, 1, 'and counted');
  });

  t.test(`${impl}: bitrate reaches the encoder`, async (t) => {
    const sizes: Record<number, number> = {};
    for (const bitrate of [16000, 64000]) {
      const enc = new OpusEncoder({ implementation: impl, bitrate });
      t.teardown(() => enc.close());
      let bytes = 0;
      for (const f of toneFrames(440)) bytes += enc.encode(f).length;
      sizes[bitrate] = (bytes * 8) / 2; // bits per second over 2 s
    }
    t.ok(sizes[16000] < 16000 * 1.3 && sizes[64000] > 64000 * 0.6, `≈16k: ${sizes[16000]}, ≈64k: ${sizes[64000]} bit/s`);
    t.throws(() => new OpusEncoder({ implementation: impl }).setBitrate(1000), RangeError);
  });
}
