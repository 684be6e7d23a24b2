import t from 'tap';
import {
  RtcpParseError,
  buildBye,
  buildCompound,
  buildReceiverReport,
  buildSdes,
  buildSenderReport,
  parseRtcp,
  type ReportBlock,
} from '../../../protocols/rtp/rtcp.js';
import { isRtcp } from '../../../protocols/rtp/packet.js';
import { seededRandom } from '../../../bench/udp-relay.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// SR (1 report block) + SDES CNAME "loa@host" + BYE "end", written out by hand from RFC 3550 §6.4.1, §6.5, §6.6.
const KNOWN = hex(`
  81 c8 000c  11223344  83aa7e80 80000000  00001000  00000064  00003e80
    55667788  40 fffffe  0001000a  00000020  7e808000  00010000
  81 ca 0004  11223344  01 08 6c6f6140686f7374 00 00
  81 cb 0002  11223344  03 656e64
`);
const BLOCK: ReportBlock = {
  ssrc: 0x55667788,
  fractionLost: 64,
  cumulativeLost: -2,
  extendedHighestSeq: 0x0001000a,
  jitter: 32,
  lsr: 0x7e808000,
  dlsr: 0x00010000,
};

t.test('parses a known compound packet', (t) => {
  t.ok(isRtcp(KNOWN));
  const packets = parseRtcp(KNOWN);
  t.equal(packets.length, 3);
  t.same(packets[0], {
    type: 'sr',
    ssrc: 0x11223344,
    ntpSeconds: 0x83aa7e80,
    ntpFraction: 0x80000000,
    ntpMs: 500,
    rtpTimestamp: 0x1000,
    packetCount: 100,
    octetCount: 16000,
    reports: [BLOCK],
  });
  t.same(packets[1], { type: 'sdes', chunks: [{ ssrc: 0x11223344, items: [{ type: 1, value: 'loa@host' }], cname: 'loa@host' }] });
  t.same(packets[2], { type: 'bye', ssrcs: [0x11223344], reason: 'end' });
  t.end();
});

t.test('builds the same bytes', (t) => {
  const sr = buildSenderReport({ ssrc: 0x11223344, ntpMs: 500, rtpTimestamp: 0x1000, packetCount: 100, octetCount: 16000, reports: [BLOCK], cname: 'loa@host' });
  t.same(sr, KNOWN.subarray(0, 72));
  const all = buildCompound([sr, buildBye({ ssrcs: [0x11223344], reason: 'end' })]);
  t.same(all, KNOWN);
  t.end();
});

t.test('writes into a caller buffer without allocating the packet', (t) => {
  const out = Buffer.alloc(1500);
  const sr = buildSenderReport({ ssrc: 1, ntpMs: Date.UTC(2026, 0, 1), rtpTimestamp: 5, packetCount: 6, octetCount: 7, cname: 'x' }, out);
  t.equal(sr.buffer, out.buffer);
  t.equal(sr.length, 28 + 12);
  t.throws(() => buildSenderReport({ ssrc: 1, ntpMs: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 }, Buffer.alloc(27)), RangeError);
  t.end();
});

t.test('SR and RR build → parse round trip', (t) => {
  const rand = seededRandom(9);
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < 31; i++) {
    blocks.push({
      ssrc: Math.floor(rand() * 2 ** 32),
      fractionLost: Math.floor(rand() * 256),
      cumulativeLost: Math.floor(rand() * 2 ** 24) - 2 ** 23,
      extendedHighestSeq: Math.floor(rand() * 2 ** 32),
      jitter: Math.floor(rand() * 2 ** 32),
      lsr: Math.floor(rand() * 2 ** 32),
      dlsr: Math.floor(rand() * 2 ** 32),
    });
  }
  const ntpMs = Date.UTC(2026, 10, 23, 10, 0, 0, 250);
  const [sr, sdes] = parseRtcp(buildSenderReport({ ssrc: 0xfeedface, ntpMs, rtpTimestamp: 0xffffffff, packetCount: 123456, octetCount: 2 ** 32 - 1, reports: blocks, cname: 'zone-7@loa' }));
  t.match(sr, { type: 'sr', ssrc: 0xfeedface, rtpTimestamp: 0xffffffff, packetCount: 123456, octetCount: 2 ** 32 - 1 });
  t.ok(sr.type === 'sr' && Math.abs(sr.ntpMs - ntpMs) < 0.001);
  t.same(sr.type === 'sr' && sr.reports, blocks);
  t.match(sdes, { type: 'sdes', chunks: [{ ssrc: 0xfeedface, cname: 'zone-7@loa' }] });

  const rr = parseRtcp(buildReceiverReport({ ssrc: 42, reports: blocks.slice(0, 2) }));
  t.same(rr, [{ type: 'rr', ssrc: 42, reports: blocks.slice(0, 2) }]);
  const empty = parseRtcp(buildReceiverReport({ ssrc: 42, reports: [], cname: 'speaker-1' }));
  t.same(empty[0], { type: 'rr', ssrc: 42, reports: [] });
  t.equal(empty[1].type === 'sdes' && empty[1].chunks[0].cname, 'speaker-1');

  // Cumulative loss saturates at the 24-bit signed limits.
  const [clamped] = parseRtcp(buildReceiverReport({ ssrc: 1, reports: [{ ...blocks[0], cumulativeLost: 1e9 }, { ...blocks[0], cumulativeLost: -1e9 }] }));
  t.same(clamped.type === 'rr' && clamped.reports.map((r) => r.cumulativeLost), [0x7fffff, -0x800000]);
  t.throws(() => buildReceiverReport({ ssrc: 1, reports: [...blocks, blocks[0]] }), RangeError, '32 blocks do not fit');
  t.end();
});

