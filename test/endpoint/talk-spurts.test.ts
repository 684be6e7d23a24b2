// Which talk-spurt a packet belongs to after a gap on the wire: a real quiet spell whose marker
// was lost starts a new spurt; a stall (packets held back, timestamps barely moved on) does not.
import t from 'tap';
import { TalkSpurts } from '../../endpoint/talk-spurts.js';

const RATE = 8000; // PCMU
const TICKS = 160; // 20 ms

function stream() {
  const spurts = new TalkSpurts(RATE);
  const serverEpoch = 1_763_900_000_000;
  // The first packet, then its sender report puts the stream on the server axis.
  const first = spurts.spurtOf(1000, 5000, true, 0, serverEpoch, 5);
  spurts.onSenderReport(serverEpoch - 5, 5000);
  for (let k = 1; k < 50; k++) spurts.spurtOf(1000 + k, 5000 + k * TICKS, false, k * 20, serverEpoch + k * 20, 5);
  return { spurts, first, serverEpoch };
}

t.test('a stall of 1.5 s: the packets held back stay in their spurt, at their place', async (t) => {
  const { spurts, first, serverEpoch } = stream();
  const at = 49 * 20 + 1500;
  const s = spurts.spurtOf(1050, 5000 + 50 * TICKS, false, at, serverEpoch + at, 5);
  t.equal(s, first, 'same spurt');
  t.equal(spurts.started, 1, 'no new spurt started');
  t.equal(s.positionOf(s.extOf(5000 + 50 * TICKS)), first.positionOf(50 * TICKS), 'placed by its timestamp, not by its late arrival');
});

t.test('a quiet spell of 5 s whose marker packet was lost: a new spurt', async (t) => {
  const { spurts, first, serverEpoch } = stream();
  const at = 49 * 20 + 5000;
  const s = spurts.spurtOf(1050, 5000 + 50 * TICKS + 5 * RATE, false, at, serverEpoch + at, 5);
  t.not(s, first, 'a new spurt');
  t.equal(spurts.started, 2);
});
