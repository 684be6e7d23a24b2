/**
 * The two ways the fan-out reaches the kernel (engine/send-backend.ts): the
 * native sendmmsg addon and dgram.send. Same packets to real sockets, byte
 * for byte and in order, per destination; refused datagrams counted per
 * destination (EACCES: a broadcast address on a socket without SO_BROADCAST,
 * which needs no root); runs longer than one sendmmsg batch (256) and more
 * refusals than one call reports; the fallback chosen by the switch.
 * The namespace tests (EPERM, ENETUNREACH, a full socket) run on both
 * backends in sends.test.ts.
 */
import dgram, { type Socket } from 'node:dgram';
import t from 'tap';
import { Engine } from '../../engine/engine.js';
import { Fanout, MIN_QUEUED_SENDS, type Destination } from '../../engine/fanout.js';
import { chooseSendBackend, DGRAM_BACKEND, loadNativeSend, socketFd, type SendBackend } from '../../engine/send-backend.js';
import { receiver, until, type Receiver } from './udp.js';

const native = loadNativeSend();
const NATIVE: SendBackend | undefined = native.native ? { name: 'sendmmsg', native: native.native, reason: null } : undefined;
const skipNative = NATIVE ? false : `the sendmmsg addon is not built here: ${native.error}`;
const BACKENDS: [string, SendBackend | undefined][] = [
  ['sendmmsg', NATIVE],
  ['dgram', DGRAM_BACKEND],
];

/** IP literals answered at once, as the engine's sockets do (engine/literal-lookup.ts): dgram then reads the buffer during send(). */
const literal = (family: 4 | 6) => (host: string, _o: unknown, cb: (err: null, address: string, family: number) => void) => cb(null, host, family);

async function udpSocket(type: 'udp4' | 'udp6', host: string): Promise<Socket> {
  const s = dgram.createSocket({ type, lookup: literal(type === 'udp4' ? 4 : 6) as never });
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return s;
}

function fanout(backend: SendBackend) {
  const totals = { sendErrors: 0, sendDropped: 0 };
  return { f: new Fanout({ maxQueued: MIN_QUEUED_SENDS, totals, backend }), totals };
}

const dest = (key: string, host: string, port: number, socket: Socket): Destination => ({ key, host, port, rtcpPort: port, socket });

/** Packet i: its number, then bytes that depend on it, of a length that varies. */
function packet(buf: Buffer, i: number): number {
  const len = 12 + ((i * 37) % 300);
  buf.writeUInt32BE(i, 0);
  for (let k = 4; k < len; k++) buf[k] = (i * 7 + k) & 0xff;
  return len;
}

t.test('both backends deliver the same bytes, per destination and in order (IPv4 and IPv6)', async (t) => {
  const results: Record<string, Buffer[][]> = {};
  for (const [name, backend] of BACKENDS) {
    if (!backend) {
      t.comment(`${name} skipped: ${skipNative}`);
      continue;
    }
    const v4 = await udpSocket('udp4', '127.0.0.1');
    const v6 = await udpSocket('udp6', '::1');
    const rx: Receiver[] = [await receiver(), await receiver(), await receiver()];
    const rx6 = dgram.createSocket('udp6');
    const got6: Buffer[] = [];
    rx6.on('message', (m) => got6.push(Buffer.from(m)));
    await new Promise<void>((r) => rx6.bind(0, '::1', () => r()));
    t.teardown(async () => {
      for (const r of rx) await r.close();
      rx6.close();
      v4.close();
      v6.close();
    });
    const { f, totals } = fanout(backend);
    t.equal(f.backend, name);
    rx.forEach((r, i) => f.set(dest(`e${i}`, '127.0.0.1', r.port, v4)));
    f.set(dest('v6', '::1', rx6.address().port, v6));
    // One buffer written again for every packet, as a stream's ring does when no send is queued.
    let buf = Buffer.alloc(400);
    const packets = 200;
    for (let i = 0; i < packets; i++) {
      const len = packet(buf, i);
      if (f.send(buf, len)) buf = Buffer.alloc(400);
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5)); // let the receivers read
    }
    t.ok(await until(() => rx.every((r) => r.packets.length >= packets) && got6.length >= packets, 20_000), `${name}: every destination got ${packets} packets`);
    t.equal(totals.sendErrors, 0);
    t.equal(f.sent, 4 * packets);
    results[name] = [...rx.map((r) => r.packets), got6];
    // Byte-exact against what was written, in order.
    const expected = Array.from({ length: packets }, (_, i) => {
      const b = Buffer.alloc(400);
      return b.subarray(0, packet(b, i));
    });
    results[name].forEach((got, d) => t.ok(got.length === packets && got.every((b, i) => b.equals(expected[i])), `${name}: destination ${d} got every packet intact and in order`));
  }
  if (results.sendmmsg && results.dgram) t.same(results.sendmmsg, results.dgram, 'the two backends delivered identical streams');
});

