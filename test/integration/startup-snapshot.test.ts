// Back on air before the database: a real server process on a real PostgreSQL, killed with -9
// while an emergency (manual) programme airs in one zone and a timetable airing in another,
// each heard by a receive-only RTP device (a UDP socket). The restart finds PostgreSQL
// stopped: the server keeps trying to reach it, is not listening — and both devices already
// hear their programme at the offset the wall clock says (the file's frequency steps every
// second), from the topology snapshot and the programme ledger. Then PostgreSQL comes back: the
// server starts, the timetable adopts its airing (no second resumption), audio goes on.
// Then a snapshot that disagrees with the database (an attachment edited to point at a third
// device): that device hears the programme while the database is away, and once it is back the
// database wins. Last, a corrupt snapshot: a clear log line, the database-first order, on air.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { utcMsToPlain } from '../../scheduler/local-time.js';
import { multipartBody } from '../helpers/audio-files.js';
import { rtpListener, steppedWav, type RtpListener } from '../helpers/heard-audio.js';
import { freePort, startPostgres } from '../helpers/postgres.js';
import { spawnServer, type LogLine, type ServerProcess } from '../helpers/server-process.js';

const PASSWORD = 'startup-snapshot-admin';
// 25 Hz steps: 140 s of file stays under PCMU's 4 kHz (the test runs long on a loaded machine).
const STEP_HZ = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Mid-second instants (ms) of a programme that started at `startMs`, within [fromMs, toMs]. */
function midSeconds(startMs: number, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil((fromMs - startMs - 500) / 1000); startMs + k * 1000 + 500 <= toMs; k++) out.push(startMs + k * 1000 + 500);
  return out;
}

