import t from 'tap';
import { RTP_HEADER_BYTES, RtpParseError, isRtcp, parseRtp, writeRtpHeader } from '../../../protocols/rtp/packet.js';
import { seededRandom } from '../../../bench/udp-relay.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

t.test('writeRtpHeader writes the RFC 3550 fixed header', (t) => {
  const buf = Buffer.alloc(20, 0xee);
  const n = writeRtpHeader(buf, 4, { payloadType: 0, sequence: 0x1234, timestamp: 0xdeadbeef, ssrc: 0x01020304, marker: true });
  t.equal(n, RTP_HEADER_BYTES);
  t.equal(RTP_HEADER_BYTES, 12);
  t.same(buf, hex('eeeeeeee 8080 1234 deadbeef 01020304 eeeeeeee'));
  // Out-of-range values are masked to their field width.
  writeRtpHeader(buf, 0, { payloadType: 0xff, sequence: 0x1_0005, timestamp: 2 ** 32 + 7, ssrc: -1, marker: false });
  t.same(buf.subarray(0, 12), hex('807f 0005 00000007 ffffffff'));
  t.throws(() => writeRtpHeader(Buffer.alloc(11), 0, { payloadType: 0, sequence: 0, timestamp: 0, ssrc: 0, marker: false }), RangeError);
  t.end();
});

t.test('header round trip', (t) => {
  const rand = seededRandom(1);
  const buf = Buffer.alloc(12 + 160);
  for (let i = 0; i < 200; i++) {
    const h = {
      payloadType: Math.floor(rand() * 128),
      sequence: Math.floor(rand() * 65536),
      timestamp: Math.floor(rand() * 2 ** 32),
      ssrc: Math.floor(rand() * 2 ** 32),
      marker: rand() < 0.5,
    };
    writeRtpHeader(buf, 0, h);
    const p = parseRtp(buf);
    t.same(
      { payloadType: p.payloadType, sequence: p.sequence, timestamp: p.timestamp, ssrc: p.ssrc, marker: p.marker },
      h,
    );
    if (p.payload.length !== 160) t.fail('payload length');
  }
  t.end();
});

t.test('parses a minimal packet; payload is a view', (t) => {
  const buf = hex('80e0 fffe 00000960 cafebabe aabb');
  const p = parseRtp(buf);
  t.match(p, { version: 2, padding: false, extension: false, csrcCount: 0, marker: true, payloadType: 96, sequence: 65534, timestamp: 2400, ssrc: 0xcafebabe, paddingBytes: 0 });
  t.same(p.csrc, []);
  t.equal(p.headerExtension, undefined);
  t.same([...p.payload], [0xaa, 0xbb]);
  t.equal(p.payload.buffer, buf.buffer, 'same memory');
  buf[12] = 0x11;
  t.equal(p.payload[0], 0x11, 'a view, not a copy');
  t.end();
});

t.test('parses CSRCs, a header extension and padding together', (t) => {
  // V=2 P=1 X=1 CC=2 | M=0 PT=8 | seq 7 | ts 160 | ssrc 5 | 2 CSRC | ext BEDE len 1 | payload 3 bytes | padding 3
  const buf = hex('b2 08 0007 000000a0 00000005  11111111 22222222  bede 0001 10ff0000  010203  000003');
  const p = parseRtp(buf);
  t.match(p, { padding: true, extension: true, csrcCount: 2, marker: false, payloadType: 8, sequence: 7, timestamp: 160, ssrc: 5, paddingBytes: 3 });
  t.same(p.csrc, [0x11111111, 0x22222222]);
  t.equal(p.headerExtension?.profile, 0xbede);
  t.same([...(p.headerExtension?.data ?? [])], [0x10, 0xff, 0, 0]);
  t.same([...p.payload], [1, 2, 3]);
  t.end();
});

t.test('padding may take every byte after the header; empty extension is fine', (t) => {
  const p = parseRtp(hex('b0 00 0001 00000000 00000000 abcd 0000 00000004'));
  t.equal(p.payload.length, 0);
  t.equal(p.headerExtension?.data.length, 0);
  t.equal(p.headerExtension?.profile, 0xabcd);
  t.end();
});

