import t from 'tap';
import { JitterBuffer, type JitterBufferOptions, type PlayoutResult, type PushResult } from '../../../protocols/rtp/jitter-buffer.js';
import { seededRandom } from '../../../bench/udp-relay.js';

// Sequence numbers start just below the 16-bit wrap, so every scenario crosses it.
const FIRST = 65520;
const wire = (s: number) => (FIRST + s) & 0xffff;
const index = (seq: number) => (seq - FIRST) & 0xffff;

interface Arrival {
  s: number;
  at: number;
}

/** Frames sent every 20 ms arrive at 20 s unless the pattern says otherwise. */
function impairedArrivals(): Arrival[] {
  const out: Arrival[] = [];
  for (let s = 0; s <= 70; s++) {
    if (s === 10) continue; // lost in the network
    let at = s * 20;
    if (s === 5) at = 130; // overtaken by 6 (120)
    if (s === 20) at = 460; // 60 ms late: after its slot
    if (s >= 30 && s <= 39) at = 800; // a 200 ms stall, then a burst
    out.push({ s, at });
    if (s === 15) out.push({ s, at: 305 }); // duplicate while buffered
    if (s === 16) out.push({ s, at: 400 }); // duplicate after it was played
  }
  return out;
}

type Outcome = string; // 'f<s>' frame, 'l<s>' lost, 'e' empty

