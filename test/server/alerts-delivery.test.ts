// An alert heard by real speaker agents (WebSocket control channel, RTP over UDP, WAV output):
// the agent in the targeted commune hears the siren then the message and is reported reached
// at its playout time (its 'played' report matches the audio it recorded); the agent in
// another commune hears nothing and is not in the report; an endpoint that never connected is
// listed offline; the live stream (SSE) carries the updates; cancel silences the loudspeaker
// from the frame the engine stopped it on.
import t from 'tap';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readWav } from '../../codecs/wav.js';
import { strongestTone } from '../../codecs/analysis.js';
import type { WavTimeline } from '../../endpoint/output.js';
import type { ProgrammeEndedEvent, ProgrammeZoneEvent } from '../../engine/protocol.js';
import { newId } from '../../server/ids.js';
import { mediaFilePath } from '../../server/media/store.js';
import { toneWav } from '../helpers/audio-files.js';
import { listeningAgent } from '../helpers/heard-audio.js';
import { startBroadcastServer, until } from '../integration/harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-alert-heard-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const s = await startBroadcastServer(t);
const district = await s.zone(null, 'Huyện Hải Lăng');
const target = await s.zone(district, 'Xã Hải An');
const other = await s.zone(district, 'Xã Hải Khê');
const authority = await s.user([{ role: 'authority', zoneId: district.id }]);

// The message: a 440 Hz media item, 3 s.
const wav = toneWav(3, 0);
const sha256 = createHash('sha256').update(wav).digest('hex');
mkdirSync(path.dirname(mediaFilePath(s.config, sha256)), { recursive: true });
writeFileSync(mediaFilePath(s.config, sha256), wav);
const mediaId = newId('media');
await s.database.db
  .insertInto('media')
  .values({ id: mediaId, sha256, zone_id: district.id, title: 'Tin bão', filename: 'tin.wav', format: 'wav', codec: 'pcm_s16le', duration_ms: 3000, size_bytes: wav.length, sample_rate: 48000, channels: 1 })
  .execute();

async function endpoint(zoneId: string, name: string) {
  const r = await s.api('POST', '/api/v1/endpoints', { name, zoneId, kind: 'rtp', codecs: ['pcmu'] });
  return { id: r.body.endpoint.id as string, token: r.body.credential as string };
}
const epHeard = await endpoint(target.id, 'Loa chợ Hải An');
const epOffline = await endpoint(target.id, 'Loa thôn Thuận Đầu');
const epOther = await endpoint(other.id, 'Loa Hải Khê');
const wavHeard = path.join(dir, 'heard.wav');
const wavOther = path.join(dir, 'other.wav');
const agentHeard = await listeningAgent(t, { server: s.wsUrl, endpointId: epHeard.id, token: epHeard.token, wavPath: wavHeard });
const agentOther = await listeningAgent(t, { server: s.wsUrl, endpointId: epOther.id, token: epOther.token, wavPath: wavOther });
await until(() => s.host.endpointLink(epHeard.id) === 'agent' && s.host.endpointLink(epOther.id) === 'agent', 'both agents attached');
const delayMs = agentHeard.playout!.playoutDelayMs;

/** The audio an agent played between server times a and b (from its WAV and timeline). */
function heard(wavPath: string): (a: number, b: number) => Int16Array {
  const w = readWav(wavPath);
  const tl = JSON.parse(readFileSync(`${wavPath}.json`, 'utf8')) as WavTimeline;
  const index = (ms: number) => {
    let anchor = tl.anchors[0];
    for (const x of tl.anchors) if (x[1] <= ms) anchor = x;
    return Math.round(anchor[0] + ((ms - anchor[1]) * tl.sampleRate) / 1000);
  };
  return (a, b) => w.samples.subarray(Math.max(0, index(a)), Math.min(w.samples.length, index(b)));
}
const rms = (x: Int16Array) => Math.sqrt(x.reduce((acc, v) => acc + v * v, 0) / Math.max(1, x.length));

