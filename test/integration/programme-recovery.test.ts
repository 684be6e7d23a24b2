// kill -9 while a manual programme (preempted) and an emergency programme (on air) run, then
// a restart on the same data: both come back under the same ids, the emergency at the offset
// the wall clock says (a speaker agent, which reconnects by itself, hears second k of the file
// at its time), the manual one where it was held (it was preempted: its playhead did not move);
// a tone whose duration ran out during the outage does not come back. The as-run log closes the
// emergency's open interval at the last on-air mark before the kill ('interrupted'), marks the
// resumptions, and the statistics count only what aired.
import t from 'tap';
import path from 'node:path';
import { monthlyStats } from '../../scheduler/monthly-stats.js';
import type { AsRunRow } from '../../scheduler/as-run.js';
import { multipartBody } from '../helpers/audio-files.js';
import { heardStepAt, listeningAgent, steppedWav } from '../helpers/heard-audio.js';
import { restartableServer } from '../helpers/restartable-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface ApiRow {
  event: string;
  at: string;
  reason: string | null;
  programmeId: string | null;
  mediaPositionMs: number | null;
}

t.test('kill -9 with a manual and an emergency programme running: both resume at their offset', async (t) => {
  const s = await restartableServer(t);
  let token = await s.start();
  const zone = await s.api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Hải' });
  t.equal(zone.status, 201);
  const other = await s.api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Việt' });
  const upload = multipartBody({ zoneId: zone.body.id, title: 'Thang âm' }, { name: 'steps.wav', data: steppedWav(60) });
  const media = await s.api(token, 'POST', '/media', upload.payload, upload.headers);
  t.equal(media.status, 201, JSON.stringify(media.body));

  const ep = await s.api(token, 'POST', '/endpoints', { name: 'loa-1', zoneId: zone.body.id, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(ep.status, 201);
  const wavPath = path.join(s.dataDir, 'agent.wav');
  const agent = await listeningAgent(t, { server: `ws://127.0.0.1:${s.port}`, endpointId: ep.body.endpoint.id, token: ep.body.credential, wavPath });

  const asRun = async (zoneId: string) => (await s.api(token, 'GET', `/as-run?zoneId=${zoneId}`)).body.items as ApiRow[];
  const play = async (body: object) => {
    const r = await s.api(token, 'POST', '/playback', body);
    t.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };

  // The manual programme, then an emergency over it (the manual one is held where it was).
  const manual = await play({ zoneIds: [zone.body.id], source: { kind: 'media', mediaId: media.body.id }, priority: 'normal', title: 'Nhạc' });
  await until(async () => (await asRun(zone.body.id)).some((r) => r.programmeId === manual && r.event === 'start'), 'the manual programme on air');
  await sleep(2000);
  const emergency = await play({ zoneIds: [zone.body.id], source: { kind: 'media', mediaId: media.body.id }, priority: 'emergency', title: 'Báo động' });
  let rows = [] as ApiRow[];
  await until(async () => (rows = await asRun(zone.body.id)).some((r) => r.programmeId === emergency && r.event === 'start'), 'the emergency on air');
  const emergencyStart = rows.find((r) => r.programmeId === emergency && r.event === 'start')!;
  const startMs = Date.parse(emergencyStart.at);
  t.equal(emergencyStart.mediaPositionMs, 0);
  const heldAt = rows.find((r) => r.programmeId === manual && r.event === 'preempted')!.mediaPositionMs!;
  t.ok(heldAt > 1000, `the manual programme held at ${heldAt} ms`);
  // A tone on another zone that will have ended by the time the server is back.
  const tone = await play({ zoneIds: [other.body.id], source: { kind: 'tone', freqHz: 800, durationMs: 3000 }, priority: 'normal' });
  const toneStartedAt = Date.now();

  await until(() => Date.now() > startMs + 3000, 'three seconds of the emergency');
  let killed = false;
  let backAtServerMs = NaN;
  agent.on('playing', ({ serverMs }) => {
    if (killed && Number.isNaN(backAtServerMs)) backAtServerMs = serverMs;
  });
  await s.kill9();
  killed = true;
  const killedAt = Date.now();
  // The tone's 3 s run out while the server is down.
  while (Date.now() < toneStartedAt + 3500) await sleep(50);

  token = await s.start();
  const listed = (await s.api(token, 'GET', '/playback')).body.items as { id: string; title: string }[];
  t.same(listed.map((p) => p.id).sort(), [manual, emergency].sort(), 'the manual and emergency programmes are back under their ids; the expired tone is not');

  // The emergency at its wall-clock offset: second k of the file at startMs + k s.
  await until(() => !Number.isNaN(backAtServerMs), 'the agent to hear audio again', 60_000);
  const delay = agent.session!.playoutDelayMs;
  const firstAfter = Math.ceil((backAtServerMs - delay - startMs) / 1000) + 1;
  await until(() => Date.now() > startMs + (firstAfter + 2) * 1000 + delay + 300, 'two more seconds of audio');

  // Stopping the emergency gives the air back to the manual programme, where it was held.
  const stopAt = Date.now();
  t.equal((await s.api(token, 'DELETE', `/playback/${emergency}`)).status, 204);
  await until(async () => (rows = await asRun(zone.body.id)).filter((r) => r.programmeId === manual && r.event === 'start').length === 2, 'the manual programme back on air');
  await sleep(1500);
  t.equal((await s.api(token, 'DELETE', `/playback/${manual}`)).status, 204);
  await agent.close();

  const heard = heardStepAt(wavPath);
  const before = heard(startMs + 1500 + delay);
  t.ok(Math.abs(before - 1) < 0.1, `before the kill: second 1 of the emergency at its time (heard ${before.toFixed(2)})`);
  for (const k of [firstAfter, firstAfter + 1]) {
    const h = heard(startMs + k * 1000 + 500 + delay);
    t.ok(Math.abs(h - k) < 0.1, `after the restart: second ${k} of the emergency at its time (heard ${h.toFixed(2)})`);
  }

  await until(async () => (rows = await asRun(zone.body.id)).filter((r) => r.event === 'end').length === 3, 'the as-run rows');
  const seq = (id: string) => rows.filter((r) => r.programmeId === id).map((r) => [r.event, r.reason]);
  t.same(seq(emergency), [
    ['start', null],
    ['end', 'interrupted'],
    ['start', 'resumed after interruption'],
    ['end', 'stopped'],
  ]);
  t.same(seq(manual), [
    ['start', null],
    ['preempted', `preempted by Báo động (${emergency})`],
    ['start', 'resumed after interruption'],
    ['end', 'stopped'],
  ]);
  const resumedManual = rows.filter((r) => r.programmeId === manual && r.event === 'start')[1];
  t.ok(Math.abs(resumedManual.mediaPositionMs! - heldAt) <= 100, `the manual programme resumed at ${resumedManual.mediaPositionMs} ms, where it was held (${heldAt} ms)`);
  t.ok(Date.parse(resumedManual.at) >= stopAt, 'once the emergency was stopped');
  const interrupted = rows.find((r) => r.programmeId === emergency && r.reason === 'interrupted')!;
  const interruptedAt = Date.parse(interrupted.at);
  t.ok(interruptedAt <= killedAt && interruptedAt > killedAt - 2000, 'closed at the last on-air mark before the kill');

  const asRows: AsRunRow[] = rows.map((r) => ({ zoneId: zone.body.id, programme: r.programmeId!, programmeKind: 'media', manualProgrammeId: r.programmeId!, event: r.event as AsRunRow['event'], atUtcMs: Date.parse(r.at), by: 'x' }));
  const report = monthlyStats(asRows, { timeZone: 'UTC' });
  t.equal(report.anomalies, 0, 'every interval pairs up');
  t.equal(report.open, 0);
  const e = rows.filter((r) => r.programmeId === emergency).map((r) => Date.parse(r.at));
  const m = rows.filter((r) => r.programmeId === manual).map((r) => Date.parse(r.at));
  const aired = e[1] - e[0] + (e[3] - e[2]) + (m[1] - m[0]) + (m[3] - m[2]);
  t.ok(Math.abs(report.stats[0].totalHours * 3_600_000 - aired) < 1, 'the statistics count what aired, not the outage');

  await s.stop();
});
