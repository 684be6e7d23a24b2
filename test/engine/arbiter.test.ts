import t from 'tap';
import { FRAME_SAMPLES, newFrame } from '../../codecs/pcm.js';
import { PRIORITY } from '../../domain/priority.js';
import type { SourceSpec } from '../../engine/protocol.js';
import { buildSource } from '../../engine/sources/build.js';
import { FADE_SAMPLES } from '../../engine/zone-bus.js';
import { harness, maxStep } from './helpers.js';

const A: SourceSpec = { kind: 'tone', freqHz: 437, amplitude: 0.6 };
const B: SourceSpec = { kind: 'tone', freqHz: 1200, amplitude: 0.3 };

/** Frames of an uninterrupted rendering. */
function render(spec: SourceSpec, count: number): Int16Array[] {
  const s = buildSource(spec);
  return Array.from({ length: count }, () => {
    const f = newFrame();
    s.pull(f);
    return f;
  });
}

function sameFrame(a: Int16Array, b: Int16Array, from = 0): boolean {
  for (let i = from; i < FRAME_SAMPLES; i++) if (a[i] !== b[i]) return false;
  return true;
}

t.test('preempted in one child zone only: resumes there at the sample where it stopped; the sibling never stops', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v1');
  h.tap('v2');
  h.plane.handle({ type: 'play', programmeId: 'A', zones: ['c1'], priority: PRIORITY.normal, source: A });
  h.frames(10);
  h.plane.handle({ type: 'play', programmeId: 'B', zones: ['v1'], priority: PRIORITY.emergency, source: { ...B, durationMs: 200 } });
  h.frames(30);
  const v1 = h.heard.get('v1')!;
  const v2 = h.heard.get('v2')!;
  const ref = render(A, 60);
  const bRef = render(B, 10);
  const f0 = h.zoneEvents('A', 'v1')[0].frame;
  const pre = h.zoneEvents('A', 'v1').find((e) => e.state === 'preempted')!;
  const res = h.zoneEvents('A', 'v1').find((e) => e.state === 'resumed')!;
  t.equal(pre.by, 'B');
  t.equal(res.frame - pre.frame, 10, 'B aired 200 ms');
  t.equal(pre.positionMs, (pre.frame - f0) * 20, 'preempted at the media position reached');
  t.equal(res.positionMs, pre.positionMs, 'resumed at the same media position');
  const fadeAt = (n: number, ...at: number[]): number => (at.includes(n) ? FADE_SAMPLES : 0);
  t.ok([...v2].every(([n, f]) => sameFrame(f, ref[n - f0], fadeAt(n, f0))), 'sibling zone: programme A sample-exact, never interrupted');
  let ok = true;
  for (const [n, f] of v1) {
    const want = n < pre.frame ? ref[n - f0] : n < res.frame ? bRef[n - pre.frame] : ref[n - f0 - (res.frame - pre.frame)];
    if (!sameFrame(f, want, fadeAt(n, f0, pre.frame, res.frame))) ok = false;
  }
  t.ok(ok, 'v1: A, then B, then A again from the exact sample where it stopped');
  t.ok(v1.size > res.frame - f0 + 5, 'enough audio after the resume');
  t.same(h.zoneEvents('A', 'v2').map((e) => e.state), ['on-air'], 'nothing happens to A in v2');
  t.same(h.zoneEvents('B').map((e) => e.state), ['on-air', 'ended']);
  t.equal(h.zoneEvents('B').at(-1)!.reason, 'completed');
  t.equal(h.plane.arbiter.programmes.get('A')!.lanes.length, 2, 'v1 got its own read-head');
});

t.test('equal priority: the programme on air keeps it; the waiting one follows', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v1');
  h.plane.handle({ type: 'play', programmeId: 'first', zones: ['v1'], priority: PRIORITY.priority, source: { ...A, durationMs: 100 } });
  h.frames(2);
  h.plane.handle({ type: 'play', programmeId: 'second', zones: ['d'], priority: PRIORITY.priority, source: { ...B, durationMs: 100 } });
  h.frames(12);
  t.same(
    h.zoneEvents(undefined, 'v1').map((e) => `${e.programmeId}:${e.state}`),
    ['first:on-air', 'first:ended', 'second:on-air', 'second:ended'],
  );
  const firstEnd = h.zoneEvents('first', 'v1')[1];
  const secondOn = h.zoneEvents('second', 'v1')[0];
  t.equal(secondOn.frame, firstEnd.frame, 'the next one fills the frame where the first ended');
  t.equal(secondOn.positionMs, 0, 'the waiting programme starts from its beginning');
});

