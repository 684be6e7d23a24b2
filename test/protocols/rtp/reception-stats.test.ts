import t from 'tap';
import { ReceptionStats } from '../../../protocols/rtp/rtcp.js';
import { msToNtp, ntpShort } from '../../../protocols/rtp/ntp.js';

// 8 kHz clock, 20 ms packets: 160 timestamp units each.
const STEP = 160;

t.test('loss: expected, cumulative and per-interval fraction (RFC 3550 A.3)', (t) => {
  const s = new ReceptionStats(8000, 0xabc);
  const dropped = new Set([10, 20, 30, 31, 32]);
  for (let i = 0; i < 100; i++) if (!dropped.has(i)) s.onPacket(1000 + i, i * STEP, i * 20);
  t.equal(s.expected, 100);
  t.equal(s.received, 95);
  t.equal(s.lost, 5);
  const first = s.reportBlock(2000);
  t.equal(first.ssrc, 0xabc);
  t.equal(first.fractionLost, Math.floor((5 * 256) / 100)); // 12
  t.equal(first.cumulativeLost, 5);
  t.equal(first.extendedHighestSeq, 1099);
  t.equal(first.lsr, 0);
  t.equal(first.dlsr, 0);

  // Next interval: 50 packets, none lost → 0, cumulative unchanged.
  for (let i = 100; i < 150; i++) s.onPacket(1000 + i, i * STEP, i * 20);
  t.equal(s.reportBlock(3000).fractionLost, 0);
  // Then 4 packets plus 2 duplicates: more received than expected → 0, cumulative goes down.
  for (let i = 150; i < 154; i++) s.onPacket(1000 + i, i * STEP, i * 20);
  s.onPacket(1152, 152 * STEP, 153 * 20 + 5);
  s.onPacket(1153, 153 * STEP, 153 * 20 + 6);
  const third = s.reportBlock(4000);
  t.equal(third.fractionLost, 0);
  t.equal(third.cumulativeLost, 3);
  // Then half of the next 10 lost → 128/256.
  for (let i = 154; i < 164; i += 2) s.onPacket(1000 + i, i * STEP, i * 20);
  s.onPacket(1164, 164 * STEP, 164 * 20);
  const fourth = s.reportBlock(5000);
  t.equal(fourth.fractionLost, Math.floor((5 * 256) / 11));
  t.equal(fourth.cumulativeLost, 8);
  t.end();
});

t.test('sequence wrap and reordering across it', (t) => {
  const s = new ReceptionStats(48000);
  const order = [65530, 65531, 65532, 65533, 65535, 65534, 0, 2, 1, 3];
  for (const seq of order) s.onPacket(seq, 0, 0);
  t.equal(s.extendedHighestSeq, 65536 + 3);
  t.equal(s.expected, 10);
  t.equal(s.lost, 0);
  t.end();
});

t.test('a jump is believed only when the next packet confirms it (RFC 3550 A.1)', (t) => {
  const s = new ReceptionStats(8000);
  for (let i = 0; i < 10; i++) s.onPacket(i, i * STEP, i * 20);
  t.equal(s.onPacket(20000, 0, 300), false, 'lone far packet refused');
  t.equal(s.extendedHighestSeq, 9);
  t.equal(s.onPacket(10, 10 * STEP, 320), true);
  t.equal(s.onPacket(30000, 0, 340), false);
  t.equal(s.onPacket(30001, STEP, 360), true, 'confirmed: source restarted');
  t.equal(s.extendedHighestSeq, 30001);
  t.equal(s.expected, 1);
  t.equal(s.snapshot().invalid, 2);
  t.end();
});

t.test('interarrival jitter (RFC 3550 A.8) on a known pattern', (t) => {
  // Constant transit: no jitter.
  const flat = new ReceptionStats(8000);
  for (let i = 0; i < 100; i++) flat.onPacket(i, 5000 + i * STEP, 123 + i * 20);
  t.equal(flat.jitter, 0);

  // Transit alternating +0 / +5 ms: |D| = 40 units every packet, so J_n = 40 (1 - (15/16)^n).
  const alt = new ReceptionStats(8000);
  for (let i = 0; i < 100; i++) alt.onPacket(i, i * STEP, i * 20 + (i % 2) * 5);
  const expected = 40 * (1 - (15 / 16) ** 99);
  t.ok(Math.abs(alt.jitter - expected) < 1e-9, `${alt.jitter} vs ${expected}`);
  t.equal(alt.reportBlock(0).jitter, 39);
  t.ok(Math.abs(alt.jitterMs - expected / 8) < 1e-9);

  // Timestamps wrapping past 2^32 do not look like jitter.
  const wrap = new ReceptionStats(48000);
  for (let i = 0; i < 50; i++) wrap.onPacket(i, (0xffffffff - 10 * 960 + i * 960) >>> 0, i * 20);
  t.ok(wrap.jitter < 1e-6, `jitter ${wrap.jitter}`);
  t.end();
});

t.test('LSR and DLSR from the last sender report', (t) => {
  const s = new ReceptionStats(48000);
  s.onPacket(1, 0, 0);
  const srNtp = msToNtp(Date.UTC(2026, 10, 23, 10, 0, 0));
  s.onSenderReport(srNtp.seconds, srNtp.fraction, 10_000);
  const block = s.reportBlock(11_500);
  t.equal(block.lsr, ntpShort(srNtp.seconds, srNtp.fraction));
  t.equal(block.dlsr, 1.5 * 65536);
  t.end();
});
