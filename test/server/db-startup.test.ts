// The database at startup and a database that stops answering, over real sockets:
// - a server that accepts TCP and never answers (a real listening socket that holds every
//   connection): startup logs each try and keeps trying; once it answers the server starts;
//   when it stops answering again, API calls end in 503 after the query timeout, not a hang;
// - nothing listening at all (ECONNREFUSED): startup retries with a log line per try and starts
//   when a real PostgreSQL appears on that port.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, startPostgres } from '../helpers/postgres.js';
import { eventually, spawnServer, type LogLine } from '../helpers/server-process.js';

const PASSWORD = 'db-startup-admin-1';
const retryLine = (l: LogLine) => l.msg === 'database not reachable yet; waiting for it before starting';

/**
 * A TCP proxy that can stop answering: while frozen it accepts connections and holds every byte
 * in both directions (nothing is lost: unfreezing delivers it), exactly what a hung database host
 * or a silent firewall looks like to a client.
 */
interface ProxiedConnection {
  client: net.Socket;
  upstream: net.Socket | null;
  toUp: Buffer[];
  toClient: Buffer[];
}

class FreezingProxy {
  readonly server = net.createServer((client) => this.#accept(client));
  frozen = true;
  #conns: ProxiedConnection[] = [];

  constructor(private readonly upstreamPort: number) {}

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port)));
  }

  #accept(client: net.Socket): void {
    const conn: ProxiedConnection = { client, upstream: null, toUp: [], toClient: [] };
    this.#conns.push(conn);
    client.on('data', (d: Buffer) => (conn.upstream && !this.frozen ? conn.upstream.write(d) : conn.toUp.push(d)));
    const drop = () => {
      conn.upstream?.destroy();
      client.destroy();
      this.#conns = this.#conns.filter((c) => c !== conn);
    };
    client.on('close', drop).on('error', drop);
    if (!this.frozen) this.#activate(conn);
  }

  #activate(conn: ProxiedConnection): void {
    if (!conn.upstream) {
      const up = net.connect(this.upstreamPort, '127.0.0.1');
      conn.upstream = up;
      up.on('data', (d: Buffer) => (this.frozen ? conn.toClient.push(d) : conn.client.write(d)));
      up.on('close', () => conn.client.destroy()).on('error', () => conn.client.destroy());
    }
    for (const d of conn.toUp.splice(0)) conn.upstream.write(d);
    for (const d of conn.toClient.splice(0)) conn.client.write(d);
  }

  freeze(): void {
    this.frozen = true;
  }

  unfreeze(): void {
    this.frozen = false;
    for (const c of this.#conns) this.#activate(c);
  }

  close(): Promise<void> {
    for (const c of this.#conns) {
      c.client.destroy();
      c.upstream?.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-dbstart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function login(url: string): Promise<Record<string, string>> {
  const res = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status}`);
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}`, 'accept-language': 'en' };
}

t.test('a database that accepts and never answers: startup retries with log lines, API calls end in 503', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const proxy = new FreezingProxy(pg.port);
  const proxyPort = await proxy.listen();
  t.teardown(() => proxy.close());
  const server = spawnServer({
    LOA_DATA_DIR: tempDir(t),
    DATABASE_URL: `postgres://postgres@127.0.0.1:${proxyPort}/postgres`,
    LOA_PORT: String(await freePort()),
    LOA_ADMIN_PASSWORD: PASSWORD,
    LOA_DEMO_DATA: 'false',
    LOA_DB_CONNECT_TIMEOUT_MS: '1000',
    LOA_DB_STATEMENT_TIMEOUT_MS: '1500',
    LOA_DB_QUERY_TIMEOUT_MS: '2000',
    LOA_DB_RETRY_MAX_MS: '1000',
  });
  t.teardown(() => server.kill());

  const second = await server.waitFor((l) => retryLine(l) && l.attempt === 2, 'a second startup try');
  t.match(String(second.reason), /timeout/i, `the log line says why (${second.reason})`);
  t.equal(second.of, 'unlimited', 'and that it keeps trying');
  t.notOk(server.lines.some((l) => l.msg === 'Loa server listening'), 'not listening before the database answers');
  t.equal(server.child.exitCode, null, 'waiting, not exited');

  proxy.unfreeze();
  const url = await server.listening();
  t.ok(server.lines.some((l) => l.msg === 'database reached'), 'logs that the database was reached');
  const auth = await login(url);
  t.equal((await fetch(`${url}/api/v1/zones`, { headers: auth })).status, 200);

  // The database host stops answering mid-run.
  proxy.freeze();
  for (const [method, route] of [['GET', '/api/v1/zones'], ['GET', '/api/v1/endpoints']] as const) {
    // A hang would hit this abort (60 s); the query timeout is 2 s.
    const res = await fetch(`${url}${route}`, { method, headers: auth, signal: AbortSignal.timeout(60_000) });
    t.equal(res.status, 503, `${method} ${route}: 503, not a hang`);
    t.equal(((await res.json()) as { error: string }).error, 'database-unavailable');
  }
  const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(60_000) });
  t.equal(ready.status, 503);
  t.match(await ready.json(), { status: 'degraded', reasons: [{ component: 'database' }] }, '/readyz degraded, with the reason');

  proxy.unfreeze();
  await eventually(async () => ((await fetch(`${url}/api/v1/zones`, { headers: auth })).status === 200 ? true : undefined), 'the API to recover');
  t.equal(server.child.exitCode, null, 'the server lived through it');
});

t.test('nothing listening at startup: retries with a log line each, starts when PostgreSQL appears', async (t) => {
  const pgPort = await freePort();
  const server = spawnServer({
    LOA_DATA_DIR: tempDir(t),
    DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/postgres`,
    LOA_PORT: String(await freePort()),
    LOA_ADMIN_PASSWORD: PASSWORD,
    LOA_DEMO_DATA: 'false',
    LOA_DB_RETRY_MAX_MS: '1000',
  });
  t.teardown(() => server.kill());
  const tries = await server.waitFor((l) => retryLine(l) && l.attempt === 3, 'three startup tries');
  t.match(String(tries.reason), /ECONNREFUSED/, 'each try logged with its reason');
  t.same(
    server.lines.filter(retryLine).map((l) => l.attempt),
    [1, 2, 3],
    'one line per try',
  );
  t.equal(server.child.exitCode, null, 'still waiting');

  const pg = await startPostgres({ port: pgPort });
  t.teardown(() => pg.stop());
  const url = await server.listening();
  const auth = await login(url);
  t.equal((await fetch(`${url}/api/v1/zones`, { headers: auth })).status, 200, 'serving once the database appeared');
});

t.test('LOA_DB_START_ATTEMPTS bounds the wait: the server gives up with a clear message', async (t) => {
  const server = spawnServer({
    LOA_DATA_DIR: tempDir(t),
    DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
    LOA_PORT: String(await freePort()),
    LOA_DB_START_ATTEMPTS: '2',
    LOA_DB_RETRY_MAX_MS: '200',
  });
  t.teardown(() => server.kill());
  t.equal(await server.exited, 1, 'exit code 1');
  t.equal(server.lines.filter(retryLine).length, 1, 'one wait between the two tries');
  t.match(server.output(), /loa: cannot start: cannot connect to DATABASE_URL: .*ECONNREFUSED/);
});