t.test('kill -9, restart with the database away: on air from the snapshot, reconciled once it is back', async (t) => {
  const pg = await startPostgres();
  t.teardown(() => pg.stop());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'loa-startup-snapshot-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const snapshotFile = path.join(dataDir, 'programmes', 'topology.json');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    LOA_DATA_DIR: dataDir,
    DATABASE_URL: pg.url,
    LOA_PORT: String(port),
    LOA_ADMIN_PASSWORD: PASSWORD,
    LOA_DEMO_DATA: 'false',
    LOA_LOG_LEVEL: 'info',
    LOA_DB_RETRY_MAX_MS: '500',
  };
  let server: ServerProcess | undefined;
  t.teardown(() => server?.kill());
  const start = () => (server = spawnServer(env));
  const kill9 = async () => {
    server!.kill('SIGKILL');
    await server!.exited;
  };
  const api = async (token: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined && !(body instanceof Buffer) && { 'content-type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: body instanceof Buffer ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };
  const login = async () => (await api('', 'POST', '/auth/login', { username: 'admin', password: PASSWORD })).body.token as string;
  const retrying = (l: LogLine) => l.msg === 'database not reachable yet; waiting for it before starting';

  const rx1 = await rtpListener(t, STEP_HZ);
  const rx2 = await rtpListener(t, STEP_HZ);
  const rx3 = await rtpListener(t, STEP_HZ);
  /** Every mid-second of [from, to] that `rx` heard, as [expected second, heard second]. */
  const heardSeconds = (rx: RtpListener, startMs: number, from: number, to: number) => midSeconds(startMs, from, to).map((ms) => [Math.floor((ms - startMs) / 1000), rx.stepAt(ms)] as const);
  const checkHeard = (rx: RtpListener, startMs: number, from: number, to: number, what: string) => {
    const seconds = heardSeconds(rx, startMs, from, to);
    t.ok(seconds.length >= 1, `${what}: at least one second to check (${seconds.length})`);
    for (const [k, heard] of seconds) t.ok(Math.abs(heard - k) < 0.2, `${what}: second ${k} of the file at its time (heard ${heard.toFixed(2)})`);
  };

  // ---- first run: two zones, two devices, an emergency and a timetable airing on air.
  start();
  await server!.listening();
  let token = await login();
  const z1 = (await api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Hải' })).body.id as string;
  const z2 = (await api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Việt' })).body.id as string;
  const upload = multipartBody({ zoneId: z1, title: 'Thang âm' }, { name: 'steps.wav', data: steppedWav(140, STEP_HZ) });
  const media = await api(token, 'POST', '/media', upload.payload, upload.headers);
  t.equal(media.status, 201, JSON.stringify(media.body));
  const ep1 = await api(token, 'POST', '/endpoints', { name: 'rx-1', zoneId: z1, kind: 'rtp', codecs: ['pcmu'], address: '127.0.0.1', port: rx1.port });
  const ep2 = await api(token, 'POST', '/endpoints', { name: 'rx-2', zoneId: z2, kind: 'rtp', codecs: ['pcmu'], address: '127.0.0.1', port: rx2.port });
  t.equal(ep1.status, 201, JSON.stringify(ep1.body));
  t.equal(ep2.status, 201, JSON.stringify(ep2.body));
  const timetableStartMs = Math.ceil((Date.now() + 4000) / 1000) * 1000;
  const entry = await api(token, 'POST', '/timetables', {
    zoneIds: [z2],
    programme: { kind: 'media', mediaId: media.body.id },
    priority: 'normal',
    start: utcMsToPlain(timetableStartMs, 'Asia/Ho_Chi_Minh').toString(),
  });
  t.equal(entry.status, 201, JSON.stringify(entry.body));
  const airingId = `${entry.body.entry.id}@${new Date(timetableStartMs).toISOString()}`;
  const played = await api(token, 'POST', '/playback', { zoneIds: [z1], source: { kind: 'media', mediaId: media.body.id }, priority: 'emergency', title: 'Báo động' });
  t.equal(played.status, 201, JSON.stringify(played.body));
  const emergency = played.body.id as string;
  type Row = { event: string; at: string; reason: string | null; programmeId: string | null; airingId: string | null };
  const asRun = async (zoneId: string) => (await api(token, 'GET', `/as-run?zoneId=${zoneId}`)).body.items as Row[];
  let rows: Row[] = [];
  await until(async () => (rows = await asRun(z1)).some((r) => r.programmeId === emergency && r.event === 'start'), 'the emergency on air');
  const emergencyStartMs = Date.parse(rows.find((r) => r.programmeId === emergency && r.event === 'start')!.at);
  await until(async () => (await asRun(z2)).some((r) => r.airingId === airingId && r.event === 'start'), 'the timetable airing on air');
  await until(() => {
    try {
      const snap = JSON.parse(readFileSync(snapshotFile, 'utf8')) as { zones: unknown[]; attachments: { command: { endpointId: string } }[] };
      return snap.zones.length === 2 && snap.attachments.length === 2;
    } catch {
      return false;
    }
  }, 'the topology snapshot with both zones and devices');
  await until(() => Date.now() > timetableStartMs + 3000, 'three seconds of the airing');
  checkHeard(rx1, emergencyStartMs, Date.now() - 2000, Date.now() - 100, 'before the kill, emergency');
  checkHeard(rx2, timetableStartMs, Date.now() - 2000, Date.now() - 100, 'before the kill, timetable');

  // ---- kill -9; PostgreSQL is away when the server comes back.
  await kill9();
  pg.stopFast();
  const restartedAt = Date.now();
  start();
  await server!.waitFor((l) => l.msg === 'programmes of the previous run put back on air at their offset, before the database', 'the ledger back on air before the database');
  await server!.waitFor((l) => retrying(l) && Number(l.attempt) >= 2, 'the database still away');
  await until(() => rx1.firstAfter(restartedAt) !== undefined && rx2.firstAfter(restartedAt) !== undefined, 'both devices to hear again');
  const earlyFrom = Math.max(rx1.firstAfter(restartedAt)!, rx2.firstAfter(restartedAt)!) + 1000;
  await until(() => Date.now() > earlyFrom + 2000, 'two seconds heard before the database');
  const earlyTo = Date.now();
  t.notOk(server!.lines.some((l) => l.msg === 'Loa server listening' || l.msg === 'database reached'), 'the database has not been reached; the server is not listening');
  checkHeard(rx1, emergencyStartMs, earlyFrom, earlyTo - 100, 'database away, emergency');
  checkHeard(rx2, timetableStartMs, earlyFrom, earlyTo - 100, 'database away, timetable airing');

  pg.restart();
  await server!.listening();
  const timings = (await server!.waitFor((l) => l.msg === 'startup timings', 'startup timings')).sinceProcessStartMs as Record<string, number>;
  t.ok(timings['on-air-early'] < timings.database, `on air (${timings['on-air-early']} ms) before the database (${timings.database} ms)`);
  t.ok(server!.lines.some((l) => l.msg === 'topology snapshot agrees with the database'), 'the snapshot agreed with the database');
  token = await login();
  const listed = (await api(token, 'GET', '/playback')).body.items as { id: string }[];
  t.ok(listed.some((p) => p.id === emergency), 'the emergency is listed under its id');
  const listenedAt = Date.now();
  await until(() => Date.now() > listenedAt + 2500, 'two seconds after the database');
  checkHeard(rx1, emergencyStartMs, listenedAt + 500, Date.now() - 100, 'database back, emergency');
  checkHeard(rx2, timetableStartMs, listenedAt + 500, Date.now() - 100, 'database back, timetable airing');
  await until(async () => (rows = await asRun(z2)).filter((r) => r.airingId === airingId && r.event === 'start').length >= 2, 'the resumed airing in the as-run log');
  t.same(
    rows.filter((r) => r.airingId === airingId).map((r) => [r.event, r.reason]),
    [
      ['start', 'scheduled'],
      ['end', 'interrupted'],
      ['start', 'resumed after interruption'],
    ],
    'the timetable adopted the airing the ledger put back: resumed once, not twice',
  );

  // ---- a snapshot that disagrees with the database: rx-2's attachment points at rx-3.
  await kill9();
  const snap = JSON.parse(readFileSync(snapshotFile, 'utf8')) as { attachments: { key: string; command: { endpointId: string; address: { port: number } } }[] };
  const a2 = snap.attachments.find((a) => a.command.endpointId === ep2.body.endpoint.id)!;
  a2.command.address.port = rx3.port;
  a2.key = a2.key.replace(`:${rx2.port}`, `:${rx3.port}`);
  writeFileSync(snapshotFile, JSON.stringify(snap));
  pg.stopFast();
  const restarted2 = Date.now();
  start();
  await server!.waitFor((l) => retrying(l), 'the database away');
  await until(() => rx3.firstAfter(restarted2) !== undefined, 'rx-3 to hear the airing, as the snapshot says');
  const rx3From = rx3.firstAfter(restarted2)! + 1000;
  // Two seconds: a shorter window may hold no mid-second instant to check.
  await until(() => Date.now() > rx3From + 2000, 'two seconds on rx-3');
  checkHeard(rx3, timetableStartMs, rx3From, Date.now() - 100, 'snapshot only, rx-3');
  pg.restart();
  await server!.listening();
  t.ok(server!.lines.some((l) => l.msg === 'topology snapshot differed from the database: the engine now has the database\'s zones and endpoints'), 'the difference is logged');
  const reconciledAt = Date.now();
  await until(() => Date.now() > reconciledAt + 2500, 'two seconds after the reconcile');
  t.equal(rx3.packetsBetween(reconciledAt + 500, Date.now()), 0, 'rx-3, not in the database, hears nothing once the database is open');
  checkHeard(rx2, timetableStartMs, reconciledAt + 500, Date.now() - 100, 'database wins, rx-2');
  const rewritten = JSON.parse(readFileSync(snapshotFile, 'utf8')) as typeof snap;
  t.ok(rewritten.attachments.some((a) => a.command.endpointId === ep2.body.endpoint.id && a.command.address.port === rx2.port), 'the snapshot is written again from the database');

  // ---- a corrupt snapshot: the database-first order, with a log line that says why.
  await kill9();
  writeFileSync(snapshotFile, '{"v":1,"zones":[{"id":');
  start();
  const fallback = await server!.waitFor((l) => l.msg === 'no usable topology snapshot: programmes go back on air once the database is open', 'the fallback line');
  t.match(String(fallback.reason), /^corrupt/, `says why (${fallback.reason})`);
  await server!.listening();
  const t2 = (await server!.waitFor((l) => l.msg === 'startup timings', 'startup timings')).sinceProcessStartMs as Record<string, number>;
  t.notOk('on-air-early' in t2, 'nothing went on air before the database');
  const upAt = Date.now();
  await until(() => Date.now() > upAt + 2500, 'two seconds after the start');
  checkHeard(rx1, emergencyStartMs, upAt + 500, Date.now() - 100, 'after a corrupt snapshot, emergency');
  checkHeard(rx2, timetableStartMs, upAt + 500, Date.now() - 100, 'after a corrupt snapshot, timetable airing');
  t.doesNotThrow(() => JSON.parse(readFileSync(snapshotFile, 'utf8')), 'the snapshot is whole again');

  server!.kill('SIGTERM');
  await server!.exited;
});
