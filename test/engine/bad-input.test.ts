import { randomBytes } from 'node:crypto';
import t from 'tap';
import { PRIORITY } from '../../domain/priority.js';
import { buildMediaKeepalive } from '../../protocols/control/media-keepalive.js';
import { buildReceiverReport } from '../../protocols/rtp/rtcp.js';
import { harness } from './helpers.js';
import { receiver, until } from './udp.js';

t.test('hostile datagrams on the media port are dropped and counted; only the right token or SSRC moves a stream', async (t) => {
  const h = await harness();
  t.teardown(() => h.plane.close());
  const agent = await receiver();
  const ssrcAgent = await receiver();
  const attacker = await receiver();
  t.teardown(() => Promise.all([agent, ssrcAgent, attacker].map((r) => r.close())));
  const port = h.plane.rtpPort;
  h.plane.handle({ type: 'attachEndpoint', endpointId: 'tok', zoneId: 'v1', codec: 'opus', learn: { token: 'Secret_token-123' } });
  h.plane.handle({ type: 'attachEndpoint', endpointId: 'ss', zoneId: 'v2', codec: 'pcma', learn: { ssrc: 0xdecafbad } });

  const send = (from: typeof agent, b: Buffer): void => from.socket.send(b, port, '127.0.0.1');
  send(agent, buildMediaKeepalive('Secret_token-123'));
  send(ssrcAgent, buildReceiverReport({ ssrc: 0xdecafbad, reports: [] }));
  t.ok(await until(() => h.events.filter((e) => e.type === 'endpointAddress').length === 2), 'both learned');

  // Fuzz: random bytes, truncated and mangled RTCP, wrong keepalives.
  const hostile: Buffer[] = [Buffer.alloc(0), Buffer.from([0x80]), Buffer.from([0x80, 0xc8, 0xff, 0xff]), Buffer.from([0x6c, 0x6f, 0x61, 1, 60, 65])];
  hostile.push(Buffer.from([0x6c, 0x6f, 0x61, 9, 4, 65, 65, 65, 65]));
  const rr = buildReceiverReport({ ssrc: 0xdecafbad, reports: [] });
  hostile.push(rr.subarray(0, rr.length - 2));
  for (let i = 0; i < 300; i++) hostile.push(randomBytes(1 + (i % 120)));
  const before = h.plane.media.counters.received;
  // Paced: a burst of hundreds would overflow the socket's receive buffer (not what we test).
  for (let i = 0; i < hostile.length; i++) {
    send(attacker, hostile[i]);
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  // Spoofs: a guessed token and an unknown SSRC from the attacker's address.
  send(attacker, buildMediaKeepalive('Secret_token-124'));
  send(attacker, buildReceiverReport({ ssrc: 0x12345678, reports: [] }));
  const total = hostile.length + 2;
  t.ok(await until(() => h.plane.media.counters.received - before === total), 'all hostile datagrams processed');
  const c = h.plane.media.counters;
  t.ok(c.badPackets >= hostile.length - 10, `malformed counted (${c.badPackets})`);
  t.ok(c.unknownPackets >= 2, `unknown token/SSRC counted (${c.unknownPackets})`);
  t.equal(h.events.filter((e) => e.type === 'endpointAddress').length, 2, 'no address changed');

  // The streams still go to the real agents.
  h.plane.handle({ type: 'play', programmeId: 'p', zones: ['c1'], priority: PRIORITY.normal, source: { kind: 'tone', freqHz: 440 } });
  await h.run(10);
  t.ok(await until(() => agent.packets.length >= 11 && ssrcAgent.packets.length >= 11), 'agents receive their zone streams');
  t.equal(attacker.packets.length, 0, 'the attacker receives nothing');

  // Receiver reports from the token-learned address become endpoint statistics.
  const stream = h.plane.streamOf('v1', 'opus')!;
  send(agent, buildReceiverReport({ ssrc: 777, reports: [{ ssrc: stream.ssrc, fractionLost: 64, cumulativeLost: 3, extendedHighestSeq: 10, jitter: 480, lsr: 0, dlsr: 0 }] }));
  t.ok(await until(() => h.events.some((e) => e.type === 'endpointStats')));
  t.match(h.events.find((e) => e.type === 'endpointStats'), { endpointId: 'tok', fractionLost: 0.25, cumulativeLost: 3, jitterMs: 10 });
  t.equal(h.plane.clock.running, true, 'still running');
});