t.test('siren then message in the target commune, reached; elsewhere silence; offline listed; cancel silences', async (t) => {
  const zoneEvents: ProgrammeZoneEvent[] = [];
  const ended: ProgrammeEndedEvent[] = [];
  s.host.engine.on('programme', (e) => zoneEvents.push(e));
  s.host.engine.on('programmeEnded', (e) => ended.push(e));

  // A first programme in the commune, so the agent has the stream's sender report (its cold
  // start, endpoint/playout.ts srWaitMs, is not what this test is about): a 1 s tone.
  const warm = await s.api('POST', '/api/v1/playback', { zoneIds: [target.id], source: { kind: 'tone', freqHz: 300, durationMs: 1000 }, priority: 'normal' });
  t.equal(warm.status, 201);
  await until(() => ended.some((e) => e.programmeId === warm.body.id), 'the warm-up tone played');
  await new Promise((r) => setTimeout(r, 1000));

  const controller = new AbortController();
  const created = await s.api(
    'POST',
    '/api/v1/alerts',
    {
      zoneIds: [target.id],
      event: 'Bão',
      category: 'Met',
      severity: 'Extreme',
      headline: 'Bão số 9 đổ bộ',
      attention: { shape: 'hilo', durationMs: 2000 },
      message: { kind: 'media', mediaId },
    },
    authority.token,
  );
  t.equal(created.status, 201, JSON.stringify(created.body));
  const alertId: string = created.body.id;
  const programmeId: string = created.body.airings[0].programmeId;
  const stream = await fetch(`${s.url}/api/v1/alerts/${alertId}/delivery/stream`, { headers: { authorization: `Bearer ${authority.token}` }, signal: controller.signal });
  t.equal(stream.status, 200);
  t.match(stream.headers.get('content-type'), /text\/event-stream/);
  let streamed = '';
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream.body!) streamed += decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      /* aborted at the end */
    }
  })();

  const report = async () => (await s.api('GET', `/api/v1/alerts/${alertId}/delivery`, undefined, authority.token)).body.airings[0];
  await until(async () => (await report())?.reached === 1, 'the agent reported reached', 20_000);
  const r = await report();
  t.equal(r.endpoints.length, 2, 'the two endpoints of the target commune, not the other commune’s');
  const reached = r.endpoints.find((e: { endpointId: string }) => e.endpointId === epHeard.id);
  const offline = r.endpoints.find((e: { endpointId: string }) => e.endpointId === epOffline.id);
  t.match(reached, { status: 'reached', via: 'agent' });
  t.match(offline, { status: 'offline', lastContact: null, at: null }, 'never connected: offline, no last contact');
  const reachedAt = Date.parse(reached.at);
  const onAir = zoneEvents.find((e) => e.programmeId === programmeId && e.zoneId === target.id && e.state === 'on-air')!;
  t.ok(onAir, 'the engine put it on air in the target commune');
  t.ok(Math.abs(reachedAt - (onAir.atMs + delayMs)) < 1000, `reached at its playout time: ${reachedAt - onAir.atMs} ms after the on-air frame (delay ${delayMs} ms)`);
  t.notOk(zoneEvents.some((e) => e.programmeId === programmeId && e.zoneId === other.id), 'never on air in the other commune');

  // Into the message (siren 2 s + 0.5 s gap), then cancel.
  await until(() => agentHeard.clock.serverNow() > reachedAt + 3500, 'a second of the message played', 20_000);
  const cancel = await s.api('POST', `/api/v1/alerts/${alertId}/cancel`, {}, authority.token);
  t.equal(cancel.status, 200);
  await until(() => ended.some((e) => e.programmeId === programmeId), 'the engine ended it');
  const stoppedAt = ended.find((e) => e.programmeId === programmeId)!.atMs;
  await until(() => agentHeard.clock.serverNow() > stoppedAt + delayMs + 1500, 'a second and a half after the stop heard');
  controller.abort();
  await reading;
  await agentHeard.close();
  await agentOther.close();

  const a = heard(wavHeard);
  t.ok(rms(a(reachedAt - 200, reachedAt - 40)) < 50, 'silent before the reported first frame');
  for (const at of [reachedAt + 100, reachedAt + 700, reachedAt + 1300]) {
    const f = strongestTone(a(at, at + 100), 48000, [300, 440, 600, 1200]);
    t.ok(f === 600 || f === 1200, `siren at +${at - reachedAt} ms (${f} Hz)`);
  }
  for (const at of [reachedAt + 2800, reachedAt + 3300]) t.equal(strongestTone(a(at, at + 100), 48000, [300, 440, 600, 1200]), 440, `then the message at +${at - reachedAt} ms`);
  t.ok(rms(a(reachedAt + 2800, reachedAt + 2900)) > 1000, 'the message is loud');
  const heardUntil = stoppedAt + delayMs;
  t.ok(rms(a(heardUntil - 300, heardUntil - 100)) > 1000, 'the message played up to the stop');
  // One frame after the engine's stop frame (plus the agent's clock estimate, a few ms here), silence.
  t.ok(rms(a(heardUntil + 40, heardUntil + 1000)) < 50, `silence from one frame after the stop frame (rms ${rms(a(heardUntil + 40, heardUntil + 1000)).toFixed(1)})`);
  t.ok(rms(heard(wavOther)(reachedAt - 500, reachedAt + 4000)) < 50, 'the other commune heard nothing');

  const events = streamed.split('\n\n').filter((b) => b.startsWith('event: delivery')).map((b) => JSON.parse(b.slice(b.indexOf('data: ') + 6)));
  t.ok(events.some((e) => e.endpointId === epOffline.id && e.status === 'offline'), 'the stream listed the offline endpoint');
  t.ok(events.some((e) => e.endpointId === epHeard.id && e.status === 'reached'), 'the stream carried the reached update');
  t.notOk(events.some((e) => e.endpointId === epOther.id), 'nothing about the other commune');
});
