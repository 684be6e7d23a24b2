import t from 'tap';
import { ExtendedSequence, seqAdd, seqDiff, seqNewer, tsAdd, tsDiff } from '../../../protocols/rtp/sequence.js';

t.test('seqDiff wraps at 16 bits', (t) => {
  t.equal(seqDiff(0, 65535), 1);
  t.equal(seqDiff(65535, 0), -1);
  t.equal(seqDiff(100, 50), 50);
  t.equal(seqDiff(50, 100), -50);
  t.equal(seqDiff(5, 65530), 11);
  t.equal(seqDiff(32767, 0), 32767);
  t.equal(seqDiff(32768, 0), -32768);
  t.equal(seqDiff(7, 7), 0);
  t.ok(seqNewer(2, 65533));
  t.notOk(seqNewer(65533, 2));
  t.equal(seqAdd(65535, 1), 0);
  t.equal(seqAdd(0, -1), 65535);
  t.end();
});

t.test('tsDiff wraps at 32 bits', (t) => {
  t.equal(tsDiff(0, 0xffffffff), 1);
  t.equal(tsDiff(0xffffffff, 0), -1);
  t.equal(tsDiff(960, 0xfffffc40), 1920);
  t.equal(tsDiff(0x80000000, 0), -0x80000000);
  t.equal(tsDiff(0x7fffffff, 0), 0x7fffffff);
  t.equal(tsAdd(0xffffff00, 0x200), 0x100);
  t.end();
});

t.test('ExtendedSequence unwraps, including reordering around the wrap', (t) => {
  const x = new ExtendedSequence();
  t.equal(x.highest, -1);
  const got = [65534, 65535, 0, 65533, 1, 65535, 2].map((s) => x.update(s));
  t.same(got, [65534, 65535, 65536, 65533, 65537, 65535, 65538]);
  t.equal(x.highest, 65538);
  t.equal(x.cycles, 1);
  t.equal(x.peek(3), 65539);
  t.equal(x.highest, 65538, 'peek does not advance');

  const y = new ExtendedSequence();
  let seq = 60000;
  for (let i = 0; i < 300000; i++) {
    const ext = y.update(seq);
    if (ext !== 60000 + i) {
      t.fail(`step ${i}: ${ext}`);
      break;
    }
    seq = (seq + 1) & 0xffff;
  }
  t.equal(y.cycles, Math.floor((60000 + 299999) / 65536));
  t.end();
});
