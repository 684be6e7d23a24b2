// Disk full under a running server, for real: `loa server` runs in a private mount namespace
// (`unshare -m`) with LOA_DATA_DIR on a 1 MiB tmpfs and its database on a real PostgreSQL; the
// test fills that tmpfs (nsenter into the namespace) until the kernel answers ENOSPC, plays
// programmes (each one an as-run start and end row), checks that /readyz says degraded with the
// journal's reason and that one log line says so, frees the space, and checks that every row of
// the full period reaches the as_run table. Needs root and util-linux; skipped (saying so) otherwise.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, startPostgres } from '../helpers/postgres.js';
import { eventually, spawnServer } from '../helpers/server-process.js';

const canMount = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0 && spawnSync('nsenter', ['--version']).status === 0;
const PASSWORD = 'disk-full-admin-1';

t.test('ENOSPC in the data directory: /readyz degraded, rows held, all in the database once space returns', { skip: canMount ? false : 'needs root, unshare -m and nsenter for a real tmpfs' }, async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-diskfull-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = spawnServer(
    { LOA_DATA_DIR: dataDir, DATABASE_URL: db.url, LOA_PORT: String(await freePort()), LOA_ADMIN_PASSWORD: PASSWORD, LOA_DEMO_DATA: 'false' },
    { wrap: (argv) => ['unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m loa-diskfull "$1" && shift && exec "$@"', 'sh', dataDir, ...argv]] },
  );
  t.teardown(() => server.kill());
  const url = await server.listening();
  // Inside the server's mount namespace: its pid is the node process (sh and unshare exec'd into it).
  const inNamespace = (script: string) => spawnSync('nsenter', ['-t', String(server.child.pid), '-m', '--', 'sh', '-c', script], { encoding: 'utf8' });
  t.match(inNamespace(`df -k "${dataDir}" | tail -1`).stdout, /loa-diskfull/, 'the data directory is the small tmpfs');

  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: PASSWORD }) });
  const auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}`, 'content-type': 'application/json', 'accept-language': 'en' };
  const zone = (await (await fetch(`${url}/api/v1/zones`, { method: 'POST', headers: auth, body: JSON.stringify({ parentId: null, kind: 'commune', name: 'Xã Đĩa Đầy' }) })).json()) as { id: string };
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(() => client.end());
  const rowsInDb = async () => Number((await client.query('select count(*) as n from as_run where zone_id = $1', [zone.id])).rows[0].n);
  const playQuietly = async (freqHz: number) => {
    const r = await fetch(`${url}/api/v1/playback`, { method: 'POST', headers: auth, body: JSON.stringify({ zoneIds: [zone.id], source: { kind: 'tone', freqHz, durationMs: 200 }, priority: 'normal' }) });
    if (r.status !== 201) throw new Error(`tone ${freqHz} Hz: ${r.status} ${await r.text()}`);
  };
  const play = async (freqHz: number) => {
    await playQuietly(freqHz);
    t.pass(`tone ${freqHz} Hz started`);
  };

  await play(400);
  await eventually(async () => ((await rowsInDb()) === 2 ? true : undefined), 'the first programme’s start and end rows');

  const fill = inNamespace(`cat /dev/zero > "${dataDir}/filler"`);
  t.match(fill.stderr, /No space left on device/, 'the data directory is full');
  // The journal's last page may still take a few rows: play until it is refused, then two more.
  const readyz = async () => {
    const r = await fetch(`${url}/readyz`, { headers: { 'accept-language': 'en' } });
    const body = (await r.json()) as { status?: string; reasons?: { component: string; reason: string; message: string }[] };
    return r.status === 503 && body.reasons?.some((x) => x.component === 'as-run-journal') ? body : undefined;
  };
  let played = 1;
  let degraded: Awaited<ReturnType<typeof readyz>>;
  for (let extra = 2; extra > 0 && played < 60; played++) {
    await playQuietly(500 + played);
    await new Promise((r) => setTimeout(r, 400)); // one after the other: each ends before the next
    degraded ??= await readyz();
    if (degraded) extra--;
  }
  degraded ??= await eventually(readyz, '/readyz to report the journal');
  t.ok(degraded, `/readyz degraded after ${played} programmes`);
  const reason = degraded!.reasons!.find((x) => x.component === 'as-run-journal')!;
  t.match(reason.reason, /ENOSPC/, `the reason is named (${reason.reason})`);
  t.match(reason.message, /held in memory and will be written when there is space again/);
  await eventually(async () => (server.lines.some((l) => l.msg.startsWith('as-run journal cannot write to disk')) ? true : undefined), 'the log line');
  t.equal(server.lines.filter((l) => l.msg.startsWith('as-run journal cannot write to disk')).length, 1, 'one log line, not one per retry');
  t.ok((await rowsInDb()) < 2 * played, 'rows of the full period are not all in the database yet (held in memory, not durable anywhere)');
  t.equal((await fetch(`${url}/api/v1/zones`, { headers: auth })).status, 200, 'the API works on');

  t.equal(inNamespace(`rm "${dataDir}/filler"`).status, 0, 'space returns');
  await eventually(async () => ((await rowsInDb()) === 2 * played ? true : undefined), 'all rows of the full period in the database');
  const events = (await client.query('select event, count(*)::int as n from as_run where zone_id = $1 group by event order by event', [zone.id])).rows;
  t.same(events, [{ event: 'end', n: played }, { event: 'start', n: played }], `each of the ${played} programmes’ start and end, once`);
  await eventually(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), '/readyz ok again');
  t.ok(server.lines.some((l) => l.msg.startsWith('as-run journal writes to disk again')), 'recovery logged');
  t.equal(server.child.exitCode, null, 'the server lived through it');
});
