/**
 * Sends you can see: real send failures and a real full socket, each inside a
 * network namespace this test creates (never in the root namespace), through
 * both send backends (engine/send-backend.ts: sendmmsg and dgram).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadNativeSend } from '../../engine/send-backend.js';

const root = process.getuid?.() === 0;
const hasTools = spawnSync('ip', ['-V']).status === 0 && spawnSync('nft', ['--version']).status === 0;
const skip = !root || !hasTools ? 'needs root, iproute2 and nftables to create a network namespace' : false;
const cwd = fileURLToPath(new URL('../..', import.meta.url));
const run = (cmd: string, ...args: string[]): void => void execFileSync(cmd, args, { stdio: 'pipe' });
const addon = loadNativeSend();
const BACKENDS = [
  { backend: 'sendmmsg', skip: skip || (addon.native ? false : `the sendmmsg addon is not built here: ${addon.error}`) },
  { backend: 'dgram', skip },
] as const;

function child(backend: string, ns: string, file: string, ...args: string[]) {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const env = { ...process.env, LOA_SEND_BACKEND: backend };
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', path, ...args], { encoding: 'utf8', timeout: 120_000, cwd, env });
  return { status: r.status, stderr: r.stderr, out: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').at(-1)!) : undefined };
}

for (const { backend, skip } of BACKENDS) {
  t.test(`${backend}: send errors are counted per destination while the others keep receiving`, { skip }, (t) => {
    const ns = `loa-senderr-${backend}-${process.pid}`;
    run('ip', 'netns', 'add', ns);
    t.teardown(() => run('ip', 'netns', 'del', ns));
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    const blocked = 45_998; // RTP, and RTCP on the next port
    // A local drop on output makes sendmsg fail with EPERM (docs: impairment belongs on input; here we want the error).
    run('ip', 'netns', 'exec', ns, 'nft', `add table inet loa_t; add chain inet loa_t out { type filter hook output priority 0; policy accept; }; add rule inet loa_t out udp dport ${blocked}-${blocked + 1} drop`);
    const r = child(backend, ns, 'send-errors-child.ts', String(blocked));
    t.equal(r.status, 0, r.stderr);
    const o = r.out;
    t.equal(o.counters.sendBackend, backend, 'the engine sent through the backend asked for');
    const perDest = o.packets + o.senderReports;
    const ep = (id: string) => o.endpoints.find((e: { endpointId: string }) => e.endpointId === id);
    t.ok(o.packets >= 100, `the tone was sent (${o.packets} packets)`);
    t.equal(ep('unroutable').sendErrors, perDest, 'every RTP and RTCP datagram to the unroutable address counted');
    t.equal(ep('unroutable').lastSendError, 'ENETUNREACH');
    t.equal(ep('firewalled').sendErrors, perDest, 'every datagram the firewall refused counted');
    t.equal(ep('firewalled').lastSendError, 'EPERM');
    t.equal(ep('ok1').sendErrors, 0);
    t.equal(ep('ok2').sendErrors, 0);
    t.equal(o.counters.sendErrors, 2 * perDest, 'the total is the sum');
    t.same(o.received, [o.packets, o.packets], 'both reachable receivers got every packet');
    t.same(o.freqs, [[1000], [1000]], 'and hear the 1 kHz tone');
    t.ok(o.streamStats, 'stream stats were emitted');
    t.same(
      o.streamStats.failing.map((f: { key: string; lastError: string }) => [f.key, f.lastError]).sort(),
      [['firewalled', 'EPERM'], ['unroutable', 'ENETUNREACH']],
      'the stats event names the failing destinations',
    );
    t.ok(o.streamStats.sendErrors > 0);
    t.same(o.errors, []);
    t.end();
  });

  // With sendmmsg, a full socket buffer (EAGAIN) hands the rest of the fan-out to dgram's bounded queue.
  t.test(`${backend}: a full socket: the send queue stays bounded and no queued packet is overwritten`, { skip }, async (t) => {
    const [s, r] = [`loa-sq-s-${backend.slice(0, 2)}-${process.pid}`, `loa-sq-r-${backend.slice(0, 2)}-${process.pid}`];
    run('ip', 'netns', 'add', s);
    t.teardown(() => run('ip', 'netns', 'del', s));
    run('ip', 'netns', 'add', r);
    t.teardown(() => run('ip', 'netns', 'del', r));
    run('ip', '-n', s, 'link', 'set', 'lo', 'up');
    run('ip', '-n', r, 'link', 'set', 'lo', 'up');
    run('ip', '-n', s, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', r);
    run('ip', '-n', s, 'addr', 'add', '198.18.0.1/24', 'dev', 'v0');
    run('ip', '-n', r, 'addr', 'add', '198.18.0.2/24', 'dev', 'v1');
    run('ip', '-n', s, 'link', 'set', 'v0', 'up');
    run('ip', '-n', r, 'link', 'set', 'v1', 'up');
    // 200 kbit/s out of the sender's namespace; the stream needs 3 × 800 kbit/s.
    run('ip', 'netns', 'exec', s, 'tc', 'qdisc', 'add', 'dev', 'v0', 'root', 'tbf', 'rate', '200kbit', 'burst', '2000', 'limit', '20000');
    const ports = ['41000', '41002', '41004'];
    const collector = spawnAsync('ip', ['netns', 'exec', r, process.execPath, '--import', 'tsx', fixture('udp-collector.ts'), '2000', '60000', ...ports]);
    await collector.line((l) => l === 'ready');
    const sender = spawnAsync('ip', ['netns', 'exec', s, process.execPath, '--import', 'tsx', fixture('send-queue-child.ts'), '198.18.0.2', ...ports], backend);
    const [sent, got] = await Promise.all([sender.result(), collector.result()]);
    t.equal(sent.status, 0, sent.stderr);
    t.equal(got.status, 0, got.stderr);
    const o = sent.json;
    t.equal(o.sendBackend, backend);
    t.ok(o.dropped.every((d: number) => d > 0), `every destination had packets dropped at the limit (${o.dropped})`);
    t.equal(o.totalDropped, o.dropped.reduce((a: number, b: number) => a + b, 0), 'the total is the sum');
    t.ok(o.maxQueue <= o.maxQueuedSends + o.destinations, `the queue never held more than the limit + one fan-out (${o.maxQueue} ≤ ${o.maxQueuedSends} + ${o.destinations})`);
    t.equal(o.sendErrors, 0, 'a full queue is not a send error');
    const rtp = got.json.packets.map((p: { port: number; data: string }) => ({ port: p.port, b: Buffer.from(p.data, 'base64') })).filter((p: { b: Buffer }) => p.b[1] < 192 || p.b[1] > 223);
    t.ok(rtp.length >= 20, `packets got through the slow link (${rtp.length})`);
    let bad = 0;
    const seen = new Set<string>();
    for (const { port, b } of rtp) {
      const seq = b.readUInt16BE(2);
      const ts = b.readUInt32BE(4);
      const sha = createHash('sha1').update(b.subarray(12)).digest('hex');
      if (b.length > 1472 || b.readUInt32BE(8) !== o.ssrc || o.expected[ts] !== sha || seen.has(`${port}/${seq}`)) bad++;
      seen.add(`${port}/${seq}`);
    }
    t.equal(bad, 0, 'every packet that arrived carries exactly the audio of its timestamp, once');
  });
}

function fixture(file: string): string {
  return fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
}

/** A child process whose stdout lines can be awaited; result() parses its last line as JSON. */
function spawnAsync(cmd: string, args: string[], backend?: string) {
  const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: backend ? { ...process.env, LOA_SEND_BACKEND: backend } : process.env });
  let out = '';
  let err = '';
  const waiters: { test: (l: string) => boolean; resolve: () => void }[] = [];
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const l of d.split('\n')) for (const w of waiters.splice(0)) (w.test(l) ? w.resolve : () => waiters.push(w))();
  });
  p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const done = new Promise<{ status: number | null; stderr: string; json: any }>((resolve) =>
    p.on('close', (status) => {
      let json;
      try {
        json = JSON.parse(out.trim().split('\n').at(-1)!);
      } catch {
        json = undefined;
      }
      resolve({ status, stderr: err, json });
    }),
  );
  return {
    line: (test: (l: string) => boolean) => new Promise<void>((resolve) => waiters.push({ test, resolve })),
    result: () => done,
  };
}
