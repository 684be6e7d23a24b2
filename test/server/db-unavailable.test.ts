// Which database errors mean "away" (503, retry) and which mean "this query is wrong" (500), on
// errors raised for real by pg and PGlite, and the API's answer when the embedded database is gone.
import t from 'tap';
import pg from 'pg';
import { sql } from 'kysely';
import { isDatabaseUnavailable } from '../../server/db/unavailable.js';
import { buildTestApp, bearer } from '../helpers/app.js';
import { freePort } from '../helpers/postgres.js';

const caught = async (p: Promise<unknown>): Promise<unknown> => p.then(() => new Error('did not fail'), (e: unknown) => e);

t.test('pg: a refused connection is "away"', async (t) => {
  const client = new pg.Client({ connectionString: `postgres://x@127.0.0.1:${await freePort()}/x` });
  const err = await caught(client.connect());
  t.ok(isDatabaseUnavailable(err), String(err));
  t.ok(isDatabaseUnavailable(new Error('cannot connect to DATABASE_URL', { cause: err })), 'also as the cause of a wrapper');
});

t.test('PGlite: a closed database (kysely and PGlite closed, as at shutdown) is "away", a wrong query or a constraint is not', async (t) => {
  const h = await buildTestApp(t);
  const { token } = await h.user([{ role: 'admin', zoneId: null }]);
  const syntax = await caught(sql`selec 1`.execute(h.database.db));
  t.notOk(isDatabaseUnavailable(syntax), `syntax error: ${String(syntax)}`);
  const zone = await h.zone(null, 'z');
  const duplicate = await caught(h.database.db.insertInto('zones').values({ id: zone.id, parent_id: null, kind: 'zone', name: 'again', time_zone: 'UTC', path: zone.path }).execute());
  t.notOk(isDatabaseUnavailable(duplicate), `unique violation: ${String(duplicate)}`);

  await h.database.close();
  const closed = await caught(sql`select 1`.execute(h.database.db));
  t.ok(isDatabaseUnavailable(closed), `closed: ${String(closed)}`);

  for (const lang of ['en', 'vi']) {
    const res = await h.app.inject({ method: 'GET', url: '/api/v1/zones', headers: { ...bearer(token), 'accept-language': lang } });
    t.equal(res.statusCode, 503, `${lang}: 503, not 500`);
    t.equal(res.json().error, 'database-unavailable');
    t.match(res.json().message, lang === 'en' ? /database is temporarily unreachable/ : /Cơ sở dữ liệu tạm thời/);
    t.equal(res.headers['retry-after'], '5', 'with a Retry-After');
  }
  const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.match(ready.json(), { status: 'degraded', error: 'database-unavailable', reasons: [{ component: 'database', reason: /PGlite is closed|driver has already been destroyed/ }] });
});
