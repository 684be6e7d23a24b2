import t from 'tap';
import { FrameClock, SimulatedTime, realTimeSource } from '../../codecs/frame-clock.js';

t.test('an hour of simulated time: every frame exactly once, each on its due time, no drift', (t) => {
  const time = new SimulatedTime(12_345.678);
  const seen: number[] = [];
  let maxLateness = 0;
  const clock = new FrameClock(time, (n) => {
    seen.push(n);
    maxLateness = Math.max(maxLateness, time.now() - clock.frameDue(n));
  });
  clock.start();
  const first = clock.nextFrame;
  // Timers fire 0.7 ms late every time: lateness must not accumulate.
  time.advance(3600_000, 0.7);
  t.equal(seen.length, 180_000, '3600 s / 20 ms frames');
  t.ok(seen.every((n, i) => n === first + i), 'consecutive frame numbers');
  t.ok(maxLateness < 0.7 + 1e-6, `lateness stays bounded (max ${maxLateness.toFixed(3)} ms)`);
  t.equal(clock.frameDue(first + 180_000) - clock.frameDue(first), 3600_000, 'due times are t0 + n·20 ms');
  t.equal(clock.skippedFrames, 0);
  clock.stop();
  t.equal(time.pendingTimers, 0, 'a stopped clock holds no timer');
  t.end();
});

t.test('a late wake-up produces every due frame; a long stall is bounded and counted', (t) => {
  const time = new SimulatedTime(0);
  const seen: number[] = [];
  const clock = new FrameClock(time, (n) => seen.push(n), { maxCatchUpFrames: 10 });
  clock.start();
  time.advance(100);
  t.same(seen, [0, 1, 2, 3, 4, 5]);
  seen.length = 0;
  time.stall(130); // now 230: frames 6..11 due
  t.same(seen, [6, 7, 8, 9, 10, 11], 'catch-up produces exactly the due frames');
  t.equal(clock.lateWakeups, 1);
  seen.length = 0;
  time.stall(1000); // now 1230: frames 12..61 due, only the newest 10 produced
  t.same(seen, [52, 53, 54, 55, 56, 57, 58, 59, 60, 61]);
  t.equal(clock.skippedFrames, 40, 'skipped frames counted');
  seen.length = 0;
  time.advance(40);
  t.same(seen, [62, 63], 'back on the normal cadence');
  t.end();
});

t.test('frame ↔ wall-clock mapping and sleeping until a start frame', (t) => {
  const time = new SimulatedTime(500, 1_800_000_000_000);
  const seen: number[] = [];
  const clock = new FrameClock(time, (n) => seen.push(n));
  t.equal(clock.wallT0, 1_800_000_000_500);
  t.equal(clock.frameWallMs(50), clock.wallT0 + 1000);
  t.equal(clock.frameAtWallMs(clock.wallT0 + 1000), 50);
  t.equal(clock.frameAtWallMs(clock.wallT0 + 1001), 51);
  clock.start(100);
  t.equal(time.pendingTimers, 1);
  time.advance(1990);
  t.same(seen, [], 'no wake-ups before the start frame');
  time.advance(10);
  t.same(seen, [100]);
  clock.stop();
  t.end();
});

t.test('real time: frames arrive near their due time (informational jitter)', async (t) => {
  const time = realTimeSource();
  const late: number[] = [];
  await new Promise<void>((resolve) => {
    const clock = new FrameClock(time, (n) => {
      late.push(time.now() - clock.frameDue(n));
      if (late.length === 50) {
        clock.stop();
        resolve();
      }
    });
    clock.start();
  });
  late.sort((a, b) => a - b);
  t.ok(late[0] >= 0, 'never early');
  t.comment(`lateness over 50 frames: median ${late[25].toFixed(3)} ms, p90 ${late[45].toFixed(3)} ms, max ${late[49].toFixed(3)} ms`);
});

t.test('real time: a clock behind its frames lets the event loop in between ticks (a command is not starved)', async (t) => {
  const time = realTimeSource();
  const fired: string[] = [];
  time.setTimer(time.now() - 5, () => fired.push('due timer'));
  t.same(fired, [], 'an already-due timer does not run inside setTimer');
  // A frame that takes 30 ms of work (longer than a frame): the clock stays behind.
  let messageAt = -1;
  let frames = 0;
  await new Promise<void>((resolve) => {
    const clock = new FrameClock(time, () => {
      frames++;
      const until = performance.now() + 30;
      while (performance.now() < until) {
        /* overloaded frame */
      }
      if (frames === 2) setImmediate(() => (messageAt = frames)); // what a worker message would need
      if (frames === 8) {
        clock.stop();
        resolve();
      }
    }, { maxCatchUpFrames: 10 });
    clock.start();
  });
  t.same(fired, ['due timer']);
  t.ok(messageAt > 0 && messageAt < 8, `the event loop ran while the clock was behind (after frame ${messageAt})`);
});
