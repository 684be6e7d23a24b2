/**
 * The server under test as a child process of its own (own data dir, own
 * ports, embedded database, no demo data), and the few API calls the bench
 * makes against it. `real` runs `bin/loa.js server`; `standin` runs
 * bench/standin-server.ts (development only, see there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_PATH } from '../protocols/control/messages.js';

const here = fileURLToPath(import.meta.url);
const fromSource = extname(here) === '.ts';
const root = path.resolve(path.dirname(here), fromSource ? '..' : '../..');

export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** How a child runs a file of ours: compiled JS as is, TypeScript through tsx. */
export function nodeArgsFor(file: string): string[] {
  return file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
}

export interface ServerChild {
  kind: 'real' | 'standin';
  pid: number;
  baseUrl: string;
  controlUrl: string;
  stop(): Promise<void>;
}

const ADMIN_PASSWORD = 'bench-admin-password';

export async function startServerChild(kind: 'real' | 'standin', opts: { cpuProfDir?: string; log?: (line: string) => void } = {}): Promise<ServerChild> {
  const port = await freeTcpPort();
  const rtpPort = await freeUdpPort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'loa-bench-'));
  const prof = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  let child: ChildProcess;
  if (kind === 'real') {
    child = spawn(process.execPath, [...prof, path.join(root, 'bin', 'loa.js'), 'server'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LOA_FROM_SOURCE: fromSource ? '1' : '0',
        LOA_HOST: '127.0.0.1',
        LOA_PORT: String(port),
        LOA_RTP_PORT: String(rtpPort),
        LOA_PUBLIC_HOST: '127.0.0.1',
        LOA_DATA_DIR: dataDir,
        LOA_DEMO_DATA: 'false',
        LOA_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOA_LOG_LEVEL: 'warn',
        // The send backend to compare (engine/send-backend.ts); unset: the server's own choice.
        ...(process.env.LOA_SEND_BACKEND && { LOA_SEND_BACKEND: process.env.LOA_SEND_BACKEND }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } else {
    const file = path.join(path.dirname(here), `standin-server${extname(here)}`);
    child = spawn(process.execPath, [...prof, ...nodeArgsFor(file), String(port), String(rtpPort)], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  }
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 0)));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  let dead = false;
  let stopping = false;
  void exited.then((code) => {
    dead = true;
    // A server that dies mid-run says why (its last output), instead of a bare "fetch failed" later.
    if (!stopping) console.error(`loa bench: server child ${child.pid} exited unexpectedly (code ${code}); its last output:\n${output}`);
  });
  for (;;) {
    if (dead) throw new Error(`server child exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server child not ready in 90 s:\n${output}`);
    }
    const probe = kind === 'real' ? '/healthz' : '/api/v1/auth/login';
    const ok = await fetch(baseUrl + probe, { method: kind === 'real' ? 'GET' : 'POST', body: kind === 'real' ? undefined : '{}' })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    kind,
    pid: child.pid!,
    baseUrl,
    controlUrl: `ws://127.0.0.1:${port}${CONTROL_PATH}`,
    stop: async () => {
      stopping = true;
      if (!dead) {
        child.kill('SIGTERM');
        // A profiled server writes its main thread's profile only when it exits by itself.
        const t = setTimeout(() => child.kill('SIGKILL'), opts.cpuProfDir ? 120_000 : 15_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The bench's handful of API calls, with a bearer token. */
export class BenchApi {
  private token = '';
  constructor(readonly baseUrl: string) {}

  async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const r = await fetch(`${this.baseUrl}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new ApiError(r.status, `${method} ${route} → ${r.status}: ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async login(): Promise<void> {
    const r = await this.call<{ token: string }>('POST', '/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    this.token = r.token;
  }

  async createZone(parentId: string | null, kind: string, name: string): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/zones', { parentId, kind, name })).id;
  }

  async createEndpoint(zoneId: string, name: string, codec: string): Promise<{ id: string; token: string }> {
    const r = await this.call<{ endpoint: { id: string }; credential: string }>('POST', '/endpoints', { name, zoneId, kind: 'rtp', codecs: [codec] });
    return { id: r.endpoint.id, token: r.credential };
  }

  async play(zoneIds: string[], freqHz: number, priority: string, title: string, durationMs?: number): Promise<string> {
    const source = durationMs === undefined ? { kind: 'tone', freqHz } : { kind: 'tone', freqHz, durationMs };
    return (await this.call<{ id: string }>('POST', '/playback', { zoneIds, source, priority, title })).id;
  }

  async stop(programmeId: string): Promise<void> {
    await this.call('DELETE', `/playback/${programmeId}`);
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
