// `loa server` as a child process of its own (own data dir, ports, database), for tests that
// kill it with SIGKILL and start it again on the same data: start() resolves with an admin
// token once it answers, api() calls it.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scratchDatabaseUrl } from './database.js';
import { freePort } from './postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'server-process-test-password';

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface RestartableServer {
  dataDir: string;
  port: number;
  base: string;
  child: ChildProcess | undefined;
  start(): Promise<string>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  api(token: string, method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function restartableServer(t: Tap): Promise<RestartableServer> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-server-process-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl = await scratchDatabaseUrl(t);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOA_FROM_SOURCE: '1',
    LOA_HOST: '127.0.0.1',
    LOA_PORT: String(port),
    LOA_RTP_PORT: String(await freeUdpPort()),
    LOA_PUBLIC_HOST: '127.0.0.1',
    LOA_DATA_DIR: dataDir,
    LOA_DEMO_DATA: 'false',
    LOA_ADMIN_PASSWORD: PASSWORD,
    LOA_LOG_LEVEL: 'warn',
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else delete env.DATABASE_URL;
  const sp: RestartableServer = {
    dataDir,
    port,
    base,
    child: undefined,
    async start() {
      const child = spawn(process.execPath, [path.join(root, 'bin/loa.js'), 'server'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      sp.child = child;
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
        const res = await fetch(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: PASSWORD }),
        }).catch(() => undefined);
        if (res?.status === 200) return ((await res.json()) as { token: string }).token;
        if (Date.now() > deadline) throw new Error('server did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill9() {
      const child = sp.child!;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      const child = sp.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
    async api(token, method, url, body, headers = {}) {
      const res = await fetch(`${base}/api/v1${url}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !(body instanceof Buffer) && { 'content-type': 'application/json' }), ...headers },
        ...(body !== undefined && { body: body instanceof Buffer ? body : JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    },
  };
  t.teardown(() => {
    const c = sp.child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  return sp;
}
