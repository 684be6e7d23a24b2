// Moving and deleting zones keeps the tree consistent: no cycles, every path equals the
// chain of parent ids, cascades remove exactly the subtree.
import t, { type Test } from 'tap';
import { buildTestApp, bearer } from '../helpers/app.js';
import type { Zone } from '../../server/db/types.js';

const h = await buildTestApp(t);
const admin = await h.user([{ role: 'admin', zoneId: null }]);
const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  h.app.inject({ method, url: `/api/v1${url}`, payload, headers: bearer(admin.token) });

/** Every zone's path must be its parent's path plus its own id. */
async function assertTreeConsistent(t: Test) {
  const zones = await h.database.db.selectFrom('zones').selectAll().execute();
  const byId = new Map(zones.map((z) => [z.id, z]));
  const bad: string[] = [];
  for (const z of zones) {
    const expected = z.parent_id === null ? `/${z.id}/` : `${byId.get(z.parent_id)?.path}${z.id}/`;
    if (z.path !== expected) bad.push(`${z.name}: ${z.path} != ${expected}`);
    // Walking up must end at a root without revisiting anything.
    const seen = new Set<string>();
    for (let cur: Zone | undefined = z; cur; cur = cur.parent_id ? byId.get(cur.parent_id) : undefined) {
      if (seen.has(cur.id)) {
        bad.push(`${z.name}: cycle`);
        break;
      }
      seen.add(cur.id);
    }
  }
  t.same(bad, [], 'tree consistent');
}

async function create(parentId: string | null, name: string): Promise<Zone & { parentId: string | null }> {
  const res = await api('POST', '/zones', { parentId, kind: 'zone', name });
  if (res.statusCode !== 201) throw new Error(`create ${name}: ${res.body}`);
  return res.json();
}

t.test('create inherits the parent time zone and builds paths', async (t) => {
  const root = await create(null, 'P');
  const tz = await api('PATCH', `/zones/${root.id}`, { timeZone: 'Asia/Bangkok' });
  t.equal(tz.statusCode, 200);
  const child = await create(root.id, 'C');
  t.equal((child as unknown as { timeZone: string }).timeZone, 'Asia/Bangkok', 'inherited');
  t.equal(child.path, `/${root.id}/${child.id}/`);
  const bad = await api('PATCH', `/zones/${child.id}`, { timeZone: 'Mars/Olympus' });
  t.equal(bad.statusCode, 400);
  t.match(bad.json().message, /Mars\/Olympus/);
  await assertTreeConsistent(t);
});

t.test('move rewrites the whole subtree and refuses cycles', async (t) => {
  const p = await create(null, 'Tỉnh');
  const d1 = await create(p.id, 'Huyện 1');
  const d2 = await create(p.id, 'Huyện 2');
  const c = await create(d1.id, 'Xã');
  const v = await create(c.id, 'Thôn');
  const k = await create(v.id, 'Cụm');

  const moved = await api('POST', `/zones/${c.id}/move`, { parentId: d2.id });
  t.equal(moved.statusCode, 200);
  t.equal(moved.json().path, `/${p.id}/${d2.id}/${c.id}/`);
  const deep = (await api('GET', `/zones/${k.id}`)).json();
  t.equal(deep.path, `/${p.id}/${d2.id}/${c.id}/${v.id}/${k.id}/`, 'grandchild path follows');
  await assertTreeConsistent(t);

  for (const target of [c.id, v.id, k.id]) {
    const res = await api('POST', `/zones/${c.id}/move`, { parentId: target });
    t.equal(res.statusCode, 409, `move into ${target === c.id ? 'itself' : 'a descendant'} refused`);
    t.equal(res.json().error, 'zone_cycle');
  }
  t.equal((await api('POST', `/zones/${c.id}/move`, { parentId: 'zon_nothere' })).statusCode, 404);
  const toRoot = await api('POST', `/zones/${v.id}/move`, { parentId: null });
  t.equal(toRoot.statusCode, 200);
  t.equal(toRoot.json().path, `/${v.id}/`);
  t.equal((await api('GET', `/zones/${k.id}`)).json().path, `/${v.id}/${k.id}/`);
  await assertTreeConsistent(t);

  // Concurrent crossing moves (a under b, b under a) must not both succeed into a cycle.
  const a = await create(null, 'A');
  const b = await create(null, 'B');
  const [r1, r2] = await Promise.all([api('POST', `/zones/${a.id}/move`, { parentId: b.id }), api('POST', `/zones/${b.id}/move`, { parentId: a.id })]);
  t.same([r1.statusCode, r2.statusCode].sort(), [200, 409], 'one crossing move wins, the other is a cycle');
  await assertTreeConsistent(t);
});

t.test('delete refuses a non-empty zone, cascade removes exactly the subtree', async (t) => {
  const p = await create(null, 'Tỉnh X');
  const c = await create(p.id, 'Xã X');
  const v = await create(c.id, 'Thôn X');
  const sibling = await create(p.id, 'Xã Y');
  const ep = await api('POST', '/endpoints', { name: 'Loa', zoneId: v.id, kind: 'rtp' });
  t.equal(ep.statusCode, 201);
  const epSibling = await api('POST', '/endpoints', { name: 'Loa Y', zoneId: sibling.id, kind: 'sip', codecs: ['pcmu'] });

  const refused = await api('DELETE', `/zones/${c.id}`);
  t.equal(refused.statusCode, 409);
  t.equal(refused.json().error, 'zone_not_empty');
  t.match(refused.json().message, /cascade=true/);
  t.equal((await api('GET', `/zones/${v.id}`)).statusCode, 200, 'nothing removed');

  const cascaded = await api('DELETE', `/zones/${c.id}?cascade=true`);
  t.equal(cascaded.statusCode, 204);
  for (const id of [c.id, v.id]) t.equal((await api('GET', `/zones/${id}`)).statusCode, 404, 'subtree gone');
  t.equal((await api('GET', `/endpoints/${ep.json().endpoint.id}`)).statusCode, 404, 'its endpoints gone');
  t.equal((await api('GET', `/zones/${sibling.id}`)).statusCode, 200, 'sibling kept');
  t.equal((await api('GET', `/endpoints/${epSibling.json().endpoint.id}`)).statusCode, 200, 'sibling endpoint kept');
  t.equal((await api('DELETE', `/zones/${sibling.id}?cascade=false`)).statusCode, 409);
  const leaf = await create(p.id, 'Leaf');
  t.equal((await api('DELETE', `/zones/${leaf.id}`)).statusCode, 204, 'an empty zone deletes without cascade');
  await assertTreeConsistent(t);
});
