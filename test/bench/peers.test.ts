import t from 'tap';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { ffmpegIcecastSourceArgs, icecastConfig, multiudpsinkArgs } from '../../bench/peers.js';
import { parseRtp } from '../../protocols/rtp/packet.js';

t.test('multiudpsink command: one encode, every client listed', async (t) => {
  const args = multiudpsinkArgs('opus', [
    { host: '127.0.0.1', port: 4000 },
    { host: '127.0.0.1', port: 4001 },
  ]);
  t.equal(args.filter((a) => a === 'opusenc').length, 1);
  t.ok(args.includes('is-live=true'), 'paced by the clock, not as fast as possible');
  t.equal(args.at(-1), 'clients=127.0.0.1:4000,127.0.0.1:4001');
  t.ok(multiudpsinkArgs('pcmu', [{ host: '127.0.0.1', port: 1 }]).includes('mulawenc'));
  t.throws(() => multiudpsinkArgs('opus', []));
});

t.test('icecast config and ffmpeg source', async (t) => {
  const xml = icecastConfig({ port: 8123, sourcePassword: 'pw', mount: '/m.opus', maxClients: 1000, dir: '/tmp/d' });
  t.match(xml, /<clients>1010<\/clients>/, 'room for every listener');
  t.match(xml, /<changeowner><user>icecast2<\/user>/, 'icecast2 refuses to run as root');
  t.match(xml, /<port>8123<\/port>/);
  t.match(xml, /<bind-address>127\.0\.0\.1<\/bind-address>/, 'loopback only');
  const f = ffmpegIcecastSourceArgs({ port: 8123, sourcePassword: 'pw', mount: '/m.opus' });
  t.equal(f.at(-1), 'icecast://source:pw@127.0.0.1:8123/m.opus');
  t.ok(f.includes('libopus'));
});

t.test('the multiudpsink pipeline really sends 20 ms Opus RTP to each client', async (t) => {
  const socks = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
  const got = socks.map(() => [] as Buffer[]);
  for (const [i, s] of socks.entries()) {
    s.on('message', (m) => got[i].push(m));
    s.bind(0, '127.0.0.1');
    await once(s, 'listening');
  }
  const gst = spawn('gst-launch-1.0', multiudpsinkArgs('opus', socks.map((s) => ({ host: '127.0.0.1', port: s.address().port }))), { stdio: 'ignore' });
  t.teardown(() => {
    gst.kill('SIGKILL');
    for (const s of socks) s.close();
  });
  const deadline = Date.now() + 15_000;
  while ((got[0].length < 11 || got[1].length < 11) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const g of got) {
    t.ok(g.length >= 10, `packets received (${g.length})`);
    // The first packet's step is opusenc's lookahead; after it, one frame per packet.
    const pkts = g.slice(1, 10).map((b) => parseRtp(b));
    t.equal(pkts[0].payloadType, 111);
    const steps = pkts.slice(1).map((p, i) => (p.timestamp - pkts[i].timestamp) >>> 0);
    t.ok(steps.every((s) => s === 960), `20 ms per packet (${steps.join(',')})`);
  }
});
