// kill -9 mid-programme, restart: the server (a child process with its own data dir and
// database) puts the airing back on air at the offset the schedule says, not from the top.
// The file's frequency changes every second: a speaker agent (which reconnects to the restarted
// server by itself) must hear, at each server time, the second of the file the schedule says;
// and the restarted engine's as-run 'start' row must carry that media position.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { dominantFrequency } from '../../codecs/analysis.js';
import { readWav } from '../../codecs/wav.js';
import { SpeakerAgent } from '../../endpoint/agent.js';
import type { WavTimeline } from '../../endpoint/output.js';
import { utcMsToPlain } from '../../scheduler/local-time.js';
import { multipartBody } from '../helpers/audio-files.js';
import { scratchDatabaseUrl } from '../helpers/database.js';
import { freePort } from '../helpers/postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'recovery-test-password';

/** Mono 16-bit WAV; second k is a tone of 300 + 50·k Hz (60 s: a restart that takes half a minute on a loaded machine still finds audio left; 3.25 kHz at most, inside PCMU). */
function steppedWav(seconds: number): Buffer {
  const n = seconds * 48000;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(48000, 24);
  buf.writeUInt32LE(96000, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    phase += (2 * Math.PI * (300 + 50 * Math.floor(i / 48000))) / 48000;
    buf.writeInt16LE(Math.round(8000 * Math.sin(phase)), 44 + i * 2);
  }
  return buf;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

t.test('kill -9 mid-programme, restart: back on air at the right offset', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-recovery-'));
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

  let child: ChildProcess | undefined;
  t.teardown(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  async function start(): Promise<string> {
    child = spawn(process.execPath, [path.join(root, 'bin/loa.js'), 'server'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const deadline = Date.now() + 120_000; // a first start runs initdb: over a minute on a loaded 2-core machine
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
  }
  const api = async (token: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !(body instanceof Buffer) && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: body instanceof Buffer ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  let token = await start();
  const zone = await api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Hải' });
  t.equal(zone.status, 201);
  const upload = multipartBody({ zoneId: zone.body.id, title: 'Thang âm' }, { name: 'steps.wav', data: steppedWav(60) });
  const media = await api(token, 'POST', '/media', upload.payload, upload.headers);
  t.equal(media.status, 201, JSON.stringify(media.body));

  const ep = await api(token, 'POST', '/endpoints', { name: 'loa-1', zoneId: zone.body.id, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(ep.status, 201);
  const wavPath = path.join(dataDir, 'agent.wav');
  const agent = new SpeakerAgent({
    server: `ws://127.0.0.1:${port}`,
    endpointId: ep.body.endpoint.id,
    token: ep.body.credential,
    codecs: ['pcmu'],
    output: { kind: 'wav', path: wavPath },
    reconnectMinMs: 100,
    reconnectMaxMs: 400,
  });
  t.teardown(() => agent.close());
  await agent.start();
  const syncDeadline = Date.now() + 15_000;
  while (!(agent.session && agent.clock.synced) && Date.now() < syncDeadline) await new Promise((r) => setTimeout(r, 50));

  const startMs = Math.ceil((Date.now() + 4000) / 1000) * 1000;
  const entry = await api(token, 'POST', '/timetables', {
    zoneIds: [zone.body.id],
    programme: { kind: 'media', mediaId: media.body.id },
    priority: 'normal',
    start: utcMsToPlain(startMs, 'Asia/Ho_Chi_Minh').toString(),
  });
  t.equal(entry.status, 201, JSON.stringify(entry.body));
  const airingId = `${entry.body.entry.id}@${new Date(startMs).toISOString()}`;
  const asRun = async () => (await api(token, 'GET', `/as-run?zoneId=${zone.body.id}`)).body.items as { event: string; at: string; airingId: string; mediaPositionMs: number }[];

  // On air, then killed a few seconds in.
  const deadline = Date.now() + 20_000;
  while (!(await asRun()).some((r) => r.event === 'start' && r.airingId === airingId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  while (Date.now() < startMs + 3000) await new Promise((r) => setTimeout(r, 50));
  // When the agent hears audio again after the crash (server time of that first audible frame).
  let killed = false;
  let backAtServerMs = NaN;
  agent.on('playing', ({ serverMs }) => {
    if (killed && Number.isNaN(backAtServerMs)) backAtServerMs = serverMs;
  });
  child!.kill('SIGKILL');
  await new Promise((r) => child!.once('exit', r));
  killed = true;
  const killedAt = Date.now();

  token = await start();
  let rows = await asRun();
  const resumeDeadline = Date.now() + 20_000;
  while (rows.filter((r) => r.event === 'start').length < 2 && Date.now() < resumeDeadline) {
    await new Promise((r) => setTimeout(r, 100));
    rows = await asRun();
  }
  const starts = rows.filter((r) => r.event === 'start' && r.airingId === airingId);
  t.equal(starts.length, 2, 'started once, and once more after the restart');
  t.ok(Math.abs(Date.parse(starts[0].at) - startMs) <= 20, 'the first start on schedule');
  t.equal(starts[0].mediaPositionMs, 0, 'from the top');
  const resumedAt = Date.parse(starts[1].at);
  t.ok(resumedAt > killedAt, 'the second start after the restart');
  const expected = resumedAt - startMs;
  t.ok(starts[1].mediaPositionMs > 3000, `not from the top: resumed at ${starts[1].mediaPositionMs} ms`);
  t.ok(Math.abs(starts[1].mediaPositionMs - expected) <= 40, `media position ${starts[1].mediaPositionMs} ms where the schedule is at ${expected} ms`);

  // What the agent heard: at server time X it plays the frame sent at X − playout delay, which
  // on schedule is second floor((X − delay − start) / 1000) of the file.
  const delay = agent.session!.playoutDelayMs;
  // Checked from a second after the resume and after the agent, which reconnects by itself
  // (slower on a loaded machine), hears audio again.
  const backDeadline = Date.now() + 20_000;
  while (Number.isNaN(backAtServerMs) && Date.now() < backDeadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(!Number.isNaN(backAtServerMs), 'the agent hears the programme again after the restart');
  const firstAfter = Math.max(Math.ceil((resumedAt - startMs) / 1000) + 1, Math.ceil((backAtServerMs - delay - startMs) / 1000) + 1);
  while (Date.now() < startMs + (firstAfter + 2) * 1000 + delay + 300) await new Promise((r) => setTimeout(r, 50));
  await agent.close();
  const wav = readWav(wavPath);
  const tl = JSON.parse(readFileSync(`${wavPath}.json`, 'utf8')) as WavTimeline;
  const indexAt = (serverMs: number) => {
    let a = tl.anchors[0];
    for (const x of tl.anchors) if (x[1] <= serverMs) a = x;
    return Math.round(a[0] + ((serverMs - a[1]) * tl.sampleRate) / 1000);
  };
  const heardSecond = (k: number) => {
    const i = indexAt(startMs + k * 1000 + 500 + delay);
    const f = dominantFrequency(wav.samples.subarray(i - 2400, i + 2400), 48000);
    return (f - 300) / 50;
  };
  t.ok(Math.abs(heardSecond(1) - 1) < 0.1, 'before the kill: second 1 of the file at its time');
  for (const k of [firstAfter, firstAfter + 1]) {
    const heard = heardSecond(k);
    t.ok(Math.abs(heard - k) < 0.1, `after the restart: second ${k} of the file at its time (heard ${heard.toFixed(2)})`);
  }

  child!.kill('SIGTERM');
  await new Promise((r) => child!.once('exit', r));
});