for (const [name, backend] of BACKENDS) {
  t.test(`${name}: refused datagrams are counted per destination, the others still go`, { skip: backend ? false : skipNative }, async (t) => {
    const s = await udpSocket('udp4', '127.0.0.1');
    // Six receivers of 50 destinations each: a burst of 300 datagrams into one socket
    // would overflow its receive buffer (≈ 1 KB of it per small datagram).
    const rx: Receiver[] = [];
    for (let k = 0; k < 6; k++) rx.push(await receiver());
    t.teardown(async () => {
      for (const r of rx) await r.close();
      s.close();
    });
    const received = () => rx.reduce((a, r) => a + r.packets.length, 0);
    const { f, totals } = fanout(backend!);
    // 600 destinations: 300 to real receivers (their packets count the deliveries), 300 to a
    // broadcast address the socket may not send to (EACCES), interleaved: longer than one
    // sendmmsg batch (256), and more refusals than one call reports (256).
    for (let i = 0; i < 600; i++) f.set(i % 2 === 0 ? dest(`ok${i}`, '127.0.0.1', rx[(i >> 1) % 6].port, s) : dest(`bc${i}`, '127.255.255.255', 9, s));
    const frames = 3;
    for (let n = 0; n < frames; n++) {
      const buf = Buffer.alloc(32, n);
      f.send(buf, buf.length);
      await until(() => received() >= 300 * (n + 1), 20_000);
    }
    f.sendRtcp(Buffer.alloc(28, 0x80));
    t.ok(await until(() => totals.sendErrors >= 300 * (frames + 1) && received() >= 300 * (frames + 1), 20_000));
    t.equal(received(), 300 * (frames + 1), 'every reachable destination got every RTP packet and the RTCP report');
    t.ok(rx.every((r) => r.packets.length === 50 * (frames + 1)), 'each receiver its share');
    t.equal(totals.sendErrors, 300 * (frames + 1), 'one error per refused datagram, RTP and RTCP');
    t.equal(f.sendErrors, totals.sendErrors);
    const ok = f.statsOf('ok10')!;
    const bad = f.statsOf('bc11')!;
    t.same([ok.errors, ok.lastError], [0, null]);
    t.same([bad.errors, bad.lastError], [frames + 1, 'EACCES'], 'the refused destination: its own count and errno');
    t.equal(f.failing(1000).length, 300, 'every refused destination is listed as failing, and only those');
    t.equal(totals.sendDropped, 0);
  });
}

t.test('a destination removed or replaced: the address records follow', { skip: skipNative }, async (t) => {
  const s = await udpSocket('udp4', '127.0.0.1');
  const [a, b] = [await receiver(), await receiver()];
  t.teardown(async () => {
    await a.close();
    await b.close();
    s.close();
  });
  const { f } = fanout(NATIVE!);
  f.set(dest('x', '127.0.0.1', a.port, s));
  f.send(Buffer.from('one'), 3);
  f.set(dest('x', '127.0.0.1', b.port, s)); // the endpoint moved
  f.send(Buffer.from('two'), 3);
  f.remove('x');
  f.send(Buffer.from('three'), 5);
  await until(() => a.packets.length >= 1 && b.packets.length >= 1);
  await new Promise((r) => setTimeout(r, 50));
  t.same(
    [a.packets.map(String), b.packets.map(String)],
    [['one'], ['two']],
  );
});

t.test('a closed socket is never written through its old descriptor number', { skip: skipNative }, async (t) => {
  const s = await udpSocket('udp4', '127.0.0.1');
  t.ok(socketFd(s) >= 0);
  await new Promise<void>((r) => s.close(() => r()));
  t.equal(socketFd(s), -1, 'no descriptor once closed: the send goes to dgram, which reports it');
});

t.test('the switch: LOA_SEND_BACKEND=dgram forces the fallback, and says so', async (t) => {
  const forced = chooseSendBackend({ LOA_SEND_BACKEND: 'dgram' });
  t.same([forced.name, forced.native, forced.reason], ['dgram', null, 'forced (LOA_SEND_BACKEND=dgram)']);
  const auto = chooseSendBackend({});
  if (native.native) t.same([auto.name, auto.reason], ['sendmmsg', null], 'the addon when it loads');
  else t.same([auto.name, auto.reason], ['dgram', native.error], 'without the addon: dgram, with the reason');
  t.throws(() => chooseSendBackend({ LOA_SEND_BACKEND: 'sendmsg' }), /LOA_SEND_BACKEND must be auto, sendmmsg or dgram \(got "sendmsg"\)/, 'a wrong value is refused, naming the setting');
});

t.test('the media worker reports its backend at start and in its status', async (t) => {
  const before = process.env.LOA_SEND_BACKEND;
  t.teardown(() => {
    if (before === undefined) delete process.env.LOA_SEND_BACKEND;
    else process.env.LOA_SEND_BACKEND = before;
  });
  for (const want of ['dgram', 'auto'] as const) {
    // A worker thread gets a copy of process.env as it is when the thread starts.
    if (want === 'dgram') process.env.LOA_SEND_BACKEND = 'dgram';
    else delete process.env.LOA_SEND_BACKEND;
    const engine = await Engine.start({ rtpPort: 0, rtpHost: '127.0.0.1' });
    try {
      const expected = want === 'dgram' || !native.native ? 'dgram' : 'sendmmsg';
      t.equal(engine.sendBackend.name, expected, `${want}: the ready event names ${expected}`);
      if (want === 'dgram') t.equal(engine.sendBackend.reason, 'forced (LOA_SEND_BACKEND=dgram)');
      const status = await engine.status();
      t.equal(status.counters.sendBackend, expected, 'and the status counters');
    } finally {
      await engine.close();
    }
  }
});
