// The HTTP surface as a client meets it: errors in one shape and the caller's language,
// malformed requests answered with 4xx (never a crash), login and tokens, OpenAPI.
import t from 'tap';
import { Writable } from 'node:stream';
import { buildTestApp, bearer } from '../helpers/app.js';
import { hashSecret } from '../../server/auth/password.js';
import { newId } from '../../server/ids.js';
import { verifyEndpointCredential } from '../../server/auth/endpoint-credential.js';
import { createLogger, REDACTED } from '../../server/logger.js';
import { pickLang } from '../../server/i18n.js';

const h = await buildTestApp(t);
const root = await h.zone(null, 'Tỉnh');
const admin = await h.user([{ role: 'admin', zoneId: null }]);
const json = { 'content-type': 'application/json' };

t.test('malformed requests get 400 naming the field, in the caller’s language', async (t) => {
  const post = (payload: string, lang?: string) =>
    h.app.inject({ method: 'POST', url: '/api/v1/zones', payload, headers: { ...json, ...bearer(admin.token), ...(lang ? { 'accept-language': lang } : {}) } });

  const bad = await post('{"parentId": null, "kind": ');
  t.equal(bad.statusCode, 400);
  t.same(Object.keys(bad.json()).sort(), ['error', 'message']);
  t.equal(bad.json().error, 'bad_json');
  t.match(bad.json().message, /JSON/);

  const wrongType = await post(JSON.stringify({ parentId: null, kind: 'commune', name: 42 }), 'en-US,en;q=0.9');
  t.equal(wrongType.statusCode, 400);
  t.equal(wrongType.json().error, 'validation');
  t.match(wrongType.json().message, /body\.name/);
  t.match(wrongType.json().message, /must be string/);

  const missing = await post(JSON.stringify({ parentId: null, name: 'x' }), 'vi');
  t.equal(missing.statusCode, 400);
  t.match(missing.json().message, /^Dữ liệu không hợp lệ ở “body\.kind”/, 'Vietnamese, names the missing field');

  const numberAsString = await h.app.inject({
    method: 'POST',
    url: '/api/v1/endpoints',
    payload: { name: 'x', zoneId: root.id, kind: 'rtp', port: '5004' },
    headers: bearer(admin.token),
  });
  t.equal(numberAsString.statusCode, 400, 'no silent coercion of "5004" into a number');
  t.match(numberAsString.json().message, /body\.port/);

  const extra = await post(JSON.stringify({ parentId: null, kind: 'x', name: 'y', admin: true }));
  t.equal(extra.statusCode, 400, 'unknown properties refused');

  const badCodec = await h.app.inject({ method: 'POST', url: '/api/v1/endpoints', payload: { name: 'x', zoneId: root.id, kind: 'rtp', codecs: ['mp3'] }, headers: bearer(admin.token) });
  t.equal(badCodec.statusCode, 400);
  t.match(badCodec.json().message, /mp3/);

  const empty = await h.app.inject({ method: 'POST', url: '/api/v1/zones', payload: '', headers: { ...json, ...bearer(admin.token) } });
  t.equal(empty.statusCode, 400);

  const xml = await h.app.inject({ method: 'POST', url: '/api/v1/zones', payload: '<zone/>', headers: { 'content-type': 'application/xml', ...bearer(admin.token) } });
  t.equal(xml.statusCode, 415);
  t.equal(xml.json().error, 'unsupported_media_type');

  const huge = await post(JSON.stringify({ parentId: null, kind: 'x', name: 'y'.repeat(2 * 1024 * 1024) }));
  t.equal(huge.statusCode, 413);
  t.equal(huge.json().error, 'too_large');

  const nowhere = await h.app.inject({ method: 'GET', url: '/api/v1/nothing', headers: { 'accept-language': 'en' } });
  t.equal(nowhere.statusCode, 404);
  t.match(nowhere.json().message, /no route GET \/api\/v1\/nothing/);

  const missingZone = await h.app.inject({ method: 'GET', url: '/api/v1/zones/zon_none', headers: { ...bearer(admin.token), 'accept-language': 'en' } });
  t.equal(missingZone.statusCode, 404);
  t.equal(missingZone.json().message, 'No zone “zon_none” was found.');

  // Still serving after all of that.
  t.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});

