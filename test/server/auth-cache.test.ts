// The caller's rights come from memory (server/auth/auth-cache.ts), kept current by the routes
// that change them: a revoked token, a removed or added grant, a moved zone, a disabled user are
// refused or allowed on the very next request, without a restart. And a play is authorised
// without the database: with the auth tables locked by an open transaction, POST /playback
// still answers (201 inside the caller's scope, 404 outside), and the engine starts it.
import t from 'tap';
import { sql } from 'kysely';
import type { Zone } from '../../server/db/types.js';
import { startBroadcastServer, until } from '../integration/harness.js';

// A play that is not answered from the engine's event would wait this long (see playback-start.test.ts).
const s = await startBroadcastServer(t, { startWaitMs: 120_000 });
const province = await s.zone(null, 'Tỉnh');
const zoneA = await s.zone(province, 'Huyện A');
const zoneB = await s.zone(province, 'Huyện B');
const authority = await s.user([{ role: 'authority', zoneId: zoneA.id }]);

const started: string[] = [];
async function play(token: string, zone: Zone, priority = 'emergency') {
  const r = await s.api('POST', '/api/v1/playback', { zoneIds: [zone.id], source: { kind: 'tone', freqHz: 1000, durationMs: 60_000 }, priority }, token);
  if (r.status === 201) started.push(r.body.id);
  return r;
}
async function stopAll(): Promise<void> {
  for (const id of started.splice(0)) s.host.stop(id);
  await until(() => s.host.activeProgrammes().length === 0, 'every programme ended');
}

t.afterEach(stopAll);

t.test('a moved zone is in or out of scope on the next request', async (t) => {
  t.equal((await play(authority.token, zoneA)).status, 201, 'inside the grant');
  t.equal((await play(authority.token, zoneB)).status, 404, 'outside: does not exist for the caller');
  t.equal((await s.api('POST', `/api/v1/zones/${zoneB.id}/move`, { parentId: zoneA.id })).status, 200);
  t.equal((await play(authority.token, zoneB)).status, 201, 'moved under A: allowed at once');
  t.equal((await s.api('POST', `/api/v1/zones/${zoneB.id}/move`, { parentId: province.id })).status, 200);
  t.equal((await play(authority.token, zoneB)).status, 404, 'moved back out: refused at once');
});

t.test('a removed grant refuses, an added grant allows, on the next request', async (t) => {
  const u = await s.user([{ role: 'authority', zoneId: zoneA.id }]);
  t.equal((await play(u.token, zoneA)).status, 201);
  const user = (await s.api('GET', `/api/v1/users/${u.id}`)).body;
  t.equal((await s.api('DELETE', `/api/v1/users/${u.id}/roles/${user.roles[0].id}`)).status, 204);
  t.equal((await play(u.token, zoneA)).status, 404, 'grant removed: the zone is gone for them');
  t.equal((await s.api('POST', `/api/v1/users/${u.id}/roles`, { role: 'operator', zoneId: zoneA.id })).status, 201);
  t.equal((await play(u.token, zoneA, 'normal')).status, 201, 'operator grant: normal priority allowed');
  t.equal((await play(u.token, zoneA, 'emergency')).status, 403, 'but not emergency');
  t.equal((await s.api('POST', `/api/v1/users/${u.id}/roles`, { role: 'authority', zoneId: province.id })).status, 201);
  t.equal((await play(u.token, zoneB, 'emergency')).status, 201, 'authority on the province: emergency on B allowed');
});

t.test('a revoked token, a logout and a disabled user are refused on the next request', async (t) => {
  const u = await s.user([{ role: 'authority', zoneId: zoneA.id }]);
  const made = await s.api('POST', '/api/v1/auth/tokens', { name: 'siren box' }, u.token);
  t.equal(made.status, 201);
  t.equal((await play(made.body.token, zoneA)).status, 201, 'the API token works');
  t.equal((await s.api('DELETE', `/api/v1/auth/tokens/${made.body.id}`, undefined, u.token)).status, 204);
  t.equal((await play(made.body.token, zoneA)).status, 401, 'revoked: refused at once');

  const other = await s.user([{ role: 'viewer', zoneId: zoneA.id }]);
  t.equal((await s.api('GET', '/api/v1/auth/me', undefined, other.token)).status, 200);
  t.equal((await s.api('POST', '/api/v1/auth/logout', undefined, other.token)).status, 204);
  t.equal((await s.api('GET', '/api/v1/auth/me', undefined, other.token)).status, 401, 'logged out: refused at once');

  t.equal((await play(u.token, zoneA)).status, 201);
  t.equal((await s.api('PATCH', `/api/v1/users/${u.id}`, { disabled: true })).status, 200);
  t.equal((await play(u.token, zoneA)).status, 401, 'disabled: refused at once');
});

t.test('a play is authorised from memory while the database is held', async (t) => {
  // Known to the cache (a first request loads a token made behind the API's back).
  t.equal((await s.api('GET', '/api/v1/playback', undefined, authority.token)).status, 200);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  // Every table the old path read (tokens, users, grants, zones) is locked until the gate opens;
  // on the embedded database the open transaction also holds its only session.
  const held = s.database.db.transaction().execute(async (tx) => {
    await sql`lock table tokens, users, role_assignments, zones in access exclusive mode`.execute(tx);
    locked();
    await gate;
  });
  await isLocked;
  const stillHeld = (ms: number) => new Promise<'held'>((r) => setTimeout(() => r('held'), ms).unref());
  try {
    const inside = await Promise.race([play(authority.token, zoneA), stillHeld(30_000)]);
    t.not(inside, 'held', 'answered while the database was held');
    if (inside !== 'held') {
      t.equal(inside.status, 201);
      t.equal(inside.body.state, 'on-air', 'and the engine started it');
    }
    const outside = await Promise.race([play(authority.token, zoneB), stillHeld(30_000)]);
    t.not(outside, 'held', 'a refusal needs no database either');
    if (outside !== 'held') t.equal(outside.status, 404);
  } finally {
    release();
    await held;
  }
});
