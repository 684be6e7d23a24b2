/**
 * Sends you can see: real send failures and a real full socket, each inside a
 * network namespace this test creates (never in the root namespace).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = process.getuid?.() === 0;
const hasTools = spawnSync('ip', ['-V']).status === 0 && spawnSync('nft', ['--version']).status === 0;
const skip = !root || !hasTools ? 'needs root, iproute2 and nftables to create a network namespace' : false;
const cwd = fileURLToPath(new URL('../..', import.meta.url));
const run = (cmd: string, ...args: string[]): void => void execFileSync(cmd, args, { stdio: 'pipe' });

function child(ns: string, file: string, ...args: string[]) {
  const path = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', path, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
  return { status: r.status, stderr: r.stderr, out: r.status === 0 ? JSON.parse(r.stdout.trim().split('\n').at(-1)!) : undefined };
}

t.test('send errors are counted per destination while the others keep receiving', { skip }, (t) => {
  const ns = `loa-senderr-${process.pid}`;
  run('ip', 'netns', 'add', ns);
  t.teardown(() => run('ip', 'netns', 'del', ns));
  run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  const blocked = 45_998; // RTP, and RTCP on the next port
  // A local drop on output makes sendmsg fail with EPERM (docs: impairment belongs on input; here we want the error).
  run('ip', 'netns', 'exec', ns, 'nft', `add table inet loa_t; add chain inet loa_t out { type filter hook output priority 0; policy accept; }; add rule inet loa_t out udp dport ${blocked}-${blocked + 1} drop`);
  const r = child(ns, 'send-errors-child.ts', String(blocked));
  t.equal(r.status, 0, r.stderr);
  const o = r.out;
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
