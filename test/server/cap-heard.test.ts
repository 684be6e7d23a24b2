// End to end, as a disaster committee uses it: a CAP document (our own, Vietnamese, MA_DVHC
// geocode) posted to a real server → the speaker agent in the targeted commune hears the siren,
// then Vietnamese speech synthesised offline from the alert's text (espeak-ng: a voice's level,
// band and syllable rhythm), and is reported reached within 1 s of its playout; the agent in
// another commune keeps hearing its own programme (a 300 Hz tone, as a timetable airing would
// be) undisturbed.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dominantFrequency, strongestTone } from '../../codecs/analysis.js';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import { heardBetween, listeningAgent } from '../helpers/heard-audio.js';
import { bandEnergyFraction, envelopePeaks, rmsDbfs } from '../helpers/speech-measures.js';
import { startBroadcastServer, until } from '../integration/harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'loa-cap-heard-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const s = await startBroadcastServer(t);
const province = await s.zone(null, 'Tỉnh Quảng Trị');
const target = await s.zone(province, 'Xã Hải An');
const other = await s.zone(province, 'Xã Hải Khê');
for (const [z, code] of [[target, '19801'], [other, '19804']] as const) {
  const r = await s.api('PATCH', `/api/v1/zones/${z.id}`, { adminCode: code });
  if (r.status !== 200) throw new Error(r.text);
}
const authority = await s.user([{ role: 'authority', zoneId: province.id }]);

async function endpoint(zoneId: string, name: string) {
  const r = await s.api('POST', '/api/v1/endpoints', { name, zoneId, kind: 'rtp', codecs: ['pcmu'] });
  return { id: r.body.endpoint.id as string, token: r.body.credential as string };
}
const epTarget = await endpoint(target.id, 'Loa chợ Hải An');
const epOther = await endpoint(other.id, 'Loa Hải Khê');
const wavTarget = path.join(dir, 'target.wav');
const wavOther = path.join(dir, 'other.wav');
const agentTarget = await listeningAgent(t, { server: s.wsUrl, endpointId: epTarget.id, token: epTarget.token, wavPath: wavTarget });
const agentOther = await listeningAgent(t, { server: s.wsUrl, endpointId: epOther.id, token: epOther.token, wavPath: wavOther });
await until(() => s.host.endpointLink(epTarget.id) === 'agent' && s.host.endpointLink(epOther.id) === 'agent', 'both agents attached');
const delayMs = agentTarget.playout!.playoutDelayMs;

const heard = heardBetween;

const GAP_MS = 500;
const capDoc = `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>QT-LU-2026-11-27-01</identifier>
  <sender>ubnd-quangtri@pctt.gov.vn</sender>
  <sent>2026-11-27T14:30:00+07:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>vi-VN</language>
    <category>Met</category>
    <event>Lũ quét</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Observed</certainty>
    <headline>Cảnh báo lũ quét trên sông Thạch Hãn</headline>
    <description>Mực nước dâng 2 mét trong 3 giờ tới.</description>
    <instruction>Người dân di chuyển lên vùng cao ngay.</instruction>
    <area><areaDesc>Xã Hải An</areaDesc><geocode><valueName>MA_DVHC</valueName><value>19801</value></geocode></area>
  </info>
</alert>`;

