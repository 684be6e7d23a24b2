// A zone quiet for longer than half the RTP timestamp space (2^31 ticks: 12.4 h at 48 kHz,
// 74.6 h at 8 kHz), then an alert: the new talk-spurt must play at its due time with the
// right audio. Simulated time; the silence itself is skipped in one step (the read head
// re-anchors while nothing plays) except its last 10 s, which run slot by slot.
import t from 'tap';
import type { CodecName } from '../../codecs/codec.js';
import { dominantFrequency, normalizedCrossCorrelation } from '../../codecs/analysis.js';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder, pipelineDelaySamples } from '../../codecs/registry.js';
import { Playout, type ServerClock } from '../../endpoint/playout.js';
import { SERVER_T0, simulateStream, sineThenChirp, type SimPacket } from './sim-stream.js';

class FixedOffsetClock implements ServerClock {
  synced = true;
  constructor(public offset: number) {}
  serverNow(local: number): number {
    return local + this.offset;
  }
  localTimeOf(serverMs: number): number {
    return serverMs - this.offset;
  }
}

const OFFSET = -3_600_000.37; // the agent's clock is an hour fast
const DELAY = 150;
const SPURT_FRAMES = 50; // 1 s of sine, then 1 s of chirp

interface Case {
  codec: CodecName;
  hours: number;
  loseFirstSr?: boolean;
  seqJump?: number;
  delayFirstMs?: number;
}

function run(c: Case) {
  const frames2 = Math.round(c.hours * 3600 * 50) + 2 * SPURT_FRAMES;
  const first = sineThenChirp(440, SPURT_FRAMES);
  const second = sineThenChirp(1000, SPURT_FRAMES);
  const packets = simulateStream(c.codec, [
    { startFrame: 0, pcm: first },
    { startFrame: frames2, pcm: second, loseFirstSr: c.loseFirstSr, seqJump: c.seqJump, delayFirstMs: c.delayFirstMs },
  ]);
  const clock = new FixedOffsetClock(OFFSET);
  const decoder = createDecoder(c.codec);
  const p = new Playout({ decoder, clock, playoutDelayMs: DELAY });
  const toLocal = (serverMs: number) => serverMs - OFFSET;
  let next = 0;
  const deliver = (local: number) => {
    for (; next < packets.length && toLocal(packets[next].arrivalServerMs) <= local; next++) {
      const k: SimPacket = packets[next];
      if (k.kind === 'sr') p.onSenderReport(k.serverMs, k.ts);
      else p.push(k.seq, k.ts, k.payload, toLocal(k.arrivalServerMs), k.marker);
    }
  };
  const out = new Int16Array(FRAME_SAMPLES);
  const slot0 = toLocal(SERVER_T0 + DELAY) - 13.7; // slots out of phase with frames
  let k = 0;
  const renderUntil = (localEnd: number, rec?: { at: number; samples: Int16Array }) => {
    for (; slot0 + k * 20 < localEnd; k++) {
      const local = slot0 + k * 20;
      deliver(local);
      p.render(out, local);
      if (rec) {
        const i0 = Math.round((local - rec.at) * 48);
        for (let i = 0; i < FRAME_SAMPLES; i++) if (i0 + i >= 0 && i0 + i < rec.samples.length) rec.samples[i0 + i] = out[i];
      }
    }
  };
  // First spurt (2 s), then its tail.
  const end1 = toLocal(SERVER_T0 + 2 * SPURT_FRAMES * 20 + DELAY) + 500;
  renderUntil(end1);
  const afterFirst = { ...p.stats };
  // The silence: skip to 10 s before the next spurt is due, then slot by slot.
  const start2Server = SERVER_T0 + frames2 * 20;
  const due2 = toLocal(start2Server + DELAY);
  k = Math.ceil((due2 - 10_000 - slot0) / 20);
  const rec = { at: due2 - 100, samples: new Int16Array(48 * 2300) };
  renderUntil(due2 + 2 * SPURT_FRAMES * 20 + 500, rec);
  decoder.close();
  return { p, afterFirst, rec, due2, second };
}

const cases: Case[] = [
  { codec: 'opus', hours: 13 },
  { codec: 'opus', hours: 26 },
  { codec: 'opus', hours: 80 },
  { codec: 'pcmu', hours: 13 },
  { codec: 'pcmu', hours: 26 },
  { codec: 'pcmu', hours: 80 },
  { codec: 'opus', hours: 26, loseFirstSr: true },
  { codec: 'pcmu', hours: 80, seqJump: 40_000 },
  { codec: 'opus', hours: 13, delayFirstMs: 45 },
];

for (const c of cases) {
  const name = `${c.codec}: ${c.hours} h of silence${c.loseFirstSr ? ', the new spurt’s sender report lost' : ''}${c.seqJump ? ', sequence numbers jumped' : ''}${c.delayFirstMs ? ', its first packet overtaken by the next two' : ''}`;
  t.test(name, async (t) => {
    const { p, afterFirst, rec, due2, second } = run(c);
    t.equal(afterFirst.decoded, 2 * SPURT_FRAMES, 'the first spurt played');
    t.equal(p.stats.talkSpurts, 2, 'two talk-spurts, each with its own timestamp base');
    // Where the second spurt's audio sits in the recording (it starts 100 ms in).
    const sine = rec.samples.subarray(48 * 200, 48 * 900);
    const f = dominantFrequency(sine, 48_000);
    t.ok(Math.abs(f - 1000) < 3, `the new spurt's tone plays (${f.toFixed(1)} Hz)`);
    // The chirp: the recording at its due time must match the source, with no lag.
    const chirpAt = 100 + SPURT_FRAMES * 20; // ms into the recording
    const heard = rec.samples.subarray(48 * (chirpAt + 100), 48 * (chirpAt + 900));
    const ref = second.subarray(SPURT_FRAMES * FRAME_SAMPLES + 48 * 100, SPURT_FRAMES * FRAME_SAMPLES + 48 * 900);
    const { lag, correlation } = normalizedCrossCorrelation(ref, heard, 480);
    t.ok(correlation > 0.9, `correlation with the source ${correlation.toFixed(3)}`);
    t.ok(Math.abs(lag) <= 48, `played at its due time: ${(lag / 48).toFixed(2)} ms off`);
    // (The agent plays a codec's encode → decode delay early, so the source is on time.)
    const dueErr = p.dueLocalTime(packetTsOf(c, 0), due2) + pipelineDelaySamples(c.codec) / 48 - due2;
    t.ok(Math.abs(dueErr) < 0.05, `dueLocalTime maps the new timestamp to its due time (${dueErr.toFixed(3)} ms)`);
    // Neither end of a spurt is loss.
    t.equal(p.stats.concealed, 0, 'nothing concealed');
    t.equal(p.stats.underruns, 0, 'no underrun');
    t.equal(p.stats.late, 0, 'nothing read as late');
    if (c.seqJump) t.equal(p.stats.resequenced, 1, 'the jump in sequence numbers restarted the numbering');
  });
}

/** RTP timestamp of frame k of the second spurt of case c (as simulateStream stamps it). */
function packetTsOf(c: Case, k: number): number {
  const step = c.codec === 'pcmu' ? 160 : 960;
  const frames2 = Math.round(c.hours * 3600 * 50) + 2 * SPURT_FRAMES;
  return (0xffff_0000 + (frames2 + k) * step) % 0x1_0000_0000;
}
