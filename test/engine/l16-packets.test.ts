/**
 * L16 at 48 kHz under a 1500-byte MTU: the engine sends each 20 ms frame as
 * 2 packets of 10 ms (real UDP on loopback), and the agent's FrameJoiner
 * puts the frames back together — exactly, whatever the order of the halves,
 * with a lost half silent for 10 ms only.
 */
import t from 'tap';
import { createDecoder } from '../../codecs/registry.js';
import { FrameJoiner } from '../../endpoint/frame-joiner.js';
import { codecInfo } from '../../codecs/registry.js';
import { parseRtp, type RtpPacket } from '../../protocols/rtp/packet.js';
import { MAX_IP_PACKET_BYTES, packetPtimeMs, packetsPerFrame } from '../../protocols/rtp/packetization.js';
import { harness } from './helpers.js';
import { isRtcp, receiver, until } from './udp.js';

t.test('packetization: parts per frame for each codec', (t) => {
  t.equal(packetsPerFrame(codecInfo('l16')), 2);
  t.equal(packetPtimeMs(codecInfo('l16')), 10);
  for (const c of ['pcmu', 'pcma', 'opus'] as const) t.equal(packetsPerFrame(codecInfo(c)), 1, c);
  t.end();
});

t.test('L16: every datagram fits 1500 bytes and the frames come back exactly', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  const r = await receiver();
  t.teardown(() => r.close());
  h.tap('v1');
  h.plane.handle({ type: 'attachEndpoint', endpointId: 'e', zoneId: 'v1', codec: 'l16', address: { host: '127.0.0.1', port: r.port } });
  // A siren: every frame differs, so a frame put together from the wrong halves cannot pass.
  h.plane.handle({ type: 'play', programmeId: 'p', zones: ['v1'], priority: 200, source: { kind: 'siren', lowHz: 500, highHz: 1500, periodMs: 400, durationMs: 1000 } });
  await h.run(60);
  const stream = h.plane.streamOf('v1', 'l16')!;
  t.ok(await until(() => r.packets.filter((b) => !isRtcp(b)).length >= stream.packets), 'all packets arrived');
  const rtp = r.packets.filter((b) => !isRtcp(b));
  t.equal(stream.packets, 2 * stream.encodes, 'two packets per frame');
  t.ok(rtp.every((b) => b.length + 28 <= MAX_IP_PACKET_BYTES), `largest IP packet ${Math.max(...rtp.map((b) => b.length)) + 28} bytes ≤ 1500`);
  const pkts = rtp.map((b) => parseRtp(b));
  t.ok(pkts.every((p) => p.payload.length === 960), '10 ms (960 bytes) each');
  t.equal(pkts[0].sequence % 2, 0, "a frame's first packet has an even sequence number");
  t.ok(pkts[0].marker && !pkts[1].marker, 'marker on the first packet of the talk-spurt only');
  t.equal(pkts[1].timestamp - pkts[0].timestamp, 480, 'the second half is 480 ticks later');

  const dec = createDecoder('l16');
  const heard = h.heard.get('v1')!;
  const frameOf = (ts: number) => {
    for (const [n] of heard) if (stream.timestampOf(n) === ts) return n;
    return -1;
  };
  const check = (order: RtpPacket[], label: string, lost?: RtpPacket) => {
    const joiner = new FrameJoiner(codecInfo('l16'));
    const out: { seq: number; ts: number; pcm: Int16Array }[] = [];
    for (const p of order) if (p !== lost) joiner.push(p.ssrc, p.sequence, p.timestamp, p.payload, 0, (seq, ts, payload) => out.push({ seq, ts, pcm: Int16Array.from(dec.decode(payload)) }));
    const wrong = out.filter((f) => {
      const want = heard.get(frameOf(f.ts));
      if (!want) return true;
      if (lost && f.ts === lost.timestamp - (lost.sequence % 2) * 480) return false; // checked below
      return !want.every((v, i) => v === f.pcm[i]);
    });
    t.equal(wrong.length, 0, `${label}: every frame equals what the zone played`);
    t.ok(out.every((f, i) => i === 0 || f.seq === ((out[i - 1].seq + 1) & 0xffff)), `${label}: one sequence number per frame`);
    return { out, joiner };
  };
  const inOrder = check(pkts, 'in order');
  t.equal(inOrder.out.length, stream.encodes, 'one frame per encoded frame');
  // Halves swapped in every frame.
  const swapped = pkts.map((_, i) => pkts[i ^ 1] ?? pkts[i]);
  t.equal(check(swapped, 'halves swapped').out.length, stream.encodes);
  // A lost second half: that frame comes out with 10 ms of the zone's audio and 10 ms of silence.
  const lost = pkts[21];
  const { out, joiner } = check(pkts, 'a lost half', lost);
  t.equal(joiner.incomplete, 1);
  const f = out.find((x) => x.ts === lost.timestamp - 480)!;
  const want = heard.get(frameOf(f.ts))!;
  t.ok(f.pcm.subarray(0, 480).every((v, i) => v === want[i]) && f.pcm.subarray(480).every((v) => v === 0), 'first half intact, second half silent');
});

t.test('FrameJoiner: sequence wrap, a new stream, and whole-frame packets', (t) => {
  const j = new FrameJoiner(codecInfo('l16'));
  const got: [number, number, number][] = [];
  const sink = (seq: number, ts: number, payload: Buffer) => void got.push([seq, ts, payload.length]);
  const half = Buffer.alloc(960, 1);
  let seq = 65532;
  for (let k = 0; k < 4; k++) {
    j.push(7, seq, 1000 + k * 960, half, 0, sink);
    j.push(7, (seq + 1) & 0xffff, 1000 + k * 960 + 480, half, 0, sink);
    seq = (seq + 2) & 0xffff;
  }
  t.same(got.map((g) => g[1]), [1000, 1960, 2920, 3880], 'four frames across the wrap');
  t.same(got.map((g) => (g[0] - got[0][0]) & 0xffff), [0, 1, 2, 3], 'numbered one per frame across the wrap');
  t.ok(got.every((g) => g[2] === 1920));
  got.length = 0;
  j.push(8, 10, 50_000, half, 0, sink); // a new stream starting far "behind" the old numbers
  j.push(8, 11, 50_480, half, 0, sink);
  t.same(got.map((g) => g[1]), [50_000], 'a new SSRC starts afresh');
  got.length = 0;
  j.push(8, 12, 51_000, Buffer.alloc(1920), 0, sink);
  t.same(got, [[12, 51_000, 1920]], 'a whole 20 ms packet passes through');
  const pcmu = new FrameJoiner(codecInfo('pcmu'));
  got.length = 0;
  pcmu.push(1, 5, 160, Buffer.alloc(160), 0, sink);
  t.same(got, [[5, 160, 160]], 'PCMU passes through');
  t.end();
});
