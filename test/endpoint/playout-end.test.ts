// How a talk-spurt ends: a programme that ended (the server sends a faded last frame and
// then nothing) is neither concealment nor an underrun; packets lost at the end, or late
// because of a network stall, still are. And packets need not be 20 ms long (L16 is sent
// in shorter packets to stay under a 1500-byte MTU).
import t from 'tap';
import { dominantFrequency, normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { encodeL16 } from '../../codecs/l16.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder } from '../../codecs/registry.js';
import { Playout, type ServerClock } from '../../endpoint/playout.js';
import { SERVER_T0, simulateStream, sineThenChirp, type SimPacket } from './sim-stream.js';

const clock: ServerClock = { synced: true, serverNow: (l) => l, localTimeOf: (s) => s };
const DELAY = 120;

/** Plays packets (with an optional extra delay per packet) from the start to `untilMs` after T0; returns playout and output. */
function play(codec: 'opus' | 'pcmu' | 'l16', packets: SimPacket[], untilMs: number, extraDelay: (q: SimPacket) => number = () => 0) {
  const p = new Playout({ decoder: createDecoder(codec), clock, playoutDelayMs: DELAY });
  const queue = packets.map((q) => ({ q, at: q.arrivalServerMs + extraDelay(q) })).sort((a, b) => a.at - b.at);
  const out = new Int16Array(FRAME_SAMPLES);
  const heard = new Int16Array(Math.ceil(untilMs / 20) * FRAME_SAMPLES);
  let next = 0;
  for (let k = 0; k * 20 < untilMs; k++) {
    const local = SERVER_T0 + DELAY - 4.1 + k * 20;
    for (; next < queue.length && queue[next].at <= local; next++) {
      const { q } = queue[next];
      if (q.kind === 'sr') p.onSenderReport(q.serverMs, q.ts);
      else p.push(q.seq, q.ts, q.payload, queue[next].at, q.marker);
    }
    p.render(out, local);
    heard.set(out, k * FRAME_SAMPLES);
  }
  return { p, heard };
}

for (const codec of ['opus', 'pcmu'] as const) {
  t.test(`${codec}: programmes that end cleanly count nothing`, async (t) => {
    const spurt = () => sineThenChirp(700, 25);
    const packets = simulateStream(codec, [
      { startFrame: 0, pcm: spurt() },
      { startFrame: 150, pcm: spurt() }, // 2 s of quiet between them
      { startFrame: 400, pcm: spurt() },
    ]);
    const { p, heard } = play(codec, packets, 10_000);
    t.equal(p.stats.decoded, 150, 'every packet played');
    t.equal(p.stats.concealed, 0, 'no concealment counted');
    t.equal(p.stats.underruns, 0, 'no underrun counted');
    t.equal(p.stats.late, 0);
    t.equal(p.stats.talkSpurts, 3);
    const f = dominantFrequency(heard.subarray(48 * 3050, 48 * 3450), 48_000);
    t.ok(Math.abs(f - 700) < 3, `the second spurt plays (${f.toFixed(1)} Hz)`);
  });

  t.test(`${codec}: packets lost at the end of a spurt are counted once the next spurt shows the gap`, async (t) => {
    const packets = simulateStream(codec, [
      { startFrame: 0, pcm: sineThenChirp(700, 25) },
      { startFrame: 150, pcm: sineThenChirp(700, 25) },
    ]);
    const rtp = packets.filter((q) => q.kind === 'rtp');
    const lost = new Set(rtp.slice(47, 50).map((q) => q.seq)); // the last 3 of the first spurt
    const { p } = play(
      codec,
      packets.filter((q) => !(q.kind === 'rtp' && lost.has(q.seq))),
      5_000,
    );
    t.equal(p.stats.decoded, 97);
    t.equal(p.stats.concealed, 3, `the 3 lost packets (${p.stats.concealed})`);
    t.equal(p.stats.underruns, 1, 'one underrun');
  });
}

t.test('a network stall makes packets late: an underrun, concealed, late', async (t) => {
  const packets = simulateStream('opus', [{ startFrame: 0, pcm: sineThenChirp(700, 50) }]);
  // Packets of frames 30–39 are held 300 ms (longer than the 120 ms playout delay).
  const { p } = play('opus', packets, 3_000, (q) => {
    const n = (q.serverMs - SERVER_T0) / 20;
    return n >= 30 && n < 40 ? 300 : 0;
  });
  t.equal(p.stats.underruns, 1, 'one underrun');
  t.ok(p.stats.concealed >= 1 && p.stats.concealed <= 5, `concealed ${p.stats.concealed}`);
  t.ok(p.stats.late >= 5, `late ${p.stats.late}`);
});

t.test('L16 in 10 ms packets (480 samples) plays on time; a lost one is concealed for 10 ms', async (t) => {
  const src = sineThenChirp(1000, 50);
  const packets: SimPacket[] = [];
  const half = FRAME_SAMPLES / 2;
  for (let k = 0; k < src.length / half; k++) {
    const serverMs = SERVER_T0 + k * 10;
    const ts = (0xffff_f000 + k * half) >>> 0;
    const payload = Buffer.alloc(half * 2);
    encodeL16(src.subarray(k * half, (k + 1) * half), payload);
    packets.push({ kind: 'rtp', seq: (65_500 + k) & 0xffff, ts, payload, marker: k === 0, serverMs, arrivalServerMs: serverMs + 15 });
    if (k % 250 === 0) packets.push({ kind: 'sr', seq: 0, ts, payload: Buffer.alloc(0), marker: false, serverMs, arrivalServerMs: serverMs + 15 });
  }
  const lostK = 60; // in the sine, before the chirp
  const { p, heard } = play('l16', packets.filter((q) => !(q.kind === 'rtp' && q.serverMs === SERVER_T0 + lostK * 10)), 2_100);
  t.equal(p.stats.decoded, 2 * 100 - 1);
  t.equal(p.stats.concealed, 1, 'one 10 ms packet concealed');
  // The recording starts 4.1 ms before the first sample is due.
  const at = Math.round(4.1 * 48);
  const f = dominantFrequency(heard.subarray(at + 4800, at + 4800 + 38_400), 48_000);
  t.ok(Math.abs(f - 1000) < 1, `the tone (${f.toFixed(2)} Hz)`);
  const ref = src.subarray(50 * FRAME_SAMPLES + 4800, 50 * FRAME_SAMPLES + 4800 + 38_400);
  const got = heard.subarray(at + 50 * FRAME_SAMPLES + 4800 - 96, at + 50 * FRAME_SAMPLES + 4800 + 38_400 + 96);
  const { lag, correlation } = normalizedCrossCorrelation(ref, got, 96);
  t.ok(correlation > 0.999, `the chirp matches the source (${correlation.toFixed(4)})`);
  t.equal(lag - 96, 0, 'at its due time, to the sample');
});
