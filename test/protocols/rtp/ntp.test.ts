import t from 'tap';
import {
  NTP_UNIX_OFFSET_S,
  msToNtp,
  msToNtpShort,
  msToNtpShortDuration,
  ntpShort,
  ntpShortDurationToMs,
  ntpToMs,
  roundTripMs,
} from '../../../protocols/rtp/ntp.js';

t.test('known NTP values', (t) => {
  t.equal(NTP_UNIX_OFFSET_S, 2208988800);
  t.same(msToNtp(0), { seconds: 2208988800, fraction: 0 }, '1970-01-01');
  t.same(msToNtp(Date.UTC(2000, 0, 1)), { seconds: 3155673600, fraction: 0 }, '2000-01-01');
  t.same(msToNtp(1500), { seconds: 2208988801, fraction: 0x80000000 });
  t.same(msToNtp(250), { seconds: 2208988800, fraction: 0x40000000 });
  // 2036-02-07T06:28:16Z: the NTP seconds field wraps to era 1.
  t.same(msToNtp(Date.UTC(2036, 1, 7, 6, 28, 16)), { seconds: 0, fraction: 0 });
  t.equal(ntpToMs(0, 0), Date.UTC(2036, 1, 7, 6, 28, 16));
  t.equal(ntpToMs(2208988800, 0), 0);
  t.equal(ntpToMs(3155673600, 0x80000000), Date.UTC(2000, 0, 1) + 500);
  const almost = msToNtp(999.99999999);
  t.equal(almost.seconds, 2208988800, 'the fraction never overflows into the seconds');
  t.ok(almost.fraction <= 0xffffffff);
  t.end();
});

t.test('round trip over two centuries of dates, sub-microsecond', (t) => {
  for (const ms of [0, 1, 999, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2026, 10, 23, 10, 37, 29, 123) + 0.456, Date.UTC(2036, 1, 7, 6, 28, 15, 999), Date.UTC(2050, 5, 1)]) {
    const n = msToNtp(ms);
    t.ok(Math.abs(ntpToMs(n.seconds, n.fraction) - ms) < 0.001, new Date(ms).toISOString());
  }
  t.end();
});

t.test('NTP short and the RFC 3550 §6.4.1 round-trip example', (t) => {
  t.equal(ntpShort(0x83aa7e80, 0x80000000), 0x7e808000);
  t.equal(msToNtpShort(1500), 0x7e818000);
  t.equal(msToNtpShortDuration(5250), 0x00054000);
  t.equal(ntpShortDurationToMs(0x00054000), 5250);
  t.equal(msToNtpShortDuration(-3), 0);
  // A = 0xb710:8000 (46864.500 s), LSR (46853.125 s), DLSR = 0x0005:4000 (5.250 s) → 6.125 s.
  // The RFC prints LSR as 0xb705:2030, which is 46853.1257 s; its decimal value is 0xb705:2000.
  t.equal(roundTripMs(0xb7108000, 0xb7052000, 0x00054000), 6125);
  t.equal(roundTripMs(0xb7108000, 0xb7052030, 0x00054000), ((0x0006_2000 - 0x30) / 65536) * 1000);
  t.equal(roundTripMs(0xb7108000, 0, 0), undefined, 'no SR seen yet');
  // Wraps like the 16.16 values do.
  t.equal(roundTripMs(0x00010000, 0xffff8000, 0), 1500);
  t.end();
});
