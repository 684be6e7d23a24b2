import t from 'tap';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { ImpairProxy } from '../../bench/impair-proxy.js';
import { decide, seededRandom } from '../../bench/udp-relay.js';

async function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

t.test('uplink passes untouched from the proxy; the downlink loses exactly what the seed says', async (t) => {
  const server = await udp();
  const agent = await udp();
  const imp = { lossPercent: 20, jitterMs: 0, delayMs: 0, duplicatePercent: 0 };
  const proxy = await ImpairProxy.open({ address: '127.0.0.1', port: server.address().port }, imp, 77);
  t.teardown(() => {
    proxy.close();
    server.close();
    agent.close();
  });
  const learned = once(server, 'message');
  agent.send(Buffer.from('keepalive'), proxy.port, '127.0.0.1');
  const [msg, rinfo] = (await learned) as [Buffer, dgram.RemoteInfo];
  t.equal(msg.toString(), 'keepalive');
  t.equal(rinfo.port, proxy.port, 'the server sees the proxy, so it sends there');

  const got: number[] = [];
  agent.on('message', (m, r) => {
    t.equal(r.port, proxy.port, 'downlink comes from the proxy');
    got.push(m.readUInt16BE(0));
  });
  const N = 200;
  for (let i = 0; i < N; i++) {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(i);
    server.send(b, rinfo.port, '127.0.0.1');
    if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
  }
  const random = seededRandom(77);
  const expected = Array.from({ length: N }, (_, i) => i).filter(() => decide(random, imp) !== undefined);
  const deadline = Date.now() + 5000;
  while (got.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 50));
  t.same(got.sort((a, b) => a - b), expected, 'the same datagrams dropped as UdpRelay would drop with that seed');
  t.equal(proxy.dropped, N - expected.length);
  t.ok(proxy.dropped > 20 && proxy.dropped < 60, `about 20 % dropped (${proxy.dropped})`);
});
