// Every route tried by every role, inside and outside the role's zone subtree. The expected
// answer comes from this file's own table (not from server code): allowed → the route's
// success status; readable but not allowed → 403 (404 where the route hides the resource);
// outside the subtree, or no grant at all → 404. Denied writes must change nothing.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes, createHash } from 'node:crypto';
import { buildTestApp, bearer, type TestApp } from '../helpers/app.js';
import { multipartBody, toneWav } from '../helpers/audio-files.js';
import { newId } from '../../server/ids.js';
import { mediaFilePath } from '../../server/media/store.js';
import type { Zone } from '../../server/db/types.js';

type RoleName = 'admin' | 'operator' | 'authority' | 'viewer' | 'none' | 'global';
/** 'any': every authenticated caller (lists filter instead of refusing; own account routes). */
type Need = 'any' | 'read' | 'zones' | 'endpoints' | 'media' | 'users';
type Place = 'inside' | 'outside';

/** What each role may do in its own subtree, written down independently of server/auth. */
const ALLOWED: Record<RoleName, readonly Need[]> = {
  global: ['read', 'zones', 'endpoints', 'media', 'users'],
  admin: ['read', 'zones', 'endpoints', 'media', 'users'],
  operator: ['read', 'endpoints', 'media'],
  authority: ['read'],
  viewer: ['read'],
  none: [],
};

interface Ctx {
  h: TestApp;
  /** The zone (in A's or B's subtree) the cell acts on, and its parent. */
  zone: Zone;
  parent: Zone;
  seed: number;
}

interface Request {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: unknown;
  headers?: Record<string, string>;
  /** Checked after a denied request: the target is unchanged. */
  unchanged?: () => Promise<boolean>;
}

interface RouteCase {
  name: string;
  need: Need;
  ok: number;
  /** Answer to a caller who can read the zone but lacks `need` (default 403). */
  denyInside?: number;
  make(c: Ctx): Promise<Request>;
}