t.test('emergency level: newest wins between equals (a stuck microphone cannot block an alert)', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v3');
  h.plane.handle({ type: 'play', programmeId: 'stuck', zones: ['d'], priority: PRIORITY.emergency, source: A });
  h.frames(3);
  h.plane.handle({ type: 'play', programmeId: 'alert', zones: ['c2'], priority: PRIORITY.emergency, source: { ...B, durationMs: 60 } });
  h.frames(6);
  t.same(
    h.zoneEvents(undefined, 'v3').map((e) => `${e.programmeId}:${e.state}`),
    ['stuck:on-air', 'stuck:preempted', 'alert:on-air', 'alert:ended', 'stuck:resumed'],
  );
});

t.test('maxDurationMs ends a programme by itself; the zone falls back; stop ends with reason stopped', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v2');
  h.plane.handle({ type: 'play', programmeId: 'bg', zones: ['d'], priority: PRIORITY.background, source: A });
  h.plane.handle({ type: 'play', programmeId: 'mic', zones: ['c1'], priority: PRIORITY.live, source: B, maxDurationMs: 100 });
  h.frames(10);
  const micEnd = h.events.find((e) => e.type === 'programmeEnded' && e.programmeId === 'mic');
  t.match(micEnd, { reason: 'max-duration' });
  const on = h.zoneEvents('mic', 'v2')[0];
  const off = h.zoneEvents('mic', 'v2').find((e) => e.state === 'ended')!;
  t.equal(off.frame - on.frame, 5, '100 ms = 5 frames');
  t.same(h.zoneEvents('bg', 'v2').map((e) => e.frame), [off.frame], 'background airs from the frame the live ended');
  h.plane.handle({ type: 'stop', programmeId: 'bg' });
  h.frames(3);
  t.match(h.events.find((e) => e.type === 'programmeEnded' && e.programmeId === 'bg'), { reason: 'stopped' });
  t.equal(h.plane.clock.running, false, 'nothing on air: the clock stops');
  t.equal(h.plane.arbiter.buses.size, 1, 'only the tapped zone keeps a bus');
});

t.test('ancestor targeting reaches every leaf below; other branches stay silent', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.plane.handle({ type: 'play', programmeId: 'c2only', zones: ['c2'], priority: PRIORITY.normal, source: A });
  h.plane.handle({ type: 'play', programmeId: 'all', zones: ['d'], priority: PRIORITY.normal, source: B });
  h.frames(2);
  t.same(new Set(h.zoneEvents('all').map((e) => e.zoneId)), new Set(['v1', 'v2']), 'all: v1, v2 (v3 is taken by the older equal)');
  t.same(h.zoneEvents('c2only').map((e) => e.zoneId), ['v3']);
  t.same([...h.plane.arbiter.buses.keys()].sort(), ['v1', 'v2', 'v3'], 'buses for covered leaves only');
});

