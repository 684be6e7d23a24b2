import t from 'tap';
import { codecInfo } from '../../../codecs/registry.js';
import { SdpParseError, buildStreamSdp, mediaConnection, mediaDirection, parseSdp, rtpmapFor } from '../../../protocols/rtp/sdp.js';

t.test('PCMU to a unicast receiver: exact text', (t) => {
  const sdp = buildStreamSdp({
    sessionName: 'Loa zone 12',
    originAddress: '192.0.2.1',
    connectionAddress: '192.0.2.50',
    port: 40000,
    codec: codecInfo('pcmu'),
    ptime: 20,
    ssrc: 0x11223344,
    cname: 'zone-12@loa',
    sessionId: 3900000000,
  });
  t.equal(
    sdp,
    [
      'v=0',
      'o=- 3900000000 3900000000 IN IP4 192.0.2.1',
      's=Loa zone 12',
      'c=IN IP4 192.0.2.50',
      't=0 0',
      'm=audio 40000 RTP/AVP 0',
      'a=rtpmap:0 PCMU/8000',
      'a=ptime:20',
      'a=recvonly',
      'a=ssrc:287454020 cname:zone-12@loa',
      '',
    ].join('\r\n'),
  );
  t.end();
});

t.test('Opus to a multicast group with source filter and RFC 7273 clocks', (t) => {
  const sdp = buildStreamSdp({
    sessionName: 'Xã Tân Lập',
    originAddress: '10.0.0.1',
    connectionAddress: '239.255.1.1',
    port: 5004,
    codec: codecInfo('opus'),
    ptime: 20,
    multicastSource: '10.0.0.1',
    fmtp: 'stereo=0; sprop-stereo=0',
    tsRefclk: 'ntp=/traceable/',
    mediaclk: 'direct=0',
    direction: 'sendonly',
    sessionId: 1,
  });
  const lines = sdp.split('\r\n');
  t.ok(lines.includes('c=IN IP4 239.255.1.1/16'), 'multicast TTL (default 16)');
  t.ok(lines.includes('a=source-filter: incl IN IP4 239.255.1.1 10.0.0.1'));
  t.ok(lines.includes('m=audio 5004 RTP/AVP 111'));
  t.ok(lines.includes('a=rtpmap:111 opus/48000/2'), 'RFC 7587: always /2');
  t.ok(lines.includes('a=fmtp:111 stereo=0; sprop-stereo=0'));
  t.ok(lines.includes('a=ts-refclk:ntp=/traceable/'));
  t.ok(lines.includes('a=mediaclk:direct=0'));
  t.ok(lines.includes('a=sendonly'));

  const back = parseSdp(sdp);
  t.equal(back.sessionName, 'Xã Tân Lập');
  t.same(back.connection, { netType: 'IN', addrType: 'IP4', address: '239.255.1.1', ttl: 16 });
  const m = back.media[0];
  t.match(m, { type: 'audio', port: 5004, protocol: 'RTP/AVP', formats: ['111'], ptime: 20, direction: 'sendonly' });
  t.same(m.rtpmap.get(111), { payloadType: 111, encodingName: 'opus', clockRate: 48000, channels: 2 });
  t.equal(m.fmtp.get(111), 'stereo=0; sprop-stereo=0');
  t.end();
});

t.test('L16 and PCMA rtpmaps; ttl option; round trip', (t) => {
  const l16 = buildStreamSdp({ sessionName: 's', originAddress: '127.0.0.1', connectionAddress: '239.1.2.3', ttl: 1, port: 6000, codec: codecInfo('l16'), ptime: 20 });
  t.match(l16, /\r\na=rtpmap:98 L16\/48000\/1\r\n/);
  t.match(l16, /\r\nc=IN IP4 239\.1\.2\.3\/1\r\n/);
  const pcma = parseSdp(buildStreamSdp({ sessionName: 's', originAddress: '127.0.0.1', connectionAddress: '127.0.0.1', port: 6002, codec: codecInfo('pcma'), ptime: 20 }));
  t.same(pcma.media[0].rtpmap.get(8), { payloadType: 8, encodingName: 'PCMA', clockRate: 8000, channels: undefined });
  t.equal(mediaDirection(pcma, pcma.media[0]), 'recvonly');
  t.equal(mediaConnection(pcma, pcma.media[0])?.address, '127.0.0.1');
  t.end();
});