async function endpointIn(c: Ctx) {
  const id = newId('endpoint');
  await c.h.database.db.insertInto('endpoints').values({ id, name: 'ep', zone_id: c.zone.id, kind: 'rtp', codecs: '["opus"]', credential_hash: 'scrypt$1$1$1$x$y' }).execute();
  return id;
}
async function mediaIn(c: Ctx) {
  const id = newId('media');
  const sha256 = createHash('sha256').update(randomBytes(16)).digest('hex');
  const file = mediaFilePath(c.h.config, sha256);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'RIFF-data');
  await c.h.database.db
    .insertInto('media')
    .values({ id, sha256, zone_id: c.zone.id, title: 't', filename: 't.wav', format: 'wav', codec: 'pcm_s16le', duration_ms: 500, size_bytes: 9, sample_rate: 48000, channels: 1 })
    .execute();
  return id;
}
async function userIn(c: Ctx) {
  return (await c.h.user([{ role: 'viewer', zoneId: c.zone.id }])).id;
}
const exists = (c: Ctx, table: 'zones' | 'endpoints' | 'media' | 'users', id: string) => async () =>
  (await c.h.database.db.selectFrom(table).select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

const ROUTES: RouteCase[] = [
  { name: 'GET /zones', need: 'any', ok: 200, make: async () => ({ method: 'GET', url: '/api/v1/zones' }) },
  { name: 'GET /endpoints', need: 'any', ok: 200, make: async () => ({ method: 'GET', url: '/api/v1/endpoints' }) },
  { name: 'GET /media', need: 'any', ok: 200, make: async () => ({ method: 'GET', url: '/api/v1/media' }) },
  { name: 'GET /users', need: 'any', ok: 200, make: async () => ({ method: 'GET', url: '/api/v1/users' }) },
  { name: 'GET /auth/me', need: 'any', ok: 200, make: async () => ({ method: 'GET', url: '/api/v1/auth/me' }) },
  { name: 'GET /auth/tokens', need: 'any', ok: 200, make: async () => ({ method: 'GET', url: '/api/v1/auth/tokens' }) },
  { name: 'POST /auth/tokens', need: 'any', ok: 201, make: async () => ({ method: 'POST', url: '/api/v1/auth/tokens', payload: { name: 'client' } }) },
  { name: 'GET /endpoints?zoneId', need: 'read', ok: 200, make: async (c) => ({ method: 'GET', url: `/api/v1/endpoints?zoneId=${c.zone.id}` }) },
  { name: 'GET /media?zoneId', need: 'read', ok: 200, make: async (c) => ({ method: 'GET', url: `/api/v1/media?zoneId=${c.zone.id}` }) },
  { name: 'GET /zones/:id', need: 'read', ok: 200, make: async (c) => ({ method: 'GET', url: `/api/v1/zones/${c.zone.id}` }) },
  {
    name: 'POST /zones',
    need: 'zones',
    ok: 201,
    make: async (c) => ({ method: 'POST', url: '/api/v1/zones', payload: { parentId: c.zone.id, kind: 'cluster', name: 'Cụm mới' } }),
  },
  {
    name: 'PATCH /zones/:id',
    need: 'zones',
    ok: 200,
    make: async (c) => ({
      method: 'PATCH',
      url: `/api/v1/zones/${c.zone.id}`,
      payload: { name: `renamed-${c.seed}` },
      unchanged: async () => (await c.h.database.db.selectFrom('zones').select('name').where('id', '=', c.zone.id).executeTakeFirstOrThrow()).name !== `renamed-${c.seed}`,
    }),
  },
  {
    name: 'POST /zones/:id/move',
    need: 'zones',
    ok: 200,
    make: async (c) => {
      const z = await c.h.zone(c.zone, 'to-move');
      return {
        method: 'POST',
        url: `/api/v1/zones/${z.id}/move`,
        payload: { parentId: c.parent.id },
        unchanged: async () => (await c.h.database.db.selectFrom('zones').select('parent_id').where('id', '=', z.id).executeTakeFirstOrThrow()).parent_id === c.zone.id,
      };
    },
  },
  {
    name: 'DELETE /zones/:id',
    need: 'zones',
    ok: 204,
    make: async (c) => {
      const z = await c.h.zone(c.zone, 'to-delete');
      return { method: 'DELETE', url: `/api/v1/zones/${z.id}`, unchanged: exists(c, 'zones', z.id) };
    },
  },
  { name: 'GET /endpoints/:id', need: 'read', ok: 200, make: async (c) => ({ method: 'GET', url: `/api/v1/endpoints/${await endpointIn(c)}` }) },
  {
    name: 'POST /endpoints',
    need: 'endpoints',
    ok: 201,
    make: async (c) => ({ method: 'POST', url: '/api/v1/endpoints', payload: { name: 'Loa mới', zoneId: c.zone.id, kind: 'rtp', codecs: ['opus'] } }),
  },
  {
    name: 'PATCH /endpoints/:id',
    need: 'endpoints',
    ok: 200,
    make: async (c) => {
      const id = await endpointIn(c);
      return {
        method: 'PATCH',
        url: `/api/v1/endpoints/${id}`,
        payload: { enabled: false },
        unchanged: async () => (await c.h.database.db.selectFrom('endpoints').select('enabled').where('id', '=', id).executeTakeFirstOrThrow()).enabled,
      };
    },
  },
  {
    name: 'POST /endpoints/:id/credential',
    need: 'endpoints',
    ok: 200,
    make: async (c) => {
      const id = await endpointIn(c);
      return {
        method: 'POST',
        url: `/api/v1/endpoints/${id}/credential`,
        unchanged: async () =>
          (await c.h.database.db.selectFrom('endpoints').select('credential_hash').where('id', '=', id).executeTakeFirstOrThrow()).credential_hash === 'scrypt$1$1$1$x$y',
      };
    },
  },
  {
    name: 'DELETE /endpoints/:id',
    need: 'endpoints',
    ok: 204,
    make: async (c) => {
      const id = await endpointIn(c);
      return { method: 'DELETE', url: `/api/v1/endpoints/${id}`, unchanged: exists(c, 'endpoints', id) };
    },
  },
  { name: 'GET /media/:id', need: 'read', ok: 200, make: async (c) => ({ method: 'GET', url: `/api/v1/media/${await mediaIn(c)}` }) },
  { name: 'GET /media/:id/file', need: 'read', ok: 200, make: async (c) => ({ method: 'GET', url: `/api/v1/media/${await mediaIn(c)}/file` }) },
  {
    name: 'POST /media',
    need: 'media',
    ok: 201,
    make: async (c) => {
      const body = multipartBody({ zoneId: c.zone.id, title: 'Bản tin' }, { name: 'tin.wav', data: toneWav(0.2, c.seed), type: 'audio/wav' });
      const count = async () => (await c.h.database.db.selectFrom('media').select('id').where('zone_id', '=', c.zone.id).execute()).length;
      const before = await count();
      return { method: 'POST', url: '/api/v1/media', payload: body.payload, headers: body.headers, unchanged: async () => (await count()) === before };
    },
  },
  {
    name: 'DELETE /media/:id',
    need: 'media',
    ok: 204,
    make: async (c) => {
      const id = await mediaIn(c);
      return { method: 'DELETE', url: `/api/v1/media/${id}`, unchanged: exists(c, 'media', id) };
    },
  },
  { name: 'GET /users/:id', need: 'users', ok: 200, denyInside: 404, make: async (c) => ({ method: 'GET', url: `/api/v1/users/${await userIn(c)}` }) },
  {
    name: 'POST /users',
    need: 'users',
    ok: 201,
    make: async (c) => ({
      method: 'POST',
      url: '/api/v1/users',
      payload: { username: `u${c.seed}`, password: 'password-123', roles: [{ role: 'viewer', zoneId: c.zone.id }] },
    }),
  },
  {
    name: 'PATCH /users/:id',
    need: 'users',
    ok: 200,
    denyInside: 404,
    make: async (c) => {
      const id = await userIn(c);
      return {
        method: 'PATCH',
        url: `/api/v1/users/${id}`,
        payload: { disabled: true },
        unchanged: async () => !(await c.h.database.db.selectFrom('users').select('disabled').where('id', '=', id).executeTakeFirstOrThrow()).disabled,
      };
    },
  },
  {
    name: 'DELETE /users/:id',
    need: 'users',
    ok: 204,
    denyInside: 404,
    make: async (c) => {
      const id = await userIn(c);
      return { method: 'DELETE', url: `/api/v1/users/${id}`, unchanged: exists(c, 'users', id) };
    },
  },
  {
    name: 'POST /users/:id/roles',
    need: 'users',
    ok: 201,
    denyInside: 404,
    make: async (c) => ({ method: 'POST', url: `/api/v1/users/${await userIn(c)}/roles`, payload: { role: 'operator', zoneId: c.zone.id } }),
  },
  {
    name: 'DELETE /users/:id/roles/:roleId',
    need: 'users',
    ok: 204,
    denyInside: 404,
    make: async (c) => {
      const id = await userIn(c);
      const grant = await c.h.database.db.selectFrom('role_assignments').select('id').where('user_id', '=', id).executeTakeFirstOrThrow();
      return {
        method: 'DELETE',
        url: `/api/v1/users/${id}/roles/${grant.id}`,
        unchanged: async () => (await c.h.database.db.selectFrom('role_assignments').select('id').where('id', '=', grant.id).executeTakeFirst()) !== undefined,
      };
    },
  },
];

function expected(role: RoleName, place: Place, route: RouteCase): number {
  if (role === 'global' || route.need === 'any') return route.ok;
  if (place === 'outside' || role === 'none') return 404;
  return ALLOWED[role].includes(route.need) ? route.ok : (route.denyInside ?? 403);
}

// One app and database for the file; each test builds its own zone tree in it.
const h = await buildTestApp(t);

t.test('role × route matrix', async (t) => {
  const root = await h.zone(null, 'Tỉnh', 'province');
  const a = await h.zone(root, 'Xã A', 'commune');
  const a1 = await h.zone(a, 'Thôn A1', 'village');
  const b = await h.zone(root, 'Xã B', 'commune');
  const b1 = await h.zone(b, 'Thôn B1', 'village');
  const roles: RoleName[] = ['global', 'admin', 'operator', 'authority', 'viewer', 'none'];
  const tokens = {} as Record<RoleName, string>;
  for (const r of roles) {
    const grants = r === 'none' ? [] : r === 'global' ? [{ role: 'admin' as const, zoneId: null }] : [{ role: r, zoneId: a.id }];
    tokens[r] = (await h.user(grants)).token;
  }
  let seed = 0;
  const started = Date.now();
  const mismatches: string[] = [];
  let cells = 0;
  for (const route of ROUTES) {
    for (const role of roles) {
      for (const place of ['inside', 'outside'] as Place[]) {
        const ctx: Ctx = place === 'inside' ? { h, zone: a1, parent: a, seed: ++seed } : { h, zone: b1, parent: b, seed: ++seed };
        const req = await route.make(ctx);
        const res = await h.app.inject({
          method: req.method,
          url: req.url,
          payload: req.payload as string | Buffer | object | undefined,
          headers: { ...bearer(tokens[role]), ...req.headers },
        });
        const want = expected(role, place, route);
        cells++;
        let problem = res.statusCode !== want ? `got ${res.statusCode} ${res.body.slice(0, 160)}` : '';
        if (!problem && want >= 400) {
          const body = res.json() as { error?: string; message?: string };
          if (!body.error || !body.message) problem = `error body lacks error/message: ${res.body}`;
          if (req.unchanged && !(await req.unchanged())) problem = 'denied request changed data';
        }
        if (problem) mismatches.push(`${route.name} as ${role} ${place}: want ${want}, ${problem}`);
      }
    }
  }
  t.comment(`${cells} cells in ${Date.now() - started} ms`);
  t.equal(cells, ROUTES.length * roles.length * 2, 'every cell tried');
  t.same(mismatches, [], 'every cell answered as the table says');
});

t.test('lists show exactly the caller’s subtree', async (t) => {
  const root = await h.zone(null, 'Tỉnh', 'province');
  const a = await h.zone(root, 'Xã A');
  const a1 = await h.zone(a, 'Thôn A1');
  const b = await h.zone(root, 'Xã B');
  const ctxA = { h, zone: a1, parent: a, seed: 1 };
  const ctxB = { h, zone: b, parent: root, seed: 2 };
  const epA = await endpointIn(ctxA);
  const epB = await endpointIn(ctxB);
  const mA = await mediaIn(ctxA);
  const mB = await mediaIn(ctxB);
  const uA = await userIn(ctxA);
  const uB = await userIn(ctxB);
  const inside = { zones: [a.id, a1.id], endpoints: [epA], media: [mA], users: [uA] };
  const outside = { zones: [root.id, b.id], endpoints: [epB], media: [mB], users: [uB] };
  for (const role of ['global', 'admin', 'operator', 'authority', 'viewer', 'none'] as RoleName[]) {
    const grants = role === 'none' ? [] : role === 'global' ? [{ role: 'admin' as const, zoneId: null }] : [{ role, zoneId: a.id }];
    const { token } = await h.user(grants);
    for (const list of ['zones', 'endpoints', 'media', 'users'] as const) {
      const res = await h.app.inject({ method: 'GET', url: `/api/v1/${list}`, headers: bearer(token) });
      t.equal(res.statusCode, 200, `${role} lists ${list}`);
      const ids = new Set((res.json() as { id: string }[]).map((x) => x.id));
      const need: Need = list === 'users' ? 'users' : 'read';
      const seesInside = role === 'global' || ALLOWED[role].includes(need);
      for (const id of inside[list]) t.equal(ids.has(id), seesInside, `${role}: ${list} inside ${seesInside ? 'shown' : 'hidden'}`);
      for (const id of outside[list]) t.equal(ids.has(id), role === 'global', `${role}: ${list} outside ${role === 'global' ? 'shown' : 'hidden'}`);
    }
  }
});

t.test('no token, a wrong token, an expired or disabled user: 401', async (t) => {
  const z = await h.zone(null);
  const { id, token } = await h.user([{ role: 'admin', zoneId: z.id }]);
  const get = (headers: Record<string, string>) => h.app.inject({ method: 'GET', url: '/api/v1/zones', headers });
  t.equal((await get({})).statusCode, 401);
  t.equal((await get(bearer('not-a-token'))).statusCode, 401);
  t.equal((await get({ authorization: `Basic ${token}` })).statusCode, 401);
  t.equal((await get(bearer(token))).statusCode, 200);
  // Through the API: rights are held in memory and reloaded by the routes that change them
  // (a change made straight in the database shows up at the next periodic reload).
  const admin = await h.user([{ role: 'admin', zoneId: null }]);
  t.equal((await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: bearer(admin.token), payload: { disabled: true } })).statusCode, 200);
  const res = await get(bearer(token));
  t.equal(res.statusCode, 401);
  t.equal(res.json().error, 'unauthorized');
  const other = await h.user([{ role: 'viewer', zoneId: z.id }]);
  await h.database.db.updateTable('tokens').set({ expires_at: new Date(Date.now() - 1000) }).where('user_id', '=', other.id).execute();
  t.equal((await get(bearer(other.token))).statusCode, 401, 'expired token');
});
