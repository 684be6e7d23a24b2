// A timetable entry end to end: created through the API a few seconds ahead, applied to the
// running timetable service at once, handed to the engine early with startAt, and heard by a
// real speaker agent. The engine starts it on the first frame due at or after its time (within
// one frame, 20 ms, as its as-run row shows), and the tone's onset in the agent's WAV, mapped to
// server wall-clock by its timeline sidecar, minus the zone's playout delay (PCMU adds no codec
// delay), falls on that frame within the agent's measurement tolerance. Then live edits.
import t from 'tap';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readWav } from '../../codecs/wav.js';
import { dominantFrequency } from '../../codecs/analysis.js';
import { SpeakerAgent } from '../../endpoint/agent.js';
import type { WavTimeline } from '../../endpoint/output.js';
import { utcMsToPlain } from '../../scheduler/local-time.js';
import { createLogger } from '../../server/logger.js';
import { startTimetables } from '../../server/timetable/runtime.js';
import { timetableDb } from '../../server/timetable/tables.js';
import { bearer } from '../helpers/app.js';
import { multipartBody, toneWav } from '../helpers/audio-files.js';
import { startBroadcastServer, until } from './harness.js';

const s = await startBroadcastServer(t, { control: { statsIntervalMs: 500, keepaliveIntervalMs: 1000 } });
const runtime = await startTimetables({ config: s.config, database: s.database, logger: createLogger({ level: 'silent' }), broadcast: s.host });
t.teardown(() => runtime.close());

