// The topology snapshot on disk: written whole (atomic replace), read back as written; a missing,
// torn or malformed file is reported with a reason, never thrown; an unchanged topology is not
// written again.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOPOLOGY_FILE, TopologySnapshotWriter, readTopologySnapshot } from '../../server/broadcast/topology-snapshot.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-topology-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const topology = {
  zones: [
    { id: 'zon_a', parentId: null },
    { id: 'zon_b', parentId: 'zon_a' },
  ],
  multicast: { zon_a: { address: '239.1.2.3', port: 5004, codec: 'pcmu' as const, ttl: 1 } },
  attachments: [{ key: 'fixed:zon_b:pcmu:10.0.0.7:5004', command: { endpointId: 'end_1', zoneId: 'zon_b', codec: 'pcmu' as const, address: { host: '10.0.0.7', port: 5004 } } }],
};

t.test('written, then read back as written; an unchanged topology is not written again', async (t) => {
  const dir = tempDir(t);
  const w = new TopologySnapshotWriter(dir, (err) => t.fail(String(err)));
  w.save(topology);
  await w.flushed();
  const read = await readTopologySnapshot(dir);
  t.ok(read.ok);
  if (read.ok) t.match(read.snapshot, { v: 1, ...topology });
  w.save(structuredClone(topology));
  await w.flushed();
  t.equal(w.writes, 1, 'the same content is not written twice');
  w.save({ ...topology, attachments: [] });
  await w.flushed();
  t.equal(w.writes, 2);
  t.same(readdirSync(dir), [TOPOLOGY_FILE], 'no temp file left behind');
});

t.test('missing, torn and malformed snapshots are reasons, not exceptions', async (t) => {
  const dir = tempDir(t);
  t.same(await readTopologySnapshot(dir), { ok: false, reason: 'missing' });
  const file = path.join(dir, TOPOLOGY_FILE);
  writeFileSync(file, '{"v":1,"zones":[{"id":');
  t.match(await readTopologySnapshot(dir), { ok: false, reason: /^corrupt: / }, 'torn JSON');
  writeFileSync(file, JSON.stringify({ v: 2, writtenAtMs: 1, ...topology }));
  t.match(await readTopologySnapshot(dir), { ok: false, reason: 'corrupt: not a version 1 snapshot' });
  const orphan = { ...topology, attachments: [{ ...topology.attachments[0], command: { ...topology.attachments[0].command, zoneId: 'zon_gone' } }] };
  writeFileSync(file, JSON.stringify({ v: 1, writtenAtMs: 1, ...orphan }));
  t.match(await readTopologySnapshot(dir), { ok: false, reason: 'corrupt: bad attachments' }, 'an attachment to a zone the snapshot does not have');
  writeFileSync(file, JSON.stringify({ v: 1, writtenAtMs: 1, ...topology, multicast: { zon_a: { address: '239.1.2.3' } } }));
  t.match(await readTopologySnapshot(dir), { ok: false, reason: 'corrupt: bad multicast groups' });
});