t.test('switches are click-free: no sample step at a switch beyond the signals own', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v1');
  const low: SourceSpec = { kind: 'tone', freqHz: 190, amplitude: 0.9 };
  h.plane.handle({ type: 'play', programmeId: 'low', zones: ['v1'], priority: PRIORITY.normal, source: low });
  h.frames(3);
  // Find a frame that ends far from zero, then start the alert exactly after it (startAt).
  const heard = h.heard.get('v1')!;
  let k = Math.max(...heard.keys());
  const ref = render(low, 200);
  const first = Math.min(...heard.keys());
  while (Math.abs(ref[k + 2 - first][FRAME_SAMPLES - 1]) < 20000) k++;
  const switchFrame = k + 3;
  h.plane.handle({
    type: 'play',
    programmeId: 'alert',
    zones: ['d'],
    priority: PRIORITY.emergency,
    source: { kind: 'siren', lowHz: 300, highHz: 700, periodMs: 1000, amplitude: 0.9, durationMs: 200 },
    startAt: h.plane.clock.frameWallMs(switchFrame),
  });
  h.frames(switchFrame - k + 20);
  const n0 = Math.min(...heard.keys());
  const all = new Int16Array((Math.max(...heard.keys()) - n0 + 1) * FRAME_SAMPLES);
  for (const [n, f] of heard) all.set(f, (n - n0) * FRAME_SAMPLES);
  const on = h.zoneEvents('alert', 'v1')[0];
  t.equal(on.frame, switchFrame, 'startAt: on air on the frame due at that wall-clock time');
  const at = (switchFrame - n0) * FRAME_SAMPLES;
  t.ok(Math.abs(all[at - 1]) > 20000, 'the switch happens where a hard cut would click');
  const natural = 0.9 * 32767 * 2 * Math.PI * (700 / 48000);
  t.ok(maxStep(all.subarray(at - 10, at + 2 * FRAME_SAMPLES)) < natural, `no step above ${natural.toFixed(0)} at the preemption`);
  const back = h.zoneEvents('low', 'v1').find((e) => e.state === 'resumed')!;
  const at2 = (back.frame - n0) * FRAME_SAMPLES;
  t.ok(maxStep(all.subarray(at2 - 10, at2 + FRAME_SAMPLES)) < natural, 'no step at the resume either');
  h.plane.handle({ type: 'stop', programmeId: 'low' });
  h.frames(2);
  const last = Math.max(...heard.keys());
  const tail = heard.get(last)!;
  const before = heard.get(last - 1)!;
  t.ok(Math.abs(before[FRAME_SAMPLES - 1]) > 1000, 'it was loud before the stop');
  t.ok(maxStep(Int16Array.from([before[FRAME_SAMPLES - 1], ...tail])) < natural, 'going off air fades out');
  t.equal(tail[FRAME_SAMPLES - 1], 0, 'and ends in silence');
});

t.test('a failing source ends its programme with a reason; the zone falls back', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v1');
  h.plane.handle({ type: 'play', programmeId: 'bg', zones: ['v1'], priority: PRIORITY.background, source: A });
  h.plane.handle({ type: 'play', programmeId: 'broken', zones: ['v1'], priority: PRIORITY.normal, source: { kind: 'file', path: '/nonexistent/x.wav' } });
  for (let i = 0; i < 200 && !h.events.some((e) => e.type === 'programmeEnded'); i++) {
    h.frames(1);
    await new Promise((r) => setTimeout(r, 10));
  }
  const ended = h.events.find((e) => e.type === 'programmeEnded');
  t.match(ended, { programmeId: 'broken', reason: 'error' });
  t.ok(ended && 'message' in ended && ended.message, 'with a message');
  h.frames(2);
  t.equal(h.plane.arbiter.buses.get('v1')!.onAir, 'bg', 'the background programme airs');
});

t.test('a live source keeps running unheard while preempted; a file-like one pauses', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v1');
  let livePulls = 0;
  const live = {
    kind: 'live-test',
    live: true,
    error: undefined,
    ready: true,
    get positionMs() {
      return livePulls * 20;
    },
    prepare() {},
    pull(f: Int16Array) {
      livePulls++;
      f.fill(1000);
      return 'audio' as const;
    },
    fork() {
      return this;
    },
    close() {},
  };
  h.plane.arbiter.add({ id: 'mic', priority: PRIORITY.live, targets: ['v1'], source: live, createdFrame: h.plane.clock.upcomingFrame() });
  h.plane.handle({ type: 'play', programmeId: 'alert', zones: ['v1'], priority: PRIORITY.emergency, source: { ...B, durationMs: 100 } });
  h.frames(4);
  t.equal(h.plane.arbiter.buses.get('v1')!.onAir, 'alert');
  const during = livePulls;
  h.frames(2);
  t.equal(livePulls, during + 2, 'pulled every frame although its only zone hears the alert');
  h.plane.handle({ type: 'stop', programmeId: 'mic' });
  h.plane.handle({ type: 'play', programmeId: 'loop', zones: ['c1'], priority: PRIORITY.live, source: A });
  h.plane.handle({ type: 'play', programmeId: 'alert2', zones: ['c1'], priority: PRIORITY.emergency, source: { ...B, durationMs: 100 } });
  h.frames(3);
  const loop = h.plane.arbiter.programmes.get('loop')!;
  const pos = loop.source.positionMs;
  h.frames(2);
  t.equal(loop.source.positionMs, pos, 'a non-live source is not pulled while nobody hears it');
});