/** Runs events in time order (arrivals before slots at equal times). */
function simulate(
  jb: JitterBuffer<string>,
  arrivals: Arrival[],
  slots: { at: number; play: () => PlayoutResult<string> }[],
  pushed: Map<string, PushResult> = new Map(),
): Outcome[] {
  const events = [
    ...arrivals.map((a) => ({ at: a.at, order: 0, run: () => void pushed.set(`${a.s}@${a.at}`, jb.push(wire(a.s), a.s * 960, `p${a.s}`, a.at)) })),
    ...slots.map((p) => ({ at: p.at, order: 1, run: () => void outcomes.push(describe(p.play())) })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  const outcomes: Outcome[] = [];
  for (const e of events) e.run();
  return outcomes;
}

function describe(r: PlayoutResult<string>): Outcome {
  if (r.kind === 'frame') {
    if (r.payload !== `p${index(r.seq)}` || r.timestamp !== index(r.seq) * 960) throw new Error(`payload/timestamp mismatch for ${r.seq}`);
    return `f${index(r.seq)}`;
  }
  return r.kind === 'lost' ? `l${index(r.seq)}` : 'e';
}

const fixed: JitterBufferOptions = { targetDelayMs: 60, minDelayMs: 40, maxDelayMs: 400, capacityFrames: 64, adaptive: false, adaptEveryFrames: 1e9 };

t.test('pop(): reorder, loss, duplicates, a late frame and a 200 ms stall', (t) => {
  const jb = new JitterBuffer<string>(fixed);
  const pushed = new Map<string, PushResult>();
  const slots = Array.from({ length: 70 }, (_, k) => ({ at: 20 * k + 10, play: () => jb.pop() }));
  const got = simulate(jb, impairedArrivals(), slots, pushed);

  // Playout starts once 60 ms are queued (slot 2 plays frame 0); after the stall it
  // rebuffers and plays on from 30 without dropping the burst.
  const expected: Outcome[] = ['e', 'e'];
  for (let s = 0; s <= 29; s++) expected.push(s === 10 || s === 20 ? `l${s}` : `f${s}`);
  for (let k = 32; k <= 39; k++) expected.push('e');
  for (let s = 30; s <= 59; s++) expected.push(`f${s}`);
  t.same(got, expected);

  t.equal(pushed.get('5@130'), 'ok');
  t.equal(pushed.get('15@305'), 'duplicate');
  t.equal(pushed.get('16@400'), 'duplicate');
  t.equal(pushed.get('20@460'), 'late');
  t.equal(pushed.get('30@800'), 'ok');
  const st = jb.stats();
  t.match(st, { received: 69, duplicates: 2, late: 1, tooEarly: 0, lost: 2, reordered: 1, concealed: 10, underruns: 1, skipped: 0, stretched: 0, resyncs: 0 });
  // The stall added 160 ms: 11 frames queued (60..70) after playing 59.
  t.equal(st.bufferDelayMs, 220);
  t.equal(st.targetDelayMs, 60);
  t.end();
});

t.test('take(seq): wall-clock playout of the same pattern', (t) => {
  const jb = new JitterBuffer<string>(fixed);
  const pushed = new Map<string, PushResult>();
  // The agent plays frame s at its sender time + 50 ms.
  const slots = Array.from({ length: 60 }, (_, s) => ({ at: 20 * s + 50, play: () => jb.take(wire(s)) }));
  const got = simulate(jb, impairedArrivals(), slots, pushed);
  const expected: Outcome[] = [];
  for (let s = 0; s < 60; s++) {
    if (s === 10 || s === 20) expected.push(`l${s}`);
    else if (s >= 30 && s <= 37) expected.push('e'); // the stall: nothing buffered at all
    else expected.push(`f${s}`);
  }
  t.same(got, expected);
  for (let s = 30; s <= 37; s++) t.equal(pushed.get(`${s}@800`), 'late', `${s} came after its slot`);
  t.equal(pushed.get('38@800'), 'ok');
  t.equal(pushed.get('16@400'), 'duplicate');
  t.match(jb.stats(), { received: 61, duplicates: 2, late: 9, lost: 2, reordered: 1, concealed: 10, underruns: 1, skipped: 0, stretched: 0 });
  t.end();
});

t.test('has() and take() skipping ahead', (t) => {
  const jb = new JitterBuffer<string>(fixed);
  t.equal(jb.has(wire(0)), false);
  t.same(jb.take(wire(0)), { kind: 'empty' });
  for (const s of [0, 1, 2, 4]) jb.push(wire(s), s * 960, `p${s}`, s * 20);
  t.equal(jb.has(wire(1)), true);
  t.equal(jb.has(wire(3)), false);
  t.equal(describe(jb.take(wire(1))), 'f1');
  t.equal(jb.has(wire(0)), false, 'passed over');
  t.equal(jb.has(wire(1)), false, 'played');
  t.equal(describe(jb.take(wire(3))), 'l3');
  t.equal(describe(jb.take(wire(1))), 'l1', 'going back changes nothing');
  t.equal(describe(jb.take(wire(4))), 'f4');
  t.match(jb.stats(), { skipped: 2, lost: 1 });
  t.end();
});

t.test('capacity, hostile sequence numbers and a sender restart', (t) => {
  const jb = new JitterBuffer<string>({ ...fixed, targetDelayMs: 40, capacityFrames: 32 });
  const outcomes: Outcome[] = [];
  for (let s = 0; s < 10; s++) {
    t.equal(jb.push(wire(s), s * 960, `p${s}`, s * 20), 'ok');
    outcomes.push(describe(jb.pop()));
  }
  // Playing 9 next, so the ring (32 frames) reaches up to 40.
  t.equal(jb.push(wire(41), 0, 'x', 195), 'too-early', 'beyond capacity');
  t.equal(jb.push(wire(9 - 20000), 0, 'x', 196), 'late', 'far behind');
  t.equal(jb.push(wire(10), 10 * 960, 'p10', 200), 'ok', 'the stream goes on');
  outcomes.push(describe(jb.pop()));
  // The sender restarts at another sequence number: believed on the second packet.
  t.equal(jb.push(wire(5000), 5000 * 960, 'p5000', 220), 'too-early');
  t.equal(jb.push(wire(5001), 5001 * 960, 'p5001', 240), 'resync');
  outcomes.push(describe(jb.pop()));
  for (let s = 5002; s < 5006; s++) {
    t.equal(jb.push(wire(s), s * 960, `p${s}`, (s - 4990) * 20), 'ok');
    outcomes.push(describe(jb.pop()));
  }
  t.same(outcomes, ['e', 'f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9', 'e', 'f5001', 'f5002', 'f5003', 'f5004']);
  t.match(jb.stats(), { tooEarly: 2, late: 1, resyncs: 1 });
  t.end();
});

/**
 * 4 s clean, 6 s with 0-120 ms of uniform extra delay, 12 s clean again;
 * one pop per 20 ms. Returns the stats sampled at the end of each phase and
 * the outcomes per phase.
 */
function adaptiveRun(adaptive: boolean) {
  const jb = new JitterBuffer<number>({
    targetDelayMs: 60,
    minDelayMs: 40,
    maxDelayMs: 300,
    capacityFrames: 64,
    adaptive,
    jitterWindowPackets: 100,
    jitterPercentile: 0.95,
    adaptEveryFrames: 25,
  });
  const rand = seededRandom(4242);
  const total = 1100;
  const arrivals: { s: number; at: number }[] = [];
  for (let s = 0; s < total; s++) {
    const jittery = s >= 200 && s < 500;
    arrivals.push({ s, at: s * 20 + 5 + (jittery ? rand() * 120 : 0) });
  }
  arrivals.sort((a, b) => a.at - b.at);
  const samples: Record<string, ReturnType<typeof jb.stats>> = {};
  const lostIn = { calm: 0, jitterLate: 0, after: 0 };
  const delays: number[] = [];
  let next = 0;
  for (let k = 0; k < total; k++) {
    const now = k * 20 + 10;
    while (next < arrivals.length && arrivals[next].at <= now) {
      const a = arrivals[next++];
      jb.push(a.s & 0xffff, a.s * 960, a.s, a.at);
    }
    delays.push(jb.stats().bufferDelayMs);
    const r = jb.pop();
    if (r.kind === 'lost') {
      if (k < 200) lostIn.calm++;
      else if (k >= 350 && k < 500) lostIn.jitterLate++;
      else if (k >= 900) lostIn.after++;
    }
    if (k === 199) samples.calm = jb.stats();
    if (k === 499) samples.jitter = jb.stats();
    if (k === total - 1) samples.end = jb.stats();
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return { samples, lostIn, meanDelay: { calm: mean(delays.slice(100, 200)), jitter: mean(delays.slice(400, 500)), end: mean(delays.slice(1000)) } };
}

t.test('the adaptive target follows jitter up and back down', (t) => {
  const a = adaptiveRun(true);
  t.equal(a.samples.calm.targetDelayMs, 40, 'no jitter: the minimum');
  // 95th percentile of 0-120 ms is 114 ms → 6 frames, plus one frame of phase margin.
  t.equal(a.samples.jitter.targetDelayMs, 140, 'target grew with the jitter');
  t.ok(a.samples.jitter.jitterMs > 20, `jitter measured ${a.samples.jitter.jitterMs.toFixed(1)} ms`);
  t.equal(a.samples.end.targetDelayMs, 40, 'back to the minimum');
  t.ok(a.meanDelay.calm <= 60, `calm queue ${a.meanDelay.calm} ms`);
  t.ok(a.meanDelay.jitter >= 100, `queue grew to ${a.meanDelay.jitter} ms`);
  t.ok(a.meanDelay.end <= 60, `queue shrank back to ${a.meanDelay.end} ms`);
  t.equal(a.lostIn.calm, 0);
  t.equal(a.lostIn.jitterLate, 0, 'settled during the jitter: nothing lost');
  t.ok(a.samples.jitter.underruns <= 3, `underruns ${a.samples.jitter.underruns}`);
  t.equal(a.lostIn.after, 0, 'no concealment once calm again');
  t.ok(a.samples.end.stretched > 0, 'grew by stretching');
  t.ok(a.samples.end.skipped > 0, 'shrank by skipping');

  // A fixed target stays put; its queue still returns near it once calm.
  const f = adaptiveRun(false);
  t.equal(f.samples.jitter.targetDelayMs, 60);
  t.equal(f.samples.end.stretched, 0);
  t.ok(f.meanDelay.end <= 80, `fixed queue back to ${f.meanDelay.end} ms`);
  t.end();
});

t.test('constructor refuses inconsistent options', (t) => {
  t.throws(() => new JitterBuffer({ ...fixed, targetDelayMs: 20 }), RangeError);
  t.throws(() => new JitterBuffer({ ...fixed, capacityFrames: 10 }), RangeError);
  t.throws(() => new JitterBuffer({ ...fixed, capacityFrames: 1, maxDelayMs: 20, targetDelayMs: 20, minDelayMs: 20 }), RangeError);
  t.end();
});