t.test('a scheduled item starts within one frame of its time at a speaker agent', async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'loa-tt-e2e-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  const commune = await s.api('POST', '/api/v1/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Mai' });
  const zoneId = commune.body.id as string;
  const ep = await s.api('POST', '/api/v1/endpoints', { name: 'loa-chợ', zoneId, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(ep.status, 201);
  const upload = multipartBody({ zoneId, title: 'Tín hiệu 1 kHz' }, { name: 'tone.wav', data: toneWav(2, 80) });
  const media = await s.app.inject({ method: 'POST', url: '/api/v1/media', payload: upload.payload, headers: { ...upload.headers, ...bearer(s.adminToken) } });
  t.equal(media.statusCode, 201, media.body);
  const mediaId = (media.json() as { id: string }).id;

  const wavPath = path.join(work, 'agent.wav');
  const agent = new SpeakerAgent({ server: s.wsUrl, endpointId: ep.body.endpoint.id, token: ep.body.credential, codecs: ['pcmu'], output: { kind: 'wav', path: wavPath }, rtcpIntervalMs: 500 });
  t.teardown(() => agent.close());
  const connected = once(agent, 'connected');
  await agent.start();
  await connected;
  await until(async () => agent.clock.synced && (await s.host.status()).endpoints.some((e) => e.endpointId === ep.body.endpoint.id && e.port !== null), 'agent synced and its address learned');
  const playoutDelayMs = agent.session!.playoutDelayMs;

  // Whole seconds ahead, beyond the planner's 3 s lead: the hand-over happens in the running service.
  const startMs = Math.ceil((Date.now() + 5000) / 1000) * 1000;
  const created = await s.api('POST', '/api/v1/timetables', {
    title: 'Thử giờ',
    zoneIds: [zoneId],
    programme: { kind: 'media', mediaId },
    priority: 'normal',
    start: utcMsToPlain(startMs, 'Asia/Ho_Chi_Minh').toString(),
    durationMs: 1500,
  });
  t.equal(created.status, 201, JSON.stringify(created.body));
  const airingId = `${created.body.entry.id}@${new Date(startMs).toISOString()}`;
  await until(() => runtime.timetable.planner.airing(airingId) !== undefined, 'the edit in the running plan', 2000);
  t.ok(startMs - Date.now() > runtime.timetable.planner.leadMs, 'it reached the running plan, without a restart, before its hand-over');

  const db = timetableDb(s.database.db);
  await until(async () => (await db.selectFrom('as_run').select('event').where('airing_id', '=', airingId).where('event', '=', 'end').execute()).length > 0, 'the airing ended', startMs - Date.now() + 10_000);
  await new Promise((r) => setTimeout(r, playoutDelayMs + 200));
  await agent.close();

  const wav = readWav(wavPath);
  const tl = JSON.parse(readFileSync(`${wavPath}.json`, 'utf8')) as WavTimeline;
  const serverMsAt = (i: number) => {
    let a = tl.anchors[0];
    for (const x of tl.anchors) if (x[0] <= i) a = x;
    return a[1] + ((i - a[0]) * 1000) / tl.sampleRate;
  };
  const rows = await db.selectFrom('as_run').selectAll().where('airing_id', '=', airingId).orderBy('seq').execute();
  t.same(rows.map((r) => r.event), ['start', 'end']);
  // The engine starts a play command on the first frame due at or after startAt: its 20 ms grid
  // runs from the worker's start, not from whole seconds, so that frame is 0–20 ms after the time.
  const engineLateMs = rows[0].at.getTime() - startMs;
  t.ok(engineLateMs >= 0 && engineLateMs < 20, `the engine starts it on the frame due at its time (+${engineLateMs} ms)`);
  const onset = wav.samples.findIndex((x) => Math.abs(x) > 300);
  t.ok(onset > 0, 'the recording starts in silence and the tone comes');
  const heardAt = serverMsAt(onset) - playoutDelayMs;
  const agentLateMs = heardAt - rows[0].at.getTime();
  // The agent plays that frame at its server time + playout delay, G.711's resampling delay
  // compensated (it was a steady 6.6 ms late before): what is left is clock sync on a busy machine.
  t.ok(Math.abs(agentLateMs) <= 5, `the agent plays the start frame ${agentLateMs.toFixed(2)} ms from its time`);
  t.ok(heardAt - startMs <= 20 + 10, `heard ${(heardAt - startMs).toFixed(2)} ms after the scheduled time`);
  const toneSegment = wav.samples.subarray(onset + 4800, onset + 4800 + 24000);
  t.ok(Math.abs(dominantFrequency(toneSegment, 48000) - 1000) < 5, 'it is the scheduled file that plays');
  // Duration 1.5 s: the tone stops there (max duration), not at the file's 2 s end. The engine
  // adds one faded-out frame, and the agent conceals (PLC) the frame that never comes after it.
  let last = wav.samples.length - 1;
  while (last > 0 && Math.abs(wav.samples[last]) <= 300) last--;
  const lengthMs = ((last - onset) * 1000) / 48000;
  t.ok(lengthMs >= 1500 - 20 && lengthMs <= 1500 + 2 * 20, `aired for ${lengthMs.toFixed(1)} ms`);

  t.match(rows[0], { zone_id: zoneId, programme: 'Tín hiệu 1 kHz', kind: 'media', by: 'timetable', reason: 'scheduled', entry_id: created.body.entry.id });
  t.ok(Math.abs(rows[0].at.getTime() - startMs) <= 20, `as-run start ${rows[0].at.getTime() - startMs} ms from schedule`);
  t.equal(rows[1].reason, 'max duration');
  t.ok(Math.abs(rows[1].at.getTime() - rows[0].at.getTime() - 1500) <= 20, 'ended by its duration, on the frame');
});

t.test('edits apply at once and leave alone what they do not touch', async (t) => {
  const commune = await s.api('POST', '/api/v1/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Việt' });
  const zoneId = commune.body.id as string;
  const upload = multipartBody({ zoneId, title: 'Nhạc hiệu' }, { name: 'jingle.wav', data: toneWav(6, 20) });
  const media = await s.app.inject({ method: 'POST', url: '/api/v1/media', payload: upload.payload, headers: { ...upload.headers, ...bearer(s.adminToken) } });
  const mediaId = (media.json() as { id: string }).id;
  const db = timetableDb(s.database.db);
  const rowsOf = (airingId: string) => db.selectFrom('as_run').selectAll().where('airing_id', '=', airingId).orderBy('seq').execute();
  const entry = (startMs: number, durationMs: number, title: string) => ({
    title,
    zoneIds: [zoneId],
    programme: { kind: 'media', mediaId },
    priority: 'normal',
    start: utcMsToPlain(startMs, 'Asia/Ho_Chi_Minh').toString(),
    durationMs,
  });

  const startMs = Math.ceil((Date.now() + 4500) / 1000) * 1000;
  const x = await s.api('POST', '/api/v1/timetables', entry(startMs, 3000, 'X'));
  t.equal(x.status, 201);
  const airingX = `${x.body.entry.id}@${new Date(startMs).toISOString()}`;
  await until(async () => (await rowsOf(airingX)).length > 0, 'X on air', 15_000);

  // While X is on air: its title edited (same airing), another entry created and deleted.
  t.equal((await s.api('PUT', `/api/v1/timetables/${x.body.entry.id}`, { ...entry(startMs, 3000, 'X, renamed'), version: 1 })).status, 200);
  const y = await s.api('POST', '/api/v1/timetables', entry(startMs + 3_600_000, 1000, 'Y'));
  t.equal(y.status, 201);
  t.equal((await s.api('DELETE', `/api/v1/timetables/${y.body.entry.id}`)).status, 204);
  await until(async () => (await rowsOf(airingX)).some((r) => r.event === 'end'), 'X ended', 10_000);
  const rx = await rowsOf(airingX);
  t.same(rx.map((r) => r.event), ['start', 'end'], 'X was not interrupted');
  t.equal(rx[1].reason, 'max duration', 'X ran its full duration');
  t.ok(Math.abs(rx[1].at.getTime() - startMs - 3000) <= 20);

  // An edit that shortens the very airing on air ends it at once.
  const start2 = Math.ceil((Date.now() + 4500) / 1000) * 1000;
  const z = await s.api('POST', '/api/v1/timetables', entry(start2, 5000, 'Z'));
  const airingZ = `${z.body.entry.id}@${new Date(start2).toISOString()}`;
  await until(async () => (await rowsOf(airingZ)).length > 0, 'Z on air', 15_000);
  await new Promise((r) => setTimeout(r, 1200));
  t.equal((await s.api('PUT', `/api/v1/timetables/${z.body.entry.id}`, entry(start2, 1000, 'Z'))).status, 200);
  await until(async () => (await rowsOf(airingZ)).some((r) => r.event === 'end'), 'Z stopped', 5000);
  const rz = await rowsOf(airingZ);
  t.equal(rz[rz.length - 1].reason, 'stopped', 'stopped by the edit');
  t.ok(rz[rz.length - 1].at.getTime() < start2 + 5000, 'well before its old end');
  t.same(runtime.timetable.inEngine.filter((id) => id === airingZ), [], 'nothing of Z left in the engine');
});
