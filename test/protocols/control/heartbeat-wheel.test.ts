// The shared heartbeat wheel: every session visited once per interval, sessions that arrive
// together spread over the interval (a bounded number per event-loop turn), none after removal.
import t from 'tap';
import { HeartbeatWheel } from '../../../protocols/control/heartbeat-wheel.js';

/** Heartbeats per timer callback: a batch closes at the microtask checkpoint after it. */
function batches() {
  const sizes: number[] = [];
  let open = false;
  return {
    sizes,
    hit() {
      if (!open) {
        open = true;
        sizes.push(0);
        queueMicrotask(() => (open = false));
      }
      sizes[sizes.length - 1]++;
    },
  };
}

t.test('100 sessions added at once: at most ceil(100 / buckets) per turn, each once per interval', async (t) => {
  const wheel = new HeartbeatWheel(200, { buckets: 4 });
  const b = batches();
  const counts = new Array<number>(100).fill(0);
  const targets = counts.map((_, i) => ({ heartbeat: () => (counts[i]++, b.hit()) }));
  for (const x of targets) wheel.add(x);
  t.equal(wheel.size, 100);
  // Until every session was visited three times.
  while (Math.min(...counts) < 3) await new Promise((r) => setTimeout(r, 20));
  for (const x of targets) wheel.remove(x);
  t.ok(Math.max(...b.sizes) <= 25, `turns of at most 25 (got ${Math.max(...b.sizes)})`);
  t.ok(Math.max(...counts) <= 4, 'nobody visited much more often than the others');
  t.equal(wheel.size, 0);
  const before = counts.reduce((a, c) => a + c, 0);
  await new Promise((r) => setTimeout(r, 300));
  t.equal(counts.reduce((a, c) => a + c, 0), before, 'removed: no more visits');
});

t.test('one failing session does not stop the others', async (t) => {
  const wheel = new HeartbeatWheel(50, { buckets: 1 });
  let ok = 0;
  const bad = { heartbeat: () => { throw new Error('boom'); } };
  const good = { heartbeat: () => void ok++ };
  wheel.add(bad);
  wheel.add(good);
  while (ok < 2) await new Promise((r) => setTimeout(r, 10));
  wheel.remove(bad);
  wheel.remove(good);
  t.pass('the good one kept its heartbeat');
});
