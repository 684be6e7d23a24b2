import t from 'tap';
import {
  alawToLinear,
  decodeAlaw,
  decodeMulaw,
  encodeAlaw,
  encodeMulaw,
  linearToAlaw,
  linearToMulaw,
  mulawToLinear,
} from '../../codecs/g711.js';

// Expected values come from the segment tables of ITU-T G.711, not from the code under test.
// μ-law, Table 2a: decoder outputs on the ±8159 scale; segment s starts at FIRST[s] and moves in STEP[s].
// The transmitted byte for (segment s, interval q) is 0xFF − (16s + q) when positive, 0x7F − (16s + q) when negative.
const MU_FIRST = [0, 33, 99, 231, 495, 1023, 2079, 4191];
const MU_STEP = [2, 4, 8, 16, 32, 64, 128, 256];
const MU_SCALE = 4; // 8159 scale → int16
// A-law, Table 1a: decoder outputs on the ±4096 scale.
// The transmitted byte is (sign·0x80 | 16s | q) XOR 0x55 (even bits inverted), sign 1 = positive.
const A_FIRST = [1, 33, 66, 132, 264, 528, 1056, 2112];
const A_STEP = [2, 2, 4, 8, 16, 32, 64, 128];
const A_SCALE = 8; // 4096 scale → int16

interface Point {
  code: number;
  value: number; // decoder output, int16
  decision: number; // lower decision value of this interval, int16 (encoder threshold)
}

function table(first: number[], step: number[], scale: number, code: (positive: boolean, s: number, q: number) => number): Point[] {
  const points: Point[] = [];
  let prevValue = -1;
  let prevHalfStep = 0;
  for (let s = 0; s < 8; s++) {
    for (let q = 0; q < 16; q++) {
      const y = first[s] + q * step[s];
      // Decision value between two outputs: the lower output plus half of its own step.
      const decision = prevValue < 0 ? 0 : prevValue + prevHalfStep;
      points.push({ code: code(true, s, q), value: y * scale, decision: decision * scale });
      points.push({ code: code(false, s, q), value: -y * scale, decision: -decision * scale });
      prevValue = y;
      prevHalfStep = step[s] / 2;
    }
  }
  return points;
}

const MU = table(MU_FIRST, MU_STEP, MU_SCALE, (pos, s, q) => (pos ? 0xff : 0x7f) - (16 * s + q));
const A = table(A_FIRST, A_STEP, A_SCALE, (pos, s, q) => ((pos ? 0x80 : 0) | (16 * s + q)) ^ 0x55);

t.test('μ-law known code points', async (t) => {
  t.equal(mulawToLinear(0xff), 0, '0xFF is +0');
  t.equal(mulawToLinear(0x7f), 0, '0x7F is −0');
  t.equal(mulawToLinear(0x80), 32124, '0x80 is the largest positive');
  t.equal(mulawToLinear(0x00), -32124, '0x00 is the largest negative');
  t.equal(linearToMulaw(0), 0xff);
  t.equal(linearToMulaw(32767), 0x80, 'positive overload clips to 0x80');
  t.equal(linearToMulaw(-32768), 0x00, 'negative overload clips to 0x00');
});

t.test('A-law known code points', async (t) => {
  t.equal(alawToLinear(0xd5), 8);
  t.equal(alawToLinear(0x55), -8);
  t.equal(alawToLinear(0xaa), 32256);
  t.equal(alawToLinear(0x2a), -32256);
  t.equal(linearToAlaw(0), 0xd5, 'zero falls in the first positive interval');
  t.equal(linearToAlaw(32767), 0xaa);
  t.equal(linearToAlaw(-32768), 0x2a);
});

t.test('decoding matches the G.711 tables for all 256 codes', async (t) => {
  for (const [name, points, decode] of [
    ['μ-law', MU, mulawToLinear],
    ['A-law', A, alawToLinear],
  ] as const) {
    const seen = new Set<number>();
    let wrong = 0;
    for (const p of points) {
      seen.add(p.code);
      if (decode(p.code) !== p.value) {
        wrong++;
        t.fail(`${name} 0x${p.code.toString(16)} decodes to ${decode(p.code)}, table says ${p.value}`);
      }
    }
    t.equal(seen.size, 256, `${name} table covers 256 codes`);
    t.equal(wrong, 0, `${name}: every code decodes to its table value`);
  }
});

t.test('encoding respects the decision values of the tables', async (t) => {
  for (const [name, points, encode] of [
    ['μ-law', MU, linearToMulaw],
    ['A-law', A, linearToAlaw],
  ] as const) {
    let wrong = 0;
    for (const p of points) {
      if (p.decision === 0) continue; // the intervals that contain zero
      // At the decision value the encoder must pick this interval; one step nearer zero, the previous one.
      const inside = encode(p.decision);
      const below = encode(p.decision > 0 ? p.decision - 1 : p.decision + 1);
      if (inside !== p.code) wrong++;
      if (below === p.code) wrong++;
      // The decoder output value itself encodes back to the same code.
      if (encode(p.value) !== p.code) wrong++;
    }
    t.equal(wrong, 0, `${name}: thresholds and outputs as in the table`);
  }
});

t.test('exhaustive round trip decode → encode', async (t) => {
  for (let c = 0; c < 256; c++) {
    if (alawToLinear(c) !== alawToLinear(linearToAlaw(alawToLinear(c))) || linearToAlaw(alawToLinear(c)) !== c) {
      t.fail(`A-law 0x${c.toString(16)} does not round-trip`);
    }
  }
  t.pass('A-law: all 256 codes round-trip');
  for (let c = 0; c < 256; c++) {
    // μ-law has two zeros; −0 (0x7F) is decoded as 0 and comes back as +0 (0xFF).
    const expected = c === 0x7f ? 0xff : c;
    if (linearToMulaw(mulawToLinear(c)) !== expected) t.fail(`μ-law 0x${c.toString(16)} does not round-trip`);
  }
  t.pass('μ-law: all 255 non-zero-duplicate codes round-trip, −0 maps to +0');
});

t.test('buffer functions agree with the per-sample ones', async (t) => {
  const pcm = new Int16Array(65536);
  for (let i = 0; i < pcm.length; i++) pcm[i] = i - 32768;
  const mu = Buffer.alloc(pcm.length);
  const al = Buffer.alloc(pcm.length);
  t.equal(encodeMulaw(pcm, mu), pcm.length);
  t.equal(encodeAlaw(pcm, al), pcm.length);
  let wrong = 0;
  for (let i = 0; i < pcm.length; i++) {
    if (mu[i] !== linearToMulaw(pcm[i]) || al[i] !== linearToAlaw(pcm[i])) wrong++;
  }
  t.equal(wrong, 0, 'encoders');
  const codes = Buffer.alloc(256);
  for (let c = 0; c < 256; c++) codes[c] = c;
  const out = new Int16Array(256);
  decodeMulaw(codes, out);
  t.same(Array.from(out), Array.from(codes, mulawToLinear), 'μ-law decoder');
  decodeAlaw(codes, out);
  t.same(Array.from(out), Array.from(codes, alawToLinear), 'A-law decoder');
  t.throws(() => encodeMulaw(new Int16Array(10), Buffer.alloc(9)), RangeError, 'too small output is refused');
});
