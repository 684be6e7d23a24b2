import t from 'tap';
import type { AudioEncoder, CodecName } from '../../codecs/codec.js';
import { createDecoder, createEncoder } from '../../codecs/registry.js';
import { PRIORITY } from '../../domain/priority.js';
import { parseRtp } from '../../protocols/rtp/packet.js';
import { parseRtcp, type SenderReport } from '../../protocols/rtp/rtcp.js';
import { dominant, harness } from './helpers.js';
import { isRtcp, receiver, until } from './udp.js';

t.test('one zone stream: encoded once, same bytes to every receiver, continuous seq/timestamps, markers, SR mapping', async (t) => {
  let encodes = 0;
  const counting = (codec: CodecName): AudioEncoder => {
    const inner = createEncoder(codec);
    return Object.assign(Object.create(inner) as AudioEncoder, {
      encode: (f: Int16Array) => {
        encodes++;
        return inner.encode(f);
      },
    });
  };
  const h = await harness({ createEncoder: counting });
  t.teardown(() => h.plane.close());
  const rx = await Promise.all([receiver(), receiver(), receiver()]);
  t.teardown(() => Promise.all(rx.map((r) => r.close())));
  rx.forEach((r, i) => h.plane.handle({ type: 'attachEndpoint', endpointId: `e${i}`, zoneId: 'v1', codec: 'pcmu', address: { host: '127.0.0.1', port: r.port, rtcpPort: r.port } }));

  h.plane.handle({ type: 'play', programmeId: 'A', zones: ['c1'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 500, amplitude: 0.5, durationMs: 3000 } });
  await h.run(20);
  h.plane.handle({ type: 'play', programmeId: 'B', zones: ['v1'], priority: PRIORITY.emergency, source: { kind: 'tone', freqHz: 1500, amplitude: 0.5, durationMs: 400 } });
  await h.run(40);
  h.plane.handle({ type: 'stop', programmeId: 'A' });
  await h.run(50); // off air: nothing sent
  h.plane.handle({ type: 'play', programmeId: 'C', zones: ['v1'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 500, amplitude: 0.5, durationMs: 200 } });
  await h.run(20);
  const expected = h.plane.streamOf('v1', 'pcmu')!.packets;
  t.ok(await until(() => rx.every((r) => r.packets.filter((p) => !isRtcp(p)).length === expected)), `every receiver got all ${expected} packets`);

  const rtp = rx.map((r) => r.packets.filter((p) => !isRtcp(p)));
  t.ok(rtp.every((list) => list.every((p, i) => p.equals(rtp[0][i]))), 'identical bytes at every receiver');
  t.equal(encodes, expected, 'the encoder ran once per frame, not once per receiver');

  const pkts = rtp[0].map((b) => parseRtp(b));
  t.ok(pkts.every((p) => p.ssrc === pkts[0].ssrc && p.payloadType === 0), 'one SSRC, PCMU');
  t.ok(pkts.every((p, i) => i === 0 || p.sequence === ((pkts[i - 1].sequence + 1) & 0xffff)), 'sequence numbers continuous across switches and the pause');
  const jumps = pkts.flatMap((p, i) => (i > 0 && p.timestamp - pkts[i - 1].timestamp !== 160 ? [i] : []));
  t.equal(jumps.length, 1, 'timestamps advance 160 per packet except once, after the pause');
  const gapFrames = (pkts[jumps[0]].timestamp - pkts[jumps[0] - 1].timestamp) / 160;
  const stopAt = h.events.find((e) => e.type === 'programme' && e.programmeId === 'A' && e.zoneId === 'v1' && e.state === 'ended');
  const cOn = h.zoneEvents('C', 'v1')[0];
  t.ok(stopAt);
  t.equal(gapFrames, cOn.frame - (stopAt as { frame: number }).frame, 'the timestamp jump equals the time between the fade-out frame and the new talk-spurt');
  t.same(pkts.flatMap((p, i) => (p.marker ? [i] : [])), [0, jumps[0]], 'marker bit only on the first packet of each talk-spurt');

  // Audio: what arrives is A, then B over it, then A again.
  const dec = createDecoder('pcmu');
  const pcm = pkts.map((p) => Int16Array.from(dec.decode(p.payload)));
  const bOn = h.zoneEvents('B', 'v1')[0].frame;
  const aOn = h.zoneEvents('A', 'v1')[0].frame;
  const at = (frame: number): Int16Array => pcm[frame - aOn];
  t.equal(dominant(at(bOn - 2), [500, 1500]), 500);
  t.equal(dominant(at(bOn + 5), [500, 1500]), 1500);
  t.equal(dominant(at(bOn + 25), [500, 1500]), 500);

  // RTCP: SRs map RTP time to the clock's wall time for the same frame.
  const srs = rx[0].packets.filter(isRtcp).flatMap((b) => parseRtcp(b)).filter((p): p is SenderReport => p.type === 'sr');
  t.ok(srs.length >= 2, `sender reports sent (${srs.length})`);
  const aOnEvent = h.zoneEvents('A', 'v1')[0];
  t.ok(Math.abs(srs[0].ntpMs - aOnEvent.atMs) < 0.01, 'first SR: NTP time of the first frame');
  t.equal(srs[0].rtpTimestamp, pkts[0].timestamp, 'first SR: RTP timestamp of the first frame');
  for (const sr of srs.slice(1)) {
    const dt = (((sr.rtpTimestamp - srs[0].rtpTimestamp) >>> 0) / 8000) * 1000;
    t.ok(Math.abs(sr.ntpMs - srs[0].ntpMs - dt) < 0.01, 'later SRs on the same RTP↔NTP line');
    t.equal(sr.ssrc, pkts[0].ssrc);
  }
});

t.test('detaching the last endpoint stops encoding; an unheard zone encodes nothing', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  const r = await receiver();
  t.teardown(() => r.close());
  h.plane.handle({ type: 'attachEndpoint', endpointId: 'e', zoneId: 'v2', codec: 'l16', address: { host: '127.0.0.1', port: r.port } });
  h.plane.handle({ type: 'play', programmeId: 'A', zones: ['d'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 500 } });
  await h.run(5);
  const s = h.plane.streamOf('v2', 'l16')!;
  t.equal(s.encodes, 6);
  t.equal(h.plane.streamOf('v1', 'l16'), undefined, 'no stream where nobody listens');
  h.plane.handle({ type: 'detachEndpoint', endpointId: 'e' });
  await h.run(5);
  t.equal(s.encodes, 6, 'no more encoding');
  t.equal(h.plane.streamOf('v2', 'l16'), undefined);
});
