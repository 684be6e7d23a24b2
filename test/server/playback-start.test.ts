// POST /playback answers from the engine's programmeStarted event: 'on-air' where it won the
// zone, 'waiting' behind a higher priority, never by asking the engine for status. The
// fallback bound for slow sources is set to 2 minutes here, so an answer that did not come
// from the event would make this test time out instead of passing late.
import t from 'tap';
import type { ProgrammeStartedEvent } from '../../engine/protocol.js';
import { startBroadcastServer, until } from '../integration/harness.js';

const s = await startBroadcastServer(t, { startWaitMs: 120_000 });
const village = await s.zone(null, 'Thôn 1');

let statusCalls = 0;
const status = s.host.engine.status.bind(s.host.engine);
s.host.engine.status = () => {
  statusCalls++;
  return status();
};
const startedEvents: ProgrammeStartedEvent[] = [];
s.host.engine.on('programmeStarted', (e) => startedEvents.push(e));

const play = (priority: string, freqHz: number) =>
  s.api('POST', '/api/v1/playback', { zoneIds: [village.id], source: { kind: 'tone', freqHz, durationMs: 60_000 }, priority });

t.test('on-air, then waiting behind an emergency, both from the event', async (t) => {
  const alert = await play('emergency', 1000);
  t.equal(alert.status, 201);
  t.equal(alert.body.state, 'on-air');
  const music = await play('normal', 440);
  t.equal(music.status, 201);
  t.equal(music.body.state, 'waiting', 'the emergency holds the zone');
  const ev = startedEvents.find((e) => e.programmeId === music.body.id);
  t.ok(ev, 'the engine announced it');
  t.same(ev?.zones.map((z) => z.state), ['waiting']);
  t.equal(statusCalls, 0, 'no status polling');
  s.host.stop(alert.body.id);
  s.host.stop(music.body.id);
  await until(() => s.host.activeProgrammes().length === 0, 'both ended');
});

t.test('a refused play answers failed from the engine error, not a timeout', async (t) => {
  // A zone the engine does not know yet (written to the database without telling the engine).
  const { newId } = await import('../../server/ids.js');
  const id = newId('zone');
  await s.database.db
    .insertInto('zones')
    .values({ id, parent_id: null, kind: 'zone', name: 'ghost', time_zone: 'Asia/Ho_Chi_Minh', path: `/${id}/` })
    .execute();
  const r = await s.api('POST', '/api/v1/playback', { zoneIds: [id], source: { kind: 'tone', freqHz: 500, durationMs: 1000 }, priority: 'normal' });
  t.equal(r.status, 422);
  t.equal(statusCalls, 0);
});
