/**
 * How long after a kill -9 the server is back on air: a server child with a fixed-address RTP
 * receiver (a UDP socket here), a programme on air (a timetable airing of a media file, or a
 * manual tone through POST /playback), kill -9, restart on the same data directory, and the
 * time from the new process's spawn to the first RTP packet the receiver gets (and to the
 * first HTTP answer). Repeated `--runs` times; prints every run and the median.
 *
 *   node --import tsx bench/restart-to-air.ts [--programme timetable|manual] [--runs 5]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWavHeader } from '../codecs/wav.js';
import { utcMsToPlain } from '../scheduler/local-time.js';
import { freeTcpPort, freeUdpPort } from './server-child.js';

const here = fileURLToPath(import.meta.url);
const fromSource = extname(here) === '.ts';
const root = path.resolve(path.dirname(here), fromSource ? '..' : '../..');
const PASSWORD = 'restart-bench-password';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function toneWav(seconds: number): Buffer {
  const n = seconds * 48000;
  const buf = Buffer.alloc(44 + n * 2);
  writeWavHeader({ sampleRate: 48000, channels: 1, dataBytes: n * 2 }, buf);
  for (let i = 0; i < n; i++) buf.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 48000)), 44 + i * 2);
  return buf;
}

function multipart(fields: Record<string, string>, file: { name: string; data: Buffer }): { body: Buffer; type: string } {
  const b = `----loa${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) => Buffer.from(`--${b}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${b}\r\ncontent-disposition: form-data; name="file"; filename="${file.name}"\r\ncontent-type: audio/wav\r\n\r\n`), file.data, Buffer.from(`\r\n--${b}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${b}` };
}

async function main(): Promise<void> {
  const programme = arg('programme', 'timetable');
  const runs = Number(arg('runs', '5'));
  const port = await freeTcpPort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'loa-restart-bench-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOA_FROM_SOURCE: fromSource ? '1' : '0',
    LOA_HOST: '127.0.0.1',
    LOA_PORT: String(port),
    LOA_RTP_PORT: String(await freeUdpPort()),
    LOA_PUBLIC_HOST: '127.0.0.1',
    LOA_DATA_DIR: dataDir,
    LOA_DEMO_DATA: 'false',
    LOA_ADMIN_PASSWORD: PASSWORD,
    LOA_LOG_LEVEL: 'info',
    ...(process.env.DATABASE_URL && { DATABASE_URL: process.env.DATABASE_URL }),
  };
  const receiver = dgram.createSocket('udp4');
  await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
  let lastPacketAt = 0;
  let onPacket: (() => void) | undefined;
  receiver.on('message', () => {
    lastPacketAt = Date.now();
    onPacket?.();
  });

  let child: ChildProcess | undefined;
  const spawnServer = (): { spawnedAt: number; httpAt: Promise<number> } => {
    const spawnedAt = Date.now();
    child = spawn(process.execPath, [path.join(root, 'bin/loa.js'), 'server'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    // The server's own stage times (main.ts 'startup timings'), when it logs them.
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line.includes('"startup timings"')) console.log(`  stages (ms since process start): ${JSON.stringify(JSON.parse(line).sinceProcessStartMs)}`);
      }
    });
    const httpAt = (async () => {
      for (;;) {
        const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
        if (ok) return Date.now();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    return { spawnedAt, httpAt };
  };
  const api = async (token: string, method: string, url: string, body?: unknown, type?: string): Promise<any> => {
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { 'content-type': type ?? 'application/json' }) },
      ...(body !== undefined && { body: body instanceof Buffer ? body : JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };

  try {
    await spawnServer().httpAt;
    const token = (await api('', 'POST', '/auth/login', { username: 'admin', password: PASSWORD })).token as string;
    const zone = await api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Bench' });
    await api(token, 'POST', '/endpoints', { name: 'rx', zoneId: zone.id, kind: 'rtp', codecs: ['pcmu'], address: '127.0.0.1', port: receiver.address().port });
    if (programme === 'timetable') {
      const m = multipart({ zoneId: zone.id, title: 'tone' }, { name: 'tone.wav', data: toneWav(600) });
      const media = await api(token, 'POST', '/media', m.body, m.type);
      const startMs = Math.ceil((Date.now() + 4000) / 1000) * 1000;
      await api(token, 'POST', '/timetables', {
        zoneIds: [zone.id],
        programme: { kind: 'media', mediaId: media.id },
        priority: 'normal',
        start: utcMsToPlain(startMs, 'Asia/Ho_Chi_Minh').toString(),
      });
    } else {
      await api(token, 'POST', '/playback', { zoneIds: [zone.id], source: { kind: 'tone', freqHz: 440 }, priority: 'emergency', maxDurationMs: 3600_000 });
    }
    const results: { air: number; http: number }[] = [];
    for (let run = 0; run < runs; run++) {
      // On air (a packet in the last 100 ms), then a second more.
      while (Date.now() - lastPacketAt > 100) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1000));
      const dead = new Promise((r) => child!.once('exit', r));
      child!.kill('SIGKILL');
      await dead;
      await new Promise((r) => setTimeout(r, 300));
      const s = spawnServer();
      const airAt = await new Promise<number>((resolve) => {
        onPacket = () => {
          onPacket = undefined;
          resolve(Date.now());
        };
      });
      const httpAt = await s.httpAt;
      const r = { air: airAt - s.spawnedAt, http: httpAt - s.spawnedAt };
      results.push(r);
      console.log(`run ${run + 1}: back on air ${r.air} ms after spawn, HTTP ${r.http} ms`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`programme=${programme} runs=${runs} fromSource=${fromSource}: median back on air ${median(results.map((r) => r.air))} ms (worst ${Math.max(...results.map((r) => r.air))}), HTTP ${median(results.map((r) => r.http))} ms`);
  } finally {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
