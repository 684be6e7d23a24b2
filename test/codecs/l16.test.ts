import t from 'tap';
import { decodeL16, encodeL16 } from '../../codecs/l16.js';

t.test('network byte order (RFC 3551: big-endian)', async (t) => {
  const pcm = Int16Array.from([0x0102, -2, 32767, -32768, 0]);
  const out = Buffer.alloc(10);
  t.equal(encodeL16(pcm, out), 10);
  t.same([...out], [0x01, 0x02, 0xff, 0xfe, 0x7f, 0xff, 0x80, 0x00, 0x00, 0x00]);
  // Cross-check against Node's own big-endian reader.
  for (let i = 0; i < pcm.length; i++) t.equal(out.readInt16BE(i * 2), pcm[i]);
});

t.test('round trip of every int16 value', async (t) => {
  const pcm = new Int16Array(65536);
  for (let i = 0; i < pcm.length; i++) pcm[i] = i - 32768;
  const bytes = Buffer.alloc(pcm.length * 2);
  encodeL16(pcm, bytes);
  const back = new Int16Array(pcm.length);
  t.equal(decodeL16(bytes, back), pcm.length);
  let wrong = 0;
  for (let i = 0; i < pcm.length; i++) if (back[i] !== pcm[i]) wrong++;
  t.equal(wrong, 0);
});

t.test('odd trailing byte ignored, small outputs refused', async (t) => {
  const out = new Int16Array(2);
  t.equal(decodeL16(Buffer.from([0x12, 0x34, 0x56]), out), 1);
  t.equal(out[0], 0x1234);
  t.throws(() => encodeL16(new Int16Array(4), Buffer.alloc(7)), RangeError);
  t.throws(() => decodeL16(Buffer.alloc(8), new Int16Array(3)), RangeError);
});
