// Starts a throwaway PostgreSQL server for tests: initdb into a temp dir, pg_ctl start on a
// free port (127.0.0.1 and a socket in the temp dir), trust auth. As root the binaries run as
// the `postgres` user (PostgreSQL refuses to run as root). stop() stops it and removes the dir.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** `pg_ctl stop -m fast`: the server ends every session ("terminating connection due to administrator command") and exits; its files stay. */
  stopFast(): void;
  /** Starts it again on the same port after stopFast(). */
  restart(): void;
}

export interface PostgresOptions {
  /** Listen on this port (a test that points a server at it before it exists); default a free one. */
  port?: number;
}

function findBinDir(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = path.join(base, v, 'bin');
      if (existsSync(path.join(dir, 'initdb'))) return dir;
    }
  }
  throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function lookupUid(user: string): { uid: number; gid: number } {
  const out = execFileSync('id', ['-u', user]).toString().trim();
  const gid = execFileSync('id', ['-g', user]).toString().trim();
  return { uid: Number(out), gid: Number(gid) };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findBinDir();
  const isRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-pg-'));
  const asUser = (cmd: string, args: string[]) => (isRoot ? ['runuser', ['-u', 'postgres', '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args]) as [string, string[]];
  if (isRoot) {
    const { uid, gid } = lookupUid('postgres');
    chownSync(dir, uid, gid);
  }
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asUser(cmd, args);
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: dir });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  const data = path.join(dir, 'data');
  try {
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // Another process may take the port between freePort() and start: retry a few times.
  let port = 0;
  const pgStart = () =>
    run('pg_ctl', [
      '-D', data, '-l', path.join(dir, 'pg.log'), '-w', '-t', '30',
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
  for (let attempt = 0; ; attempt++) {
    port = options.port ?? (await freePort());
    try {
      pgStart();
      break;
    } catch (err) {
      if (attempt >= 2 || options.port !== undefined) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stopFast: () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    restart: () => pgStart(),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      try {
        // Stopped already by stopFast() is fine: pg_ctl says "no server running".
        if (existsSync(path.join(data, 'postmaster.pid'))) run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