t.test('build refuses values that would break the description', (t) => {
  const base = { sessionName: 's', originAddress: '127.0.0.1', connectionAddress: '127.0.0.1', port: 6000, codec: codecInfo('pcmu'), ptime: 20 };
  t.throws(() => buildStreamSdp({ ...base, sessionName: 'x\r\na=evil' }), RangeError);
  t.throws(() => buildStreamSdp({ ...base, connectionAddress: '1.2.3.4 5' }), RangeError);
  t.throws(() => buildStreamSdp({ ...base, port: 70000 }), RangeError);
  t.throws(() => buildStreamSdp({ ...base, multicastSource: '10.0.0.1' }), RangeError, 'source filter needs multicast');
  t.throws(() => buildStreamSdp({ ...base, connectionAddress: '239.0.0.1', ttl: 300 }), RangeError);
  t.end();
});

// What a SIP softphone (Linphone/baresip style) offers.
const PHONE_OFFER = [
  'v=0',
  'o=speaker1 2890844526 2890844527 IN IP4 192.0.2.10',
  's=Talk',
  'c=IN IP4 192.0.2.10',
  'b=AS:80',
  't=0 0',
  'm=audio 7078 RTP/AVP 96 0 8 101',
  'a=rtpmap:96 opus/48000/2',
  'a=fmtp:96 useinbandfec=1',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  'a=rtcp:7079',
  'm=video 0 RTP/AVP 31',
  '',
].join('\r\n');

t.test('parses a SIP phone offer', (t) => {
  const sdp = parseSdp(PHONE_OFFER);
  t.same(sdp.origin, { username: 'speaker1', sessionId: '2890844526', sessionVersion: '2890844527', netType: 'IN', addrType: 'IP4', address: '192.0.2.10' });
  t.equal(sdp.media.length, 2);
  const audio = sdp.media[0];
  t.match(audio, { type: 'audio', port: 7078, formats: ['96', '0', '8', '101'], ptime: 20, direction: 'sendrecv' });
  t.same(rtpmapFor(audio, 96), { payloadType: 96, encodingName: 'opus', clockRate: 48000, channels: 2 });
  t.same(rtpmapFor(audio, 0), { payloadType: 0, encodingName: 'PCMU', clockRate: 8000 }, 'static type without rtpmap');
  t.same(rtpmapFor(audio, 8), { payloadType: 8, encodingName: 'PCMA', clockRate: 8000 });
  t.equal(rtpmapFor(audio, 9), undefined, 'not offered');
  t.equal(audio.fmtp.get(101), '0-16');
  t.same(audio.attributes.find((a) => a.name === 'rtcp'), { name: 'rtcp', value: '7079' });
  t.equal(mediaConnection(sdp, audio)?.address, '192.0.2.10');
  t.match(sdp.media[1], { type: 'video', port: 0 });
  // LF-only line ends are accepted too.
  t.equal(parseSdp(PHONE_OFFER.replace(/\r\n/g, '\n')).media[0].port, 7078);
  t.end();
});

t.test('malformed descriptions are refused with a clear error', (t) => {
  const bad: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['no v=', PHONE_OFFER.replace('v=0\r\n', ''), /start with v=/],
    ['version 1', PHONE_OFFER.replace('v=0', 'v=1'), /version/],
    ['garbage line', PHONE_OFFER.replace('s=Talk', 'Talk'), /line 3/],
    ['short o=', PHONE_OFFER.replace('o=speaker1 ', 'o='), /o= needs 6 fields/],
    ['no o=', PHONE_OFFER.replace(/o=.*\r\n/, ''), /missing o=/],
    ['no s=', PHONE_OFFER.replace('s=Talk\r\n', ''), /missing s=/],
    ['port', PHONE_OFFER.replace('m=audio 7078', 'm=audio 99999'), /invalid port/],
    ['payload type', PHONE_OFFER.replace('RTP/AVP 96 0', 'RTP/AVP 196 0'), /payload type/],
    ['short m=', PHONE_OFFER.replace('m=audio 7078 RTP/AVP 96 0 8 101', 'm=audio 7078'), /m= needs/],
    ['rtpmap', PHONE_OFFER.replace('a=rtpmap:96 opus/48000/2', 'a=rtpmap:96 opus'), /invalid rtpmap/],
    ['c= fields', PHONE_OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IP4'), /c= needs 3 fields/],
    ['c= type', PHONE_OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IPX 192.0.2.10'), /address type/],
    ['multicast without ttl', PHONE_OFFER.replace('c=IN IP4 192.0.2.10', 'c=IN IP4 239.1.1.1'), /TTL/],
    ['no connection', PHONE_OFFER.replace('c=IN IP4 192.0.2.10\r\n', ''), /no connection address/],
  ];
  for (const [name, text, message] of bad) {
    try {
      parseSdp(text);
      t.fail(`accepted: ${name}`);
    } catch (e) {
      t.ok(e instanceof SdpParseError, `${name}: SdpParseError`);
      t.match((e as Error).message, message, name);
    }
  }
  t.end();
});
