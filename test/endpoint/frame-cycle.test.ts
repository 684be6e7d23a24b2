import t from 'tap';
import { FrameCycle } from '../../endpoint/frame-cycle.js';

/** Simulated time: timers fire when the test advances the clock, possibly late. */
function simulated() {
  let now = 1000;
  let timer: { at: number; fn: () => void } | null = null;
  let armed = 0;
  return {
    now: () => now,
    setTimer: (fn: () => void, delay: number) => {
      armed++;
      timer = { at: now + delay, fn };
      return timer;
    },
    clearTimer: () => {
      timer = null;
    },
    /** Advances to `to`, waking the timer `lateBy` ms after it was due. */
    run(to: number, lateBy = 0) {
      while (timer && timer.at + lateBy <= to) {
        const tm = timer;
        timer = null;
        now = tm.at + lateBy;
        tm.fn();
      }
      now = to;
    },
    get armed() {
      return armed;
    },
    get pending() {
      return timer !== null;
    },
  };
}

t.test('one timer drives every subscriber at nominal 20 ms ticks, without drift', async (t) => {
  const sim = simulated();
  const cycle = new FrameCycle(sim);
  const a: number[] = [];
  const b: number[] = [];
  const offA = cycle.subscribe((ms) => a.push(ms));
  cycle.subscribe((ms) => b.push(ms));
  t.equal(cycle.subscriberCount, 2);
  sim.run(1000 + 20 * 100 + 3.7, 3.7); // every wake-up 3.7 ms late
  t.equal(a.length, 100, 'one tick per 20 ms despite late wake-ups');
  t.same(a, b, 'both agents see the same ticks');
  t.ok(a.every((ms, i) => ms === 1020 + 20 * i), 'nominal times, no accumulated lateness');
  t.ok(sim.armed <= 101, 'a single timer, re-armed once per tick');
  offA();
  sim.run(1000 + 20 * 110 + 3.7, 3.7);
  t.equal(a.length, 100, 'unsubscribed');
  t.equal(b.length, 110);
});

t.test('a late wake-up delivers every due tick; a long stall skips and counts', async (t) => {
  const sim = simulated();
  const cycle = new FrameCycle({ ...sim, maxCatchUp: 10 });
  const ticks: number[] = [];
  const indices: number[] = [];
  const off = cycle.subscribe((ms, i) => {
    ticks.push(ms);
    indices.push(i);
  });
  sim.run(1020 + 20 * 4 + 1, 20 * 4 + 1); // first wake 81 ms late: 5 ticks due
  t.same(ticks, [1020, 1040, 1060, 1080, 1100]);
  sim.run(1100 + 20 * 30, 20 * 29); // stalled ~600 ms
  t.ok(cycle.skippedTicks > 0, `skipped ${cycle.skippedTicks}`);
  t.ok(ticks.length - 5 <= 10 + 1, 'at most maxCatchUp ticks in a burst');
  t.equal(indices[5] - indices[4] - 1, cycle.skippedTicks, 'the skip shows as a gap in tick indices');
  t.ok(ticks.every((ms, k) => ms === 1020 + 20 * indices[k]), 'tick times follow their indices');
  off();
  t.notOk(sim.pending, 'no subscriber, no timer');
});

t.test('a throwing subscriber does not stop the others', async (t) => {
  const sim = simulated();
  const cycle = new FrameCycle(sim);
  let n = 0;
  cycle.subscribe(() => {
    throw new Error('boom');
  });
  cycle.subscribe(() => n++);
  sim.run(1000 + 20 * 10);
  t.equal(n, 10);
  t.equal(cycle.listenerErrors, 10);
});