t.test('malformed packets are refused with the right reason', (t) => {
  const cases: [string, string][] = [
    ['', 'too-short'],
    ['80 00 0001 00000000 000000', 'too-short'],
    ['40 00 0001 00000000 00000000', 'bad-version'],
    ['c0 00 0001 00000000 00000000', 'bad-version'],
    ['00 00 0001 00000000 00000000', 'bad-version'],
    ['8f 00 0001 00000000 00000000 11111111', 'bad-csrc'],
    ['81 00 0001 00000000 00000000', 'bad-csrc'],
    ['90 00 0001 00000000 00000000 bede', 'bad-extension'],
    ['90 00 0001 00000000 00000000 bede 0002 00000000', 'bad-extension'],
    ['91 00 0001 00000000 00000000 11111111 bede 0001', 'bad-extension'],
    ['a0 00 0001 00000000 00000000 0102 00', 'bad-padding'],
    ['a0 00 0001 00000000 00000000 0102 04', 'bad-padding'],
    ['a0 00 0001 00000000 00000000', 'bad-padding'],
    ['b0 00 0001 00000000 00000000 bede 0000 05', 'bad-padding'],
  ];
  for (const [bytes, reason] of cases) {
    try {
      parseRtp(hex(bytes));
      t.fail(`accepted ${bytes}`);
    } catch (e) {
      t.ok(e instanceof RtpParseError, `${bytes}: RtpParseError`);
      t.equal((e as RtpParseError).reason, reason, `${bytes}: ${reason}`);
    }
  }
  t.end();
});

t.test('fuzz: random, truncated and bit-flipped input only ever throws RtpParseError', (t) => {
  const rand = seededRandom(20260101);
  const good = hex('b2 08 0007 000000a0 00000005 11111111 22222222 bede 0001 10ff0000 010203 000003');
  let parsed = 0;
  let refused = 0;
  const check = (buf: Buffer) => {
    try {
      const p = parseRtp(buf);
      parsed++;
      const start = p.payload.byteOffset - buf.byteOffset;
      if (start < RTP_HEADER_BYTES || start + p.payload.length > buf.length) throw new Error('payload outside the packet');
    } catch (e) {
      if (!(e instanceof RtpParseError)) throw e;
      refused++;
    }
  };
  for (let len = 0; len <= good.length; len++) check(good.subarray(0, len));
  for (let i = 0; i < 20000; i++) {
    const kind = i % 2;
    let buf: Buffer;
    if (kind === 0) {
      buf = Buffer.alloc(Math.floor(rand() * 48));
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rand() * 256);
      if (buf.length) buf[0] = (buf[0] & 0x3f) | 0x80; // mostly version 2, to reach the deeper checks
    } else {
      buf = Buffer.from(good.subarray(0, Math.floor(rand() * (good.length + 1))));
      for (let f = 0; f < 3 && buf.length; f++) buf[Math.floor(rand() * buf.length)] ^= 1 << Math.floor(rand() * 8);
    }
    check(buf);
  }
  t.ok(parsed > 1000, `some parsed (${parsed})`);
  t.ok(refused > 1000, `some refused (${refused})`);
  t.end();
});

t.test('isRtcp demultiplexes by the RFC 5761 payload type range', (t) => {
  t.ok(isRtcp(hex('80c8 0006')), 'SR (200)');
  t.ok(isRtcp(hex('81c9 0007')), 'RR (201)');
  t.ok(isRtcp(hex('80c0 0000')), '192');
  t.ok(isRtcp(hex('80df 0000')), '223');
  t.notOk(isRtcp(hex('8000 0001')), 'RTP PCMU');
  t.notOk(isRtcp(hex('8080 0001')), 'RTP PCMU with marker');
  t.notOk(isRtcp(hex('80ef 0001')), 'RTP PT 111 with marker (224+)');
  t.notOk(isRtcp(hex('806f 0001')), 'RTP PT 111');
  t.notOk(isRtcp(hex('40c8 0006')), 'version 1');
  t.notOk(isRtcp(hex('80')), 'one byte');
  t.end();
});
