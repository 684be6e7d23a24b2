import t from 'tap';
import { codecInfo, createDecoder, createEncoder, isCodecName } from '../../codecs/registry.js';
import { CODEC_NAMES } from '../../codecs/codec.js';
import { SineOscillator } from '../../codecs/tone.js';
import { dominantFrequency, normalizedCrossCorrelation, snrDb } from '../../codecs/analysis.js';

t.test('RTP/SDP table', async (t) => {
  t.match(codecInfo('pcmu'), { encodingName: 'PCMU', payloadType: 0, clockRate: 8000, timestampStep: 160, sdpChannels: 1 });
  t.match(codecInfo('pcma'), { encodingName: 'PCMA', payloadType: 8, clockRate: 8000, timestampStep: 160, sdpChannels: 1 });
  t.match(codecInfo('opus'), { encodingName: 'opus', payloadType: 111, clockRate: 48000, timestampStep: 960, sdpChannels: 2 });
  t.match(codecInfo('l16'), { encodingName: 'L16', payloadType: 98, clockRate: 48000, timestampStep: 960, sdpChannels: 1 });
  t.ok(isCodecName('pcmu'));
  t.notOk(isCodecName('g722'));
  t.throws(() => codecInfo('g722' as never), RangeError);
});

const PAYLOAD_BYTES = { pcmu: 160, pcma: 160, l16: 1920 } as const;

for (const name of CODEC_NAMES) {
  t.test(`${name}: 48 kHz frames in, 48 kHz frames out, tone preserved`, async (t) => {
    const enc = createEncoder(name);
    const dec = createDecoder(name);
    t.teardown(() => (enc.close(), dec.close()));
    t.equal(enc.payloadType, codecInfo(name).payloadType, 'encoder carries its codec info');
    const osc = new SineOscillator(1000, 0.4);
    const frame = new Int16Array(960);
    const input = new Int16Array(960 * 50);
    const output = new Int16Array(960 * 50);
    let previous: Buffer | undefined;
    let sameBuffer = true;
    for (let i = 0; i < 50; i++) {
      osc.fill(frame);
      // An irregular swell makes the codec delay unambiguous.
      for (let k = 0; k < 960; k++) frame[k] = Math.round(frame[k] * (0.7 + 0.3 * Math.sin((i * 960 + k) / 3000)));
      input.set(frame, i * 960);
      const payload = enc.encode(frame);
      if (name !== 'opus') {
        t.equal(payload.length, PAYLOAD_BYTES[name], 'payload size') || t.bailout();
        if (previous && previous !== payload) sameBuffer = false;
        previous = payload;
      }
      const out = dec.decode(payload);
      if (out.length !== 960) t.fail(`decoded ${out.length} samples`);
      output.set(out, i * 960);
    }
    if (name !== 'opus') t.ok(sameBuffer, 'the encoder reuses one output buffer');
    const { lag, correlation } = normalizedCrossCorrelation(input.subarray(4800), output.subarray(4800), 1000);
    t.ok(correlation > 0.97, `correlation ${correlation.toFixed(4)} at lag ${lag}`);
    t.ok(Math.abs(dominantFrequency(output.subarray(4800), 48000) - 1000) < 2, 'frequency kept');
    if (name === 'l16') t.equal(snrDb(input, output), Infinity, 'L16 is lossless');
    if (name === 'pcmu' || name === 'pcma') {
      // Resampler delays (2 × ≈3 ms) and the companding noise of G.711 (≈ 38 dB SNR for a loud tone).
      const snr = snrDb(input.subarray(4800, 40000), output.subarray(4800 + lag), 0);
      t.ok(snr > 30, `SNR after delay compensation ${snr.toFixed(1)} dB`);
    }
  });
}

for (const name of ['pcmu', 'pcma', 'l16'] as const) {
  t.test(`${name}: concealment fades out without a step, then silence`, async (t) => {
    const enc = createEncoder(name);
    const dec = createDecoder(name);
    const osc = new SineOscillator(440, 0.5);
    const frame = new Int16Array(960);
    let last = 0;
    for (let i = 0; i < 10; i++) {
      osc.fill(frame);
      const out = dec.decode(enc.encode(frame));
      last = out[out.length - 1];
    }
    const first = Int16Array.from(dec.conceal());
    const second = Int16Array.from(dec.conceal());
    t.equal(first.length, 960);
    t.ok(Math.abs(first[0] - last) < 1500, `joins the last sample (${last} → ${first[0]})`);
    const level = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    const start = level(first.subarray(0, 240));
    const end = level(first.subarray(720));
    t.ok(start > 5000 && end < start / 2, `fades out (${start.toFixed(0)} → ${end.toFixed(0)} rms)`);
    // G.711's upsampler delays the fade by ≈3 ms; after that the second lost frame is silent.
    t.ok(second.subarray(240).every((v) => Math.abs(v) < 50), 'second lost frame is silence');
    enc.close();
    dec.close();
  });
}
