// The playout measurement hook the bench relies on: every frame handed to the output is
// reported with its RTP timestamp, arrival, server time (from the SR) and true playout time.
import t from 'tap';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createDecoder, createEncoder } from '../../codecs/registry.js';
import { Playout, type PlayoutFrameInfo, type ServerClock } from '../../endpoint/playout.js';

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

const SR_MS = 1_763_900_000_000;
const TS0 = 0xffff_f000; // wraps within the test
const OFFSET = 123_456.5; // the local clock is two minutes slow
const DELAY = 150;
const tsOf = (n: number) => (TS0 + n * 960) >>> 0;

t.test('the hook sees each frame once, with times that map back to the server clock', async (t) => {
  const enc = createEncoder('l16');
  const frame = new Int16Array(FRAME_SAMPLES);
  const seen: Array<Omit<PlayoutFrameInfo, 'pcm'> & { first: number }> = [];
  const p = new Playout({
    decoder: createDecoder('l16'),
    clock: new FixedOffsetClock(OFFSET),
    playoutDelayMs: DELAY,
    onFrame: (f) => seen.push({ rtpTimestamp: f.rtpTimestamp, arrivalLocalMs: f.arrivalLocalMs, serverMs: f.serverMs, playoutLocalMs: f.playoutLocalMs, concealed: f.concealed, first: f.pcm[0] }),
  });
  p.onSenderReport(SR_MS, tsOf(0));
  const arrival = (n: number) => SR_MS + n * 20 + 7 - OFFSET; // 7 ms on the wire
  const out = new Int16Array(FRAME_SAMPLES);
  const lost = 6;
  let pushed = 0;
  const slot0 = SR_MS + DELAY - OFFSET - 3.25; // slots out of phase with frames
  for (let k = 0; k < 16; k++) {
    const local = slot0 + k * 20;
    while (pushed < 14 && arrival(pushed) <= local) {
      if (pushed !== lost) {
        frame.fill(pushed + 1);
        p.push(pushed, tsOf(pushed), Buffer.from(enc.encode(frame)), arrival(pushed));
      }
      pushed++;
    }
    p.render(out, local);
  }
  t.ok(seen.length >= 12, `frames reported (${seen.length})`);
  const byTs = new Map(seen.map((s) => [s.rtpTimestamp, s]));
  t.equal(byTs.size, seen.length, 'no frame reported twice');
  for (let n = 0; n < 12; n++) {
    const s = byTs.get(tsOf(n));
    if (!s) {
      t.fail(`frame ${n} missing`);
      continue;
    }
    t.equal(s.serverMs, SR_MS + n * 20, `frame ${n}: server time from the SR mapping`);
    t.ok(Math.abs(s.playoutLocalMs + OFFSET - (s.serverMs + DELAY)) < 0.01, `frame ${n}: plays at server time + delay`);
    if (n === lost) {
      t.ok(s.concealed, 'the lost frame is concealed');
      t.ok(Number.isNaN(s.arrivalLocalMs), 'and has no arrival');
    } else {
      t.notOk(s.concealed);
      t.equal(s.first, n + 1, `frame ${n}: the hook carries that frame's audio`);
      t.equal(s.arrivalLocalMs + OFFSET - s.serverMs, 7, `frame ${n}: delivery latency is the time on the wire`);
    }
  }
});

t.test('without a hook nothing is reported and playout is unchanged', async (t) => {
  const p = new Playout({ decoder: createDecoder('l16'), clock: new FixedOffsetClock(0), playoutDelayMs: DELAY });
  p.onSenderReport(SR_MS, 0);
  const f = new Int16Array(FRAME_SAMPLES).fill(5);
  p.push(0, 0, Buffer.from(createEncoder('l16').encode(f)), SR_MS);
  const out = new Int16Array(FRAME_SAMPLES);
  t.ok(p.render(out, SR_MS + DELAY));
  t.equal(out[0], 5);
});
