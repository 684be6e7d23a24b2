import t from 'tap';
import { SimulatedTime } from '../../codecs/frame-clock.js';
import { FrameCycle } from '../../endpoint/frame-cycle.js';

t.test('one timer drives every subscriber at nominal 20 ms ticks, without drift', async (t) => {
  const time = new SimulatedTime(1000);
  const cycle = new FrameCycle({ time });
  const a: number[] = [];
  const b: number[] = [];
  const offA = cycle.subscribe((ms) => a.push(ms));
  cycle.subscribe((ms) => b.push(ms));
  t.equal(cycle.subscriberCount, 2);
  time.advance(20 * 100 + 3.7, 3.7); // every wake-up 3.7 ms late
  t.equal(a.length, 100, 'one tick per 20 ms despite late wake-ups');
  t.same(a, b, 'both agents see the same ticks');
  t.ok(a.every((ms, i) => ms === 1020 + 20 * i), 'nominal times, no accumulated lateness');
  t.equal(time.pendingTimers, 1, 'a single timer for both');
  offA();
  time.advance(20 * 10, 3.7);
  t.equal(a.length, 100, 'unsubscribed');
  t.equal(b.length, 110);
});

t.test('a late wake-up delivers every due tick; a long stall skips and counts', async (t) => {
  const time = new SimulatedTime(1000);
  const cycle = new FrameCycle({ time, maxCatchUp: 10 });
  const ticks: number[] = [];
  const indices: number[] = [];
  const off = cycle.subscribe((ms, i) => {
    ticks.push(ms);
    indices.push(i);
  });
  time.stall(20 * 5 + 1); // first wake 81 ms late: 5 ticks due
  t.same(ticks, [1020, 1040, 1060, 1080, 1100]);
  time.stall(20 * 30); // stalled 600 ms
  t.ok(cycle.skippedTicks > 0, `skipped ${cycle.skippedTicks}`);
  t.ok(ticks.length - 5 <= 10, 'at most maxCatchUp ticks in a burst');
  t.equal(indices[5] - indices[4] - 1, cycle.skippedTicks, 'the skip shows as a gap in tick indices');
  t.ok(ticks.every((ms, k) => ms === cycle.tickTime(indices[k])), 'tick times follow their indices');
  off();
  t.equal(time.pendingTimers, 0, 'no subscriber, no timer');
});

t.test('a throwing subscriber does not stop the others', async (t) => {
  const time = new SimulatedTime(1000);
  const cycle = new FrameCycle({ time });
  let n = 0;
  cycle.subscribe(() => {
    throw new Error('boom');
  });
  cycle.subscribe(() => n++);
  time.advance(20 * 10);
  t.equal(n, 10);
  t.equal(cycle.listenerErrors, 10);
});
