// The light endpoint against a real control session and a real UDP sender: it registers,
// keeps its media path open, and measures each packet against its due time from the SR.
import t from 'tap';
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { WebSocketServer } from 'ws';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
import { createEncoder } from '../../codecs/registry.js';
import { SineOscillator } from '../../codecs/tone.js';
import { LightEndpoint } from '../../bench/light-endpoint.js';
import { LatencyHistogram } from '../../bench/percentiles.js';
import { classifyDatagram, parseMediaKeepalive } from '../../protocols/control/media-keepalive.js';
import { ControlServerSession, type EndpointSessionInfo } from '../../protocols/control/server-session.js';
import { writeRtpHeader } from '../../protocols/rtp/packet.js';
import { buildSenderReport } from '../../protocols/rtp/rtcp.js';

t.test('registers, learns its address by keepalive, measures delivery and hears the alert', async (t) => {
  const media = dgram.createSocket('udp4');
  media.bind(0, '127.0.0.1');
  await once(media, 'listening');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const online: EndpointSessionInfo[] = [];
  wss.on('connection', (ws) => {
    new ControlServerSession(ws, {
      authenticate: (id, token) => (id === 'e1' && token === 'secret' ? { zoneId: 'z', codecs: ['opus'], playoutDelayMs: 150 } : null),
      rtp: { host: '127.0.0.1', port: (media.address() as AddressInfo).port },
      onOnline: (info) => online.push(info),
    });
  });
  const learned = new Promise<{ address: string; port: number }>((resolve) =>
    media.on('message', (msg, rinfo) => {
      if (classifyDatagram(msg) !== 'keepalive') return;
      const k = parseMediaKeepalive(msg);
      if (k.ok && online.some((o) => o.mediaToken === k.mediaToken)) resolve({ address: rinfo.address, port: rinfo.port });
    }),
  );
  const delivery = new LatencyHistogram(1000);
  const e = new LightEndpoint({ controlUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/v1/endpoints/control`, endpointId: 'e1', token: 'secret', codec: 'opus', delivery, alertHz: 1000 });
  t.teardown(() => {
    e.close();
    media.close();
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  e.start();
  const to = await learned;
  t.ok(e.online, 'welcomed');
  e.measuring = true;
  e.armed = true;

  // Frames stamped as due 30 ms before they are sent: every delivery latency is ≥ 30 ms.
  const enc = createEncoder('opus');
  t.teardown(() => enc.close());
  const pt = online[0].payloadType;
  const ts0 = 0xffff_0000;
  const now = () => performance.timeOrigin + performance.now();
  const t0 = now() - 30;
  const sr = buildSenderReport({ ssrc: 7, ntpMs: t0, rtpTimestamp: ts0, packetCount: 0, octetCount: 0, cname: 'x' });
  media.send(sr, to.port, to.address);
  await new Promise((r) => setTimeout(r, 20));
  const pcm = new Int16Array(FRAME_SAMPLES);
  const prog = new SineOscillator(440, 0.5);
  const alert = new SineOscillator(1000, 0.5);
  const buf = Buffer.alloc(1500);
  const frames = 40;
  const alertFrom = 25;
  for (let n = 0; n < frames; n++) {
    (n < alertFrom ? prog : alert).fill(pcm);
    const payload = enc.encode(pcm);
    const h = writeRtpHeader(buf, 0, { payloadType: pt, sequence: (65530 + n) & 0xffff, timestamp: (ts0 + n * 960) >>> 0, ssrc: 7, marker: n === 0 });
    const len = h + payload.copy(buf, h);
    // Send frame n at its due time + 30 ms (paced so the latencies stay meaningful).
    const wait = t0 + n * 20 + 30 - now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    media.send(Buffer.from(buf.subarray(0, len)), to.port, to.address);
  }
  await new Promise((r) => setTimeout(r, 100));
  t.ok(Number.isNaN(e.alertArrivalMs), 'nothing decoded on the receive path');
  e.findAlert();
  t.equal(e.received, frames, 'every packet counted');
  t.equal(e.expected, frames - 1, 'sequence advance across the 16-bit wrap (the first packet sets the base)');
  const s = delivery.summary();
  t.equal(s.count, frames);
  // Node timers run on libuv's cached millisecond clock and may fire up to ~1 ms early.
  t.ok(s.min >= 28.5, `no packet measured earlier than its due time + 30 ms (min ${s.min.toFixed(2)})`);
  t.ok(s.p50 >= 29, `median at least the 30 ms the frames were held back (${s.p50.toFixed(2)})`);
  t.ok(Number.isFinite(e.alertArrivalMs), 'the alert was heard');
  const frameOfAlert = Math.round((e.alertDueMs - t0) / 20);
  t.ok(frameOfAlert >= alertFrom && frameOfAlert <= alertFrom + 1, `first alert frame ${frameOfAlert} (sent from ${alertFrom})`);
});
