import t from 'tap';
import {
  MAX_KEEPALIVE_BYTES,
  buildMediaKeepalive,
  classifyDatagram,
  parseMediaKeepalive,
  writeMediaKeepalive,
} from '../../../protocols/control/media-keepalive.js';
import { writeRtpHeader } from '../../../protocols/rtp/packet.js';
import { buildReceiverReport } from '../../../protocols/rtp/rtcp.js';

t.test('build and parse round trip', async (t) => {
  const ka = buildMediaKeepalive('AbC_12-xyz');
  t.equal(ka.length, 15);
  t.equal(ka.toString('latin1', 0, 3), 'loa');
  t.same(parseMediaKeepalive(ka), { ok: true, mediaToken: 'AbC_12-xyz' });
  const buf = Buffer.alloc(MAX_KEEPALIVE_BYTES);
  const n = writeMediaKeepalive(buf, 'x'.repeat(64));
  t.equal(n, MAX_KEEPALIVE_BYTES);
  t.same(parseMediaKeepalive(buf.subarray(0, n)), { ok: true, mediaToken: 'x'.repeat(64) });
  t.throws(() => buildMediaKeepalive(''), RangeError);
  t.throws(() => buildMediaKeepalive('x'.repeat(65)), RangeError);
  t.throws(() => buildMediaKeepalive('bad token'), RangeError);
});

t.test('malformed keepalives are rejected with a reason', async (t) => {
  const good = buildMediaKeepalive('tok123');
  const reason = (b: Buffer) => {
    const r = parseMediaKeepalive(b);
    return r.ok ? 'ok' : r.reason;
  };
  t.equal(reason(good.subarray(0, 4)), 'truncated');
  t.equal(reason(good.subarray(0, good.length - 1)), 'length-mismatch');
  t.equal(reason(Buffer.concat([good, Buffer.from([0])])), 'length-mismatch');
  const v2 = Buffer.from(good);
  v2[3] = 2;
  t.match(reason(v2), /^unsupported-version/);
  const magic = Buffer.from(good);
  magic[1] = 0x41;
  t.equal(reason(magic), 'bad-magic');
  const zero = Buffer.from(good);
  zero[4] = 0;
  t.equal(reason(zero), 'bad-token-length');
  const ch = Buffer.from(good);
  ch[6] = 0x20;
  t.equal(reason(ch), 'bad-token-char');
});

t.test('demux: keepalive, RTP and RTCP are told apart by their first bytes', async (t) => {
  const rtp = Buffer.alloc(20);
  writeRtpHeader(rtp, 0, { payloadType: 111, sequence: 1, timestamp: 2, ssrc: 3, marker: true });
  const rtpPt0 = Buffer.alloc(20);
  writeRtpHeader(rtpPt0, 0, { payloadType: 0, sequence: 1, timestamp: 2, ssrc: 3, marker: false });
  const rr = buildReceiverReport({ ssrc: 5, reports: [] });
  t.equal(classifyDatagram(buildMediaKeepalive('abc')), 'keepalive');
  t.equal(classifyDatagram(rtp), 'rtp');
  t.equal(classifyDatagram(rtpPt0), 'rtp');
  t.equal(classifyDatagram(rr), 'rtcp');
  t.equal(classifyDatagram(Buffer.from([0x00, 0x01, 0x00, 0x00])), 'unknown', 'STUN');
  t.equal(classifyDatagram(Buffer.from([0x16, 0xfe, 0xfd])), 'unknown', 'DTLS');
  t.equal(classifyDatagram(Buffer.from([0x6c])), 'unknown', 'one byte');
  t.equal(classifyDatagram(Buffer.alloc(0)), 'unknown');
});
