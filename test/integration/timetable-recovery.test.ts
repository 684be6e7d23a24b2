// kill -9 mid-programme, restart: the server (a child process with its own data dir and
// database) puts the airing back on air at the offset the schedule says, not from the top.
// The file's frequency changes every second: a speaker agent (which reconnects to the restarted
// server by itself) must hear, at each server time, the second of the file the schedule says;
// and the restarted engine's as-run 'start' row must carry that media position.
import t from 'tap';
import path from 'node:path';
import { utcMsToPlain } from '../../scheduler/local-time.js';
import { multipartBody } from '../helpers/audio-files.js';
import { heardStepAt, listeningAgent, steppedWav } from '../helpers/heard-audio.js';
import { restartableServer } from '../helpers/restartable-server.js';

// The stepped file is 60 s: a restart that takes half a minute on a loaded machine still finds audio left.

t.test('kill -9 mid-programme, restart: back on air at the right offset', async (t) => {
  const s = await restartableServer(t);
  const { dataDir, port } = s;
  const api = s.api;
  let token = await s.start();
  const zone = await api(token, 'POST', '/zones', { parentId: null, kind: 'commune', name: 'Xã Gio Hải' });
  t.equal(zone.status, 201);
  const upload = multipartBody({ zoneId: zone.body.id, title: 'Thang âm' }, { name: 'steps.wav', data: steppedWav(60) });
  const media = await api(token, 'POST', '/media', upload.payload, upload.headers);
  t.equal(media.status, 201, JSON.stringify(media.body));

  const ep = await api(token, 'POST', '/endpoints', { name: 'loa-1', zoneId: zone.body.id, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(ep.status, 201);
  const wavPath = path.join(dataDir, 'agent.wav');
  const agent = await listeningAgent(t, { server: `ws://127.0.0.1:${port}`, endpointId: ep.body.endpoint.id, token: ep.body.credential, wavPath });

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
  await s.kill9();
  killed = true;
  const killedAt = Date.now();

  token = await s.start();
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
  const heardAt = heardStepAt(wavPath);
  const heardSecond = (k: number) => heardAt(startMs + k * 1000 + 500 + delay);
  t.ok(Math.abs(heardSecond(1) - 1) < 0.1, 'before the kill: second 1 of the file at its time');
  for (const k of [firstAfter, firstAfter + 1]) {
    const heard = heardSecond(k);
    t.ok(Math.abs(heard - k) < 0.1, `after the restart: second ${k} of the file at its time (heard ${heard.toFixed(2)})`);
  }

  await s.stop();
});
