// Starting the real server: refusing a bad configuration, a real listen with the first admin
// and the demo tree, a restart that keeps everything, and a graceful stop on SIGTERM.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, startServer } from '../../server/main.js';
import { loadConfig } from '../../server/config.js';
import { openPglite } from '../../server/db/database.js';
import { scratchDatabaseUrl, seedPgliteDataDir } from '../helpers/database.js';
import { freePort } from '../helpers/postgres.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-main-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('main() refuses a bad configuration with exit code 2 and a clear message', async (t) => {
  const printed: string[] = [];
  const code = await main([], { LOA_PORT: 'abc' }, (l) => printed.push(l));
  t.equal(code, 2);
  t.match(printed.join('\n'), /LOA_PORT: "abc" is not a port; expected an integer 1–65535/);
});

t.test('real listen: first admin, demo tree, restart keeps data', async (t) => {
  const dataDir = tempDir(t);
  const databaseUrl = await scratchDatabaseUrl(t);
  if (!databaseUrl) await seedPgliteDataDir(dataDir);
  const config = { ...loadConfig({ LOA_DATA_DIR: dataDir, LOA_LOG_LEVEL: 'silent', LOA_HOST: '127.0.0.1', LOA_RTP_PORT: '0', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) }), port: 0 };
  const printed: string[] = [];
  const server = await startServer({ config, print: (l) => printed.push(l), handleSignals: false });
  let closed = false;
  t.teardown(() => (closed ? undefined : server.close()));
  t.equal(printed.length, 1, 'the first admin is announced once');
  const password = /password: (\S+)/.exec(printed[0])?.[1];
  t.ok(password, 'with its generated password');

  t.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const ready = (await (await fetch(`${server.url}/readyz`)).json()) as { database: string };
  t.equal(ready.database, databaseUrl ? 'postgres' : 'pglite');
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  t.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  const zones: { kind: string; name: string; code: string | null; parentId: string | null; timeZone: string }[] = (await (await fetch(`${server.url}/api/v1/zones`, { headers: auth })).json()) as never;
  const byKind = (k: string) => zones.filter((z) => z.kind === k);
  t.equal(byKind('province').length, 1);
  t.equal(byKind('province')[0].name, 'Tỉnh Quảng Trị');
  t.equal(byKind('district').length, 1);
  t.equal(byKind('commune').length, 11, '11 communes');
  t.ok(byKind('commune').every((c) => c.name.startsWith('Xã ') && c.code), 'communes named and coded');
  const villages = byKind('village');
  t.ok(villages.length >= 22 && villages.length <= 44 && villages.every((v) => v.name.startsWith('Thôn ')), '2–4 villages per commune');
  t.ok(byKind('cluster').length > 0, 'some clusters');
  t.ok(zones.every((z) => z.timeZone === 'Asia/Ho_Chi_Minh'));
  const endpoints = (await (await fetch(`${server.url}/api/v1/endpoints`, { headers: auth })).json()) as unknown[];
  t.ok(endpoints.length >= 2, 'a few demo endpoints');
  // A malformed request over a real socket does not take the server down.
  const bad = await fetch(`${server.url}/api/v1/zones`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"x":' });
  t.equal(bad.status, 400);
  await server.close();
  closed = true;

  const again: string[] = [];
  const second = await startServer({ config, print: (l) => again.push(l), handleSignals: false });
  t.teardown(() => second.close());
  t.same(again, [], 'no second admin');
  const zones2 = (await (await fetch(`${second.url}/api/v1/zones`, { headers: auth })).json()) as unknown[];
  t.equal(zones2.length, zones.length, 'same tree after restart, no second demo');
});

function runLoa(env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(repo, 'bin/loa.js'), 'server'], {
    cwd: repo,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOA_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

t.test('the `loa server` process: exit 2 on bad config; SIGTERM closes the database cleanly', async (t) => {
  // Both processes at once: each pays the TypeScript loader's start-up.
  const bad = runLoa({ LOA_TIMEZONE: 'Asia/Hanoi-ish' });
  const dataDir = tempDir(t);
  const databaseUrl = await scratchDatabaseUrl(t);
  if (!databaseUrl) await seedPgliteDataDir(dataDir);
  const port = await freePort();
  const run = runLoa({
    LOA_DATA_DIR: dataDir,
    LOA_PORT: String(port),
    LOA_RTP_PORT: '0',
    LOA_HOST: '127.0.0.1',
    LOA_ADMIN_PASSWORD: 'from-the-env-1',
    LOA_DEMO_DATA: 'false',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  t.teardown(() => {
    if (run.child.exitCode === null) run.child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const check = () => (run.out().includes('Loa server listening') ? resolve() : undefined);
    run.child.stdout.on('data', check);
    run.exited.then((code) => reject(new Error(`exited ${code}: ${run.err()}`)));
  });
  t.equal(await bad.exited, 2, 'refuses to start');
  t.match(bad.err(), /LOA_TIMEZONE: "Asia\/Hanoi-ish" is not a known time zone/);
  t.notOk(run.out().includes('from-the-env-1'), 'the configured password is not echoed');
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0, 'clean exit on SIGTERM');
  if (!databaseUrl) {
    const db = await openPglite(path.join(dataDir, 'db'));
    t.teardown(() => db.close());
    const admin = await db.db.selectFrom('users').select('username').executeTakeFirst();
    t.equal(admin?.username, 'admin', 'database reopens with its data after the stop');
  }
});