t.test('Accept-Language picking', async (t) => {
  t.equal(pickLang(undefined, 'vi'), 'vi');
  t.equal(pickLang('en-GB', 'vi'), 'en');
  t.equal(pickLang('fr, en;q=0.5, vi;q=0.8', 'en'), 'vi');
  t.equal(pickLang('de', 'en'), 'en');
  t.equal(pickLang('vi;q=0, en', 'vi'), 'en');
});

t.test('login, me, API tokens, logout', async (t) => {
  await h.database.db
    .insertInto('users')
    .values({ id: newId('user'), username: 'commune-op', display_name: 'Cán bộ xã', password_hash: await hashSecret('correct horse') })
    .execute();
  const login = (password: string, username = 'commune-op') =>
    h.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
  const wrong = await login('wrong horse');
  t.equal(wrong.statusCode, 401);
  t.equal(wrong.json().error, 'login_failed');
  t.equal((await login('x', 'nobody')).statusCode, 401, 'unknown user answers the same');
  const ok = await login('correct horse');
  t.equal(ok.statusCode, 200);
  const { token, user } = ok.json();
  t.equal(user.username, 'commune-op');
  t.notOk('passwordHash' in user || 'password_hash' in user, 'no hash in the answer');
  const me = await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
  t.equal(me.json().displayName, 'Cán bộ xã');

  const created = await h.app.inject({ method: 'POST', url: '/api/v1/auth/tokens', payload: { name: 'OBS', expiresInDays: 30 }, headers: bearer(token) });
  t.equal(created.statusCode, 201);
  const api = created.json();
  t.match(api.token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  const stored = await h.database.db.selectFrom('tokens').select('hash').where('id', '=', api.id).executeTakeFirstOrThrow();
  t.not(stored.hash, api.token, 'only a hash is stored');
  t.equal((await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(api.token) })).statusCode, 200, 'API token works');
  const list = await h.app.inject({ method: 'GET', url: '/api/v1/auth/tokens', headers: bearer(token) });
  t.same(list.json().map((x: { kind: string }) => x.kind).sort(), ['api', 'session']);
  t.notOk(list.body.includes(api.token), 'tokens are never listed');
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${api.id}`, headers: bearer(token) })).statusCode, 204);
  t.equal((await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(api.token) })).statusCode, 401, 'revoked');
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/auth/tokens/${api.id}`, headers: bearer(admin.token) })).statusCode, 404);

  t.equal((await h.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(token) })).statusCode, 204);
  t.equal((await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })).statusCode, 401, 'logged out');
});

t.test('endpoint credential: shown once, verifiable, regenerated', async (t) => {
  const created = await h.app.inject({ method: 'POST', url: '/api/v1/endpoints', payload: { name: 'Loa 1', zoneId: root.id, kind: 'rtp' }, headers: bearer(admin.token) });
  t.equal(created.statusCode, 201);
  const { endpoint, credential } = created.json();
  t.same(endpoint.codecs, ['opus', 'pcmu']);
  t.ok(await verifyEndpointCredential(h.database.db, endpoint.id, credential), 'the credential verifies');
  t.notOk(await verifyEndpointCredential(h.database.db, endpoint.id, credential + 'x'), 'a wrong one does not');
  t.notOk(await verifyEndpointCredential(h.database.db, 'ept_none', credential), 'unknown endpoint');
  const got = await h.app.inject({ method: 'GET', url: `/api/v1/endpoints/${endpoint.id}`, headers: bearer(admin.token) });
  t.notOk(got.body.includes('credential') || got.body.includes('scrypt'), 'never shown again');
  const regen = await h.app.inject({ method: 'POST', url: `/api/v1/endpoints/${endpoint.id}/credential`, headers: bearer(admin.token) });
  t.equal(regen.statusCode, 200);
  t.notOk(await verifyEndpointCredential(h.database.db, endpoint.id, credential), 'old credential revoked');
  t.ok(await verifyEndpointCredential(h.database.db, endpoint.id, regen.json().credential), 'new one verifies');
  await h.app.inject({ method: 'PATCH', url: `/api/v1/endpoints/${endpoint.id}`, payload: { enabled: false }, headers: bearer(admin.token) });
  t.notOk(await verifyEndpointCredential(h.database.db, endpoint.id, regen.json().credential), 'disabled endpoint refused');
});

