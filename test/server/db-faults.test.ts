// PostgreSQL going away under a running server, for real: `pg_ctl stop -m fast` while API
// requests are in flight (the server must live: pg emits 'error' on pool and clients), the API
// answering 503 `database-unavailable` in the caller's language while it is away, /readyz
// degraded with the reason, and everything back once PostgreSQL is. Several stops in one run.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startPostgres } from '../helpers/postgres.js';
import { eventually as poll, GiveUp, spawnServer, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'db-faults-admin-1';

interface Answer {
  status: number;
  body: { error?: string; message?: string; status?: string; reasons?: { component: string; reason: string }[] };
}

async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  // Generous: the point is that it answers at all (no hang), not how fast on a loaded machine.
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Answer['body']) : {} };
}

let current: ServerProcess | undefined;
/** Waits for a condition, but gives up at once, with its output, when the server process died. */
const eventually = <T>(check: () => Promise<T | undefined>, what: string) =>
  poll(async () => {
    if (current && current.child.exitCode !== null) throw new GiveUp(`the server process died (${current.child.exitCode}) waiting for ${what}:\n${current.output().slice(-2000)}`);
    return check();
  }, what);

t.test('pg_ctl stop -m fast under API load, three times: the server lives, answers 503, recovers', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-dbfaults-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = spawnServer({
    LOA_DATA_DIR: dataDir,
    DATABASE_URL: pg.url,
    LOA_PORT: String(await freePort()),
    LOA_ADMIN_PASSWORD: PASSWORD,
    LOA_DEMO_DATA: 'false',
    LOA_DB_CONNECT_TIMEOUT_MS: '2000',
    LOA_DB_STATEMENT_TIMEOUT_MS: '4000',
    LOA_DB_QUERY_TIMEOUT_MS: '5000',
  });
  t.teardown(() => server.kill());
  current = server;
  const url = await server.listening();
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  t.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}`, 'accept-language': 'en' };

  // A programme on air through every outage: the media plane does not depend on the database.
  const json = { ...auth, 'content-type': 'application/json' };
  const zone = (await (await fetch(`${url}/api/v1/zones`, { method: 'POST', headers: json, body: JSON.stringify({ parentId: null, kind: 'commune', name: 'Xã Vĩnh Linh' }) })).json()) as { id: string };
  const started = await fetch(`${url}/api/v1/playback`, { method: 'POST', headers: json, body: JSON.stringify({ zoneIds: [zone.id], source: { kind: 'siren', durationMs: 3_600_000 }, priority: 'normal' }) });
  t.equal(started.status, 201, 'a siren on air');
  const programmeId = ((await started.json()) as { id: string }).id;

  // Four clients asking all the time, so that stops land on queries in flight and on idle connections.
  const statuses = new Map<number, number>();
  let running = true;
  t.teardown(() => (running = false));
  const workers = Array.from({ length: 4 }, async () => {
    while (running) {
      const a = await get(`${url}/api/v1/zones`, auth).catch(() => ({ status: -1, body: {} }));
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
  });

  for (let round = 1; round <= 3; round++) {
    await eventually(async () => ((await get(`${url}/api/v1/zones`, auth)).status === 200 ? true : undefined), `round ${round}: API answering`);
    const okBefore = statuses.get(200) ?? 0;
    await eventually(async () => ((statuses.get(200) ?? 0) > okBefore + 10 ? true : undefined), `round ${round}: load running`);
    pg.stopFast();

    const down = await eventually(async () => {
      const a = await get(`${url}/api/v1/zones`, auth);
      return a.status === 503 ? a : undefined;
    }, `round ${round}: a 503 while PostgreSQL is stopped`);
    t.equal(down.body.error, 'database-unavailable', `round ${round}: the reason is named`);
    t.match(down.body.message, /database is temporarily unreachable/, 'in the caller’s language (en)');
    if (round === 1) {
      const vi = await get(`${url}/api/v1/zones`, { authorization: auth.authorization, 'accept-language': 'vi' });
      t.equal(vi.status, 503);
      t.match(vi.body.message, /Cơ sở dữ liệu tạm thời không truy cập được/, 'and in Vietnamese');
    }
    const ready = await get(`${url}/readyz`, { 'accept-language': 'en' });
    t.equal(ready.status, 503, '/readyz is not ok');
    t.equal(ready.body.status, 'degraded');
    t.equal(ready.body.reasons?.[0]?.component, 'database', 'and says why');
    t.equal((await get(`${url}/healthz`)).status, 200, 'the process answers');
    t.equal(server.child.exitCode, null, `round ${round}: the server process lives`);

    pg.restart();
    await eventually(async () => ((await get(`${url}/api/v1/zones`, auth)).status === 200 ? true : undefined), `round ${round}: the API recovers`);
    const back = await get(`${url}/readyz`);
    t.equal(back.status, 200, `round ${round}: /readyz ok again`);
  }
  running = false;
  await Promise.all(workers);
  const listed = (await (await fetch(`${url}/api/v1/playback`, { headers: auth })).json()) as { items: { id: string; onAirZoneIds: string[] }[] };
  t.same(listed.items.find((i) => i.id === programmeId)?.onAirZoneIds, [zone.id], 'the siren started before the outages is still on air after them');
  const other = [...statuses].filter(([s]) => s !== 200 && s !== 503);
  t.same(other, [], `only 200 and 503 under the stops (${JSON.stringify([...statuses])})`);
  t.ok((statuses.get(503) ?? 0) > 0, 'the load saw the outages as 503');
  t.equal(server.child.exitCode, null, 'alive at the end');
  const unavailable = server.lines.filter((l) => l.msg.startsWith('database unavailable'));
  t.ok(unavailable.length >= 1 && unavailable.length <= 6, `one log line per outage, not per request (${unavailable.length})`);
  t.ok(server.lines.some((l) => l.msg === 'database is back'), 'and one when it is back');
});