t.test('a CAP alert: siren then Vietnamese speech in the target commune, reached; the other commune undisturbed', async (t) => {
  const zoneEvents: ProgrammeZoneEvent[] = [];
  s.host.engine.on('programme', (e) => zoneEvents.push(e));
  // The other commune's own programme, and a warm-up in the target commune so its agent has the
  // stream's sender report before the alert (its cold start is not what this test is about).
  const background = await s.api('POST', '/api/v1/playback', { zoneIds: [other.id], source: { kind: 'tone', freqHz: 300, durationMs: 120_000 }, priority: 'normal' });
  t.equal(background.status, 201);
  const warm = await s.api('POST', '/api/v1/playback', { zoneIds: [target.id], source: { kind: 'tone', freqHz: 300, durationMs: 1000 }, priority: 'normal' });
  t.equal(warm.status, 201);
  await until(() => !s.host.onAir.get(target.id), 'the warm-up ended', 15_000);

  // The attention signal is the alerts service's default (a 10 s wail); then the speech.
  const r = await fetch(`${s.url}/api/v1/alerts/cap`, { method: 'POST', headers: { authorization: `Bearer ${authority.token}`, 'content-type': 'application/cap+xml' }, body: capDoc });
  const body = (await r.json()) as { alertId: string; zoneIds: string[] };
  t.equal(r.status, 201, JSON.stringify(body));
  t.same(body.zoneIds, [target.id]);
  const alert = (await s.api('GET', `/api/v1/alerts/${body.alertId}`)).body;
  const programmeId: string = alert.airings[0].programmeId;
  // New text: its speech is synthesised while the siren already plays, then follows it.
  const parts = () => s.host.activeProgrammes().filter((p) => (p.request as { alertId?: string } | undefined)?.alertId === body.alertId).map((p) => (p.request as { part: string }).part);
  t.same(parts(), ['attention'], 'the siren airs at once, before the speech exists');
  await until(() => parts().includes('message'), 'the speech follows as the airing’s second programme', 30_000);
  const report = async () => (await s.api('GET', `/api/v1/alerts/${body.alertId}/delivery`, undefined, authority.token)).body.airings[0];
  await until(async () => (await report())?.reached === 1, 'the agent reported reached', 30_000);
  const reached = (await report()).endpoints.find((e: { endpointId: string }) => e.endpointId === epTarget.id);
  const reachedAt = Date.parse(reached.at);
  const onAir = zoneEvents.find((e) => e.programmeId === programmeId && e.zoneId === target.id && e.state === 'on-air')!;
  t.ok(onAir, 'on air in the target commune');
  t.ok(Math.abs(reachedAt - (onAir.atMs + delayMs)) < 1000, `reached within 1 s of its playout (${reachedAt - onAir.atMs - delayMs} ms)`);
  t.notOk(zoneEvents.some((e) => e.programmeId === programmeId && e.zoneId === other.id), 'never on air in the other commune');

  const sirenMs = alert.audio.attention.durationMs as number;
  const speechFrom = reachedAt + sirenMs + GAP_MS;
  await until(() => agentTarget.clock.serverNow() > speechFrom + 4000 + delayMs, 'four seconds of the message played', 60_000);
  await agentTarget.close();
  await agentOther.close();

  const a = heard(wavTarget);
  for (const at of [reachedAt + 100, reachedAt + sirenMs / 2, reachedAt + sirenMs - 300]) {
    // A wail sweeps between 600 and 1200 Hz: whatever the moment, its frequency is in that band.
    const f = dominantFrequency(a(at, at + 50), 48000);
    t.ok(f > 570 && f < 1250, `siren at +${Math.round(at - reachedAt)} ms (${f.toFixed(0)} Hz)`);
  }
  const speech = a(speechFrom, speechFrom + 4000);
  t.ok(rmsDbfs(speech) > -35, `speech is audible: ${rmsDbfs(speech).toFixed(1)} dBFS`);
  t.ok(bandEnergyFraction(speech, 48000, 100, 4000) > 0.8, `speech energy in the voice band: ${(100 * bandEnergyFraction(speech, 48000, 100, 4000)).toFixed(1)} %`);
  t.ok(envelopePeaks(speech, 48000) >= 6, `syllables: ${envelopePeaks(speech, 48000)} envelope peaks in 4 s`);
  const b = heard(wavOther);
  for (let at = reachedAt - 500; at < speechFrom + 4000; at += 1000) {
    t.equal(strongestTone(b(at, at + 200), 48000, [300, 440, 600, 1200]), 300, `the other commune keeps its programme at +${Math.round(at - reachedAt)} ms`);
  }
});