t.test('users: an admin grants only inside its subtree', async (t) => {
  const a = await h.zone(root, 'Xã A');
  const b = await h.zone(root, 'Xã B');
  const zoneAdmin = await h.user([{ role: 'admin', zoneId: a.id }]);
  const create = (roles: { role: string; zoneId: string | null }[], username: string) =>
    h.app.inject({ method: 'POST', url: '/api/v1/users', payload: { username, password: 'password-1', roles }, headers: bearer(zoneAdmin.token) });
  t.equal((await create([{ role: 'operator', zoneId: a.id }], 'op-a')).statusCode, 201);
  t.equal((await create([{ role: 'operator', zoneId: b.id }], 'op-b')).statusCode, 404, 'zone B is invisible');
  t.equal((await create([{ role: 'operator', zoneId: root.id }], 'op-root')).statusCode, 404, 'the parent is invisible too');
  t.equal((await create([{ role: 'admin', zoneId: null }], 'op-all')).statusCode, 403, 'no global grants');
  t.equal((await create([], 'op-none')).statusCode, 403, 'no grant-less users');
  t.equal((await create([{ role: 'viewer', zoneId: a.id }], 'op-a')).statusCode, 409, 'username taken');
  const mixed = await h.user([{ role: 'viewer', zoneId: a.id }, { role: 'viewer', zoneId: b.id }]);
  const patch = await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${mixed.id}`, payload: { disabled: true }, headers: bearer(zoneAdmin.token) });
  t.equal(patch.statusCode, 403, 'cannot disable a user who also holds grants elsewhere');
  const self = await h.app.inject({ method: 'PATCH', url: `/api/v1/users/${zoneAdmin.id}`, payload: { displayName: 'Tôi' }, headers: bearer(zoneAdmin.token) });
  t.equal(self.statusCode, 200, 'anyone may rename themselves');
  t.equal((await h.app.inject({ method: 'DELETE', url: `/api/v1/users/${zoneAdmin.id}`, headers: bearer(zoneAdmin.token) })).statusCode, 409, 'no self-delete');
});

t.test('OpenAPI document and docs UI', async (t) => {
  const res = await h.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
  t.equal(res.statusCode, 200);
  const doc = res.json();
  t.equal(doc.openapi, '3.0.3');
  for (const p of ['/api/v1/zones', '/api/v1/zones/{id}/move', '/api/v1/endpoints', '/api/v1/media', '/api/v1/users', '/api/v1/auth/login', '/healthz', '/readyz']) {
    t.ok(doc.paths[p], `documents ${p}`);
  }
  t.equal((await h.app.inject({ method: 'GET', url: '/docs/' })).statusCode, 200);
  const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
  t.same(ready.json(), { status: 'ok', database: h.database.dialect });
});

t.test('logger never writes secrets', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
  const log = createLogger({ level: 'info', destination: sink });
  log.info({ user: { name: 'a', password: 'p4ss-word' }, headers: { authorization: 'Bearer abc.def' }, nested: [{ deep: { apiToken: 'tok-123', clientSecret: 's3cr3t' } }] }, 'x');
  log.info({ req: { method: 'GET', url: '/ws?token=tok-456&zone=1' } }, 'y');
  const text = lines.join('');
  for (const secret of ['p4ss-word', 'abc.def', 'tok-123', 's3cr3t', 'tok-456']) t.notOk(text.includes(secret), `${secret} not logged`);
  t.ok(text.includes(REDACTED));
  t.ok(text.includes('zone=1'), 'the rest of the URL stays');
});

t.test('?zoneId= narrows a list to that zone’s subtree', async (t) => {
  const c = await h.zone(root, 'Xã C');
  const v = await h.zone(c, 'Thôn C1');
  const other = await h.zone(root, 'Xã D');
  const mk = (zoneId: string, name: string) =>
    h.app.inject({ method: 'POST', url: '/api/v1/endpoints', payload: { name, zoneId, kind: 'http' }, headers: bearer(admin.token) });
  await mk(c.id, 'in C');
  await mk(v.id, 'in C1');
  await mk(other.id, 'in D');
  const res = await h.app.inject({ method: 'GET', url: `/api/v1/endpoints?zoneId=${c.id}`, headers: bearer(admin.token) });
  t.same(res.json().map((e: { name: string }) => e.name).sort(), ['in C', 'in C1']);
  const none = await h.app.inject({ method: 'GET', url: '/api/v1/endpoints?zoneId=zon_nothing', headers: bearer(admin.token) });
  t.equal(none.statusCode, 404);
});