t.test('SDES with several chunks and items, BYE without reason, APP, unknown types', (t) => {
  const sdes = buildSdes([
    { ssrc: 1, cname: 'a' },
    { ssrc: 2, cname: 'bcd', items: [{ type: 6, value: 'Loa' }] },
    { ssrc: 3, cname: 'Loa loa — ổn' },
  ]);
  t.equal(sdes.length % 4, 0);
  t.same(parseRtcp(sdes), [
    {
      type: 'sdes',
      chunks: [
        { ssrc: 1, items: [{ type: 1, value: 'a' }], cname: 'a' },
        { ssrc: 2, items: [{ type: 1, value: 'bcd' }, { type: 6, value: 'Loa' }], cname: 'bcd' },
        { ssrc: 3, items: [{ type: 1, value: 'Loa loa — ổn' }], cname: 'Loa loa — ổn' },
      ],
    },
  ]);
  t.same(parseRtcp(buildBye({ ssrcs: [7, 8] })), [{ type: 'bye', ssrcs: [7, 8], reason: undefined }]);
  t.match(parseRtcp(hex('80cc0003 00000009 6c6f6121 01020304')), [{ type: 'app', subtype: 0, ssrc: 9, name: 'loa!' }]);
  // A PSFB PLI (RFC 4585) and reduced-size RTCP without SR/RR first.
  t.match(parseRtcp(hex('81ce0002 00000001 00000002')), [{ type: 'other', packetType: 206, count: 1 }]);
  t.end();
});

t.test('malformed RTCP is refused with the right reason', (t) => {
  const good = KNOWN;
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'too-short'],
    ['3 bytes', hex('80c900'), 'too-short'],
    ['version 1', hex('41c90001 00000001'), 'bad-version'],
    ['second packet version 0', Buffer.concat([hex('80c90001 00000001'), hex('00ca0000')]), 'bad-version'],
    ['truncated', good.subarray(0, 60), 'bad-length'],
    ['length too long', hex('80c90002 00000001'), 'bad-length'],
    ['trailing bytes', Buffer.concat([good, hex('8000')]), 'bad-length'],
    ['RC=2 with one block', hex('82c90007 00000001' + '00'.repeat(24)), 'bad-count'],
    ['SR too short', hex('80c80001 00000001'), 'bad-count'],
    ['padding not on last', Buffer.concat([hex('a0c90002 00000001 00000004'), hex('80c90001 00000002')]), 'bad-padding'],
    ['padding count 0', hex('a0c90002 00000001 00000000'), 'bad-padding'],
    ['padding count too large', hex('a0c90002 00000001 00000009'), 'bad-padding'],
    ['SDES item overruns', hex('81ca0002 00000001 0109 6162'), 'bad-sdes'],
    ['SDES without terminator', hex('81ca0002 00000001 01026162'), 'bad-sdes'],
    ['SDES chunk missing', hex('82ca0002 00000001 01016100'), 'bad-sdes'],
    ['BYE count overruns', hex('83cb0001 00000001'), 'bad-bye'],
    ['BYE reason overruns', hex('81cb0002 00000001 09656e64'), 'bad-bye'],
    ['APP too short', hex('80cc0001 00000001'), 'bad-app'],
  ];
  for (const [name, buf, reason] of cases) {
    try {
      parseRtcp(buf);
      t.fail(`accepted: ${name}`);
    } catch (e) {
      t.ok(e instanceof RtcpParseError, `${name}: RtcpParseError`);
      t.equal((e as RtcpParseError).reason, reason, `${name}: ${reason}`);
    }
  }
  t.end();
});

t.test('fuzz: only RtcpParseError ever escapes', (t) => {
  const rand = seededRandom(77);
  let parsed = 0;
  for (let i = 0; i < 20000; i++) {
    const buf = Buffer.from(KNOWN.subarray(0, Math.floor(rand() * (KNOWN.length + 1))));
    for (let f = 0; f < 1 + (i % 4) && buf.length; f++) buf[Math.floor(rand() * buf.length)] ^= 1 << Math.floor(rand() * 8);
    try {
      parseRtcp(buf);
      parsed++;
    } catch (e) {
      if (!(e instanceof RtcpParseError)) throw e;
    }
  }
  t.ok(parsed > 100, `some still parse (${parsed})`);
  t.end();
});
