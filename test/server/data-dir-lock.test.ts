// One server per data directory: a second `loa server` on the same directory refuses with a
// message naming the first (pid, start time); after kill -9 of the first, its stale lock is taken
// over. Plus the lock's own rules, with real processes for "alive" and "gone".
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../server/data-dir-lock.js';
import { seedPgliteDataDir, scratchDatabaseUrl } from '../helpers/database.js';
import { freePort } from '../helpers/postgres.js';
import { spawnServer } from '../helpers/server-process.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that existed and is gone now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

t.test('the lock: refused while held (in this process too), released, stale owners taken over', async (t) => {
  const dir = tempDir(t);
  const lock = lockDataDir(dir);
  t.equal(lock.tookOverFrom, null);
  const owner = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number; startedAt: string };
  t.equal(owner.pid, process.pid, 'the lock names its owner');
  t.throws(() => lockDataDir(dir), DataDirLockedError, 'a second server in the same process is refused');
  lock.release();
  t.notOk(existsSync(path.join(dir, LOCK_FILE)), 'released on close');

  // A live process of someone else: refused, naming it.
  const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => other.kill('SIGKILL'));
  const procStart = readFileSync(`/proc/${other.pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: other.pid, startedAt: '2026-01-02T03:04:05.000Z', host: 'h', procStart }));
  t.throws(() => lockDataDir(dir), { name: 'DataDirLockedError', message: new RegExp(`pid ${other.pid} on h, started 2026-01-02T03:04:05.000Z`) });

  // The same pid with another start time: a recycled pid, not the owner.
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: other.pid, startedAt: 'x', host: 'h', procStart: '1' }));
  const recycled = lockDataDir(dir);
  t.equal(recycled.tookOverFrom?.pid, other.pid, 'a recycled pid does not hold the lock');
  recycled.release();

  // A dead owner (kill -9), a torn lock file, and our own pid from a previous life (pid 1 in containers).
  for (const content of [JSON.stringify({ pid: deadPid(), startedAt: 'x', host: 'h', procStart: null }), '{"pid": 12', JSON.stringify({ pid: process.pid, startedAt: 'x', host: 'h', procStart: null })]) {
    writeFileSync(path.join(dir, LOCK_FILE), content);
    const l = lockDataDir(dir);
    t.ok(l.tookOverFrom, `stale lock taken over: ${content}`);
    l.release();
  }
});

t.test('two `loa server` on one data directory: the second refuses naming the first; after kill -9 a new one starts', async (t) => {
  const dataDir = tempDir(t);
  const databaseUrl = await scratchDatabaseUrl(t);
  if (!databaseUrl) await seedPgliteDataDir(dataDir);
  const env = async () => ({
    LOA_DATA_DIR: dataDir,
    LOA_PORT: String(await freePort()),
    LOA_DEMO_DATA: 'false',
    LOA_ADMIN_PASSWORD: 'lock-test-admin-1',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const first = spawnServer(await env());
  t.teardown(() => first.kill());
  await first.listening();

  const second = spawnServer(await env());
  t.teardown(() => second.kill());
  t.equal(await second.exited, 1, 'the second server does not start');
  t.match(second.output(), new RegExp(`loa: cannot start: the data directory .* is in use by another Loa server \\(pid ${first.child.pid} on .*, started \\d{4}-\\d\\d-\\d\\dT`), 'and names the first');
  t.equal(first.child.exitCode, null, 'the first one runs on');

  first.kill('SIGKILL');
  await first.exited;
  const third = spawnServer(await env());
  t.teardown(() => third.kill());
  await third.listening();
  const took = third.lines.find((l) => l.msg === 'took over the data directory lock of a server that is gone');
  t.equal((took?.staleOwner as { pid: number } | undefined)?.pid, first.child.pid, 'the stale lock of the killed server is taken over, and logged');
});
