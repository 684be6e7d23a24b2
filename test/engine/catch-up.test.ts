/**
 * Regression: a late wake-up while a programme is on air must produce every
 * due frame. MediaPlane re-arms its clock after each frame; that re-arm once
 * jumped over overdue frames (RTP timestamps skipped, sequence numbers did not:
 * receivers heard 20–80 ms holes) without counting them.
 */
import t from 'tap';
import { harness } from './helpers.js';

t.test('a 60 ms stall on air loses no frame', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  h.tap('v1');
  h.plane.handle({ type: 'play', programmeId: 'p', zones: ['v1'], priority: 200, source: { kind: 'tone', freqHz: 1000, durationMs: 2000 } });
  h.frames(5);
  h.time.stall(60);
  h.frames(5);
  const heard = [...h.heard.get('v1')!.keys()].sort((a, b) => a - b);
  t.ok(heard.length >= 10, `frames heard: ${heard.length}`);
  const missing: number[] = [];
  for (let n = heard[0]; n <= heard[heard.length - 1]; n++) if (!h.heard.get('v1')!.has(n)) missing.push(n);
  t.same(missing, [], 'no frame number is missing between the first and the last heard');
  t.same(h.errors(), []);
});
