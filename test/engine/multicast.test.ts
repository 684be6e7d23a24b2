import { spawnSync } from 'node:child_process';
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
