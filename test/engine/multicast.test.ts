import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { canCreateNamespace, multicastNamespace } from '../helpers/netns.js';

t.test('multicast: one group per zone, sent from the configured interface, inside a private netns', { skip: !canCreateNamespace ? 'needs root and iproute2 to create a network namespace (multicast is never sent from the root namespace)' : false }, (t) => {
  const ns = multicastNamespace(t, 'loa-eng');
  const child = fileURLToPath(new URL('./fixtures/multicast-child.ts', import.meta.url));
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', child], { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  t.equal(out.packets[0], 21, 'each member got every packet (20 frames + the fade-out)');
  t.ok(out.identical, 'both members got identical bytes');
  t.equal(out.encodes, 21, 'one packet per frame for the whole group');
  t.ok(out.freqs.length === 16 && out.freqs.every((f: number) => f === 1000), 'the tone arrives');
  t.same(out.errors, []);
  t.end();
});

t.test('multicast TTL per zone: each group is sent with its own TTL (tcpdump reads it)', { skip: !canCreateNamespace || spawnSync('tcpdump', ['--version']).status !== 0 ? 'needs root, iproute2 and tcpdump' : false }, async (t) => {
  const ns = multicastNamespace(t, 'loa-ttl');
  const dump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-nvl', '-i', 'lo', '-c', '40', 'udp and dst net 239.255.42.0/24'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  dump.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  const exited = new Promise((r) => dump.once('exit', r));
  t.teardown(() => void dump.kill('SIGKILL'));
  await new Promise<void>((resolve) => dump.stderr.on('data', (d: Buffer) => /listening on/.test(d.toString()) && resolve()));
  const child = fileURLToPath(new URL('./fixtures/multicast-ttl-child.ts', import.meta.url));
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', child], { encoding: 'utf8', timeout: 60_000, cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  t.ok(out.packets.every((n: number) => n >= 10), `both zones sent (${out.packets})`);
  t.same(out.errors, []);
  t.equal(out.counters.sendErrors, 0);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
  // "IP (tos 0x0, ttl 7, id 1, offset 0, flags [DF], proto UDP (17), length 200)\n    127.0.0.1.5 > 239.255.42.2.45682: UDP, length 172"
  const ttls = new Map<string, Set<number>>();
  for (const m of text.matchAll(/ttl (\d+),[^\n]*\n\s*[\d.]+ > (239\.255\.42\.\d+)\.\d+:/g)) {
    if (!ttls.has(m[2])) ttls.set(m[2], new Set());
    ttls.get(m[2])!.add(Number(m[1]));
  }
  t.same([...(ttls.get('239.255.42.1') ?? [])], [1], 'the default group goes with TTL 1');
  t.same([...(ttls.get('239.255.42.2') ?? [])], [7], 'the TTL 7 group goes with TTL 7');
});
