// The playback, on-air and stream routes tried by every role, inside and outside the role's
// subtree, with the expected answers written down here (not taken from server/auth):
// operators play up to 'live', emergency needs authority or admin, viewers only read,
// zones outside the caller's grants do not exist for them (404). Then bad input.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { toneWav } from '../helpers/audio-files.js';
import { newId } from '../../server/ids.js';
import { mediaFilePath } from '../../server/media/store.js';
import type { Zone } from '../../server/db/types.js';
import { startBroadcastServer, until } from '../integration/harness.js';

type RoleName = 'global' | 'admin' | 'operator' | 'authority' | 'viewer' | 'none';
const ROLES: RoleName[] = ['global', 'admin', 'operator', 'authority', 'viewer', 'none'];
const CAN_PLAY: Record<RoleName, boolean> = { global: true, admin: true, operator: true, authority: true, viewer: false, none: false };
const CAN_EMERGENCY: Record<RoleName, boolean> = { global: true, admin: true, operator: false, authority: true, viewer: false, none: false };
const CAN_MANAGE_ZONES: Record<RoleName, boolean> = { global: true, admin: true, operator: false, authority: false, viewer: false, none: false };

const s = await startBroadcastServer(t);
// province > A (the grants' zone) > A1 ; province > B > B1 (outside every non-global grant)
const province = await s.zone(null, 'Tỉnh');
const zoneA = await s.zone(province, 'Huyện A');
const a1 = await s.zone(zoneA, 'Xã A1');
const zoneB = await s.zone(province, 'Huyện B');
const b1 = await s.zone(zoneB, 'Xã B1');

// 30 s: long enough to still be on air while every role's listing is checked on a loaded machine
// (a 2 s item had ended before the last role's turn); every test stops what it started.
const MEDIA_S = 30;
async function mediaIn(zone: Zone, seed: number): Promise<string> {
  const wav = toneWav(MEDIA_S, seed);
  const sha256 = createHash('sha256').update(wav).digest('hex');
  const file = mediaFilePath(s.config, sha256);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, wav);
  const id = newId('media');
  await s.database.db
    .insertInto('media')
    .values({ id, sha256, zone_id: zone.id, title: `tone ${seed}`, filename: 't.wav', format: 'wav', codec: 'pcm_s16le', duration_ms: MEDIA_S * 1000, size_bytes: wav.length, sample_rate: 48000, channels: 1 })
    .execute();
  return id;
}
const mediaA1 = await mediaIn(a1, 1);
const mediaB1 = await mediaIn(b1, 2);

async function endpointIn(zone: Zone, fixed?: { address: string; port: number }): Promise<string> {
  const r = await s.api('POST', '/api/v1/endpoints', { name: `ep-${zone.name}`, zoneId: zone.id, kind: 'rtp', codecs: ['pcmu'], ...fixed });
  return r.body.endpoint.id;
}
const agentEndpoint = await endpointIn(a1);
const fixedEndpoint = await endpointIn(a1, { address: '127.0.0.1', port: 40_000 });
await endpointIn(b1);

const tokens = new Map<RoleName, string>();
for (const role of ROLES) {
  const grants = role === 'none' ? [] : role === 'global' ? [{ role: 'admin' as const, zoneId: null }] : [{ role, zoneId: zoneA.id }];
  tokens.set(role, (await s.user(grants)).token);
}

const tone = (durationMs = 60_000) => ({ kind: 'tone', freqHz: 440, durationMs });
const started: string[] = [];
/** Each subtest leaves the air empty for the next. */
async function stopAll(): Promise<void> {
  for (const id of started.splice(0)) s.host.stop(id);
  await until(() => s.host.activeProgrammes().length === 0, 'every programme ended');
}

async function play(role: RoleName, zone: Zone, priority: string | number, source: unknown = tone()) {
  const r = await s.api('POST', '/api/v1/playback', { zoneIds: [zone.id], source, priority }, tokens.get(role));
  if (r.status === 201) started.push(r.body.id);
  return r;
}

t.test('POST /playback: who may play where, and at which priority', async (t) => {
  for (const role of ROLES) {
    for (const [place, zone] of [['inside', a1], ['outside', b1]] as const) {
      const visible = role === 'global' || (place === 'inside' && role !== 'none');
      const cells: [string, boolean][] = [
        ['normal', CAN_PLAY[role]],
        ['live', CAN_PLAY[role]],
        ['emergency', CAN_EMERGENCY[role]],
      ];
      for (const [priority, allowed] of cells) {
        const r = await play(role, zone, priority, priority === 'emergency' ? { kind: 'siren', shape: 'yelp', durationMs: 60_000 } : tone());
        const expected = !visible ? 404 : allowed ? 201 : 403;
        t.equal(r.status, expected, `${role} ${priority} ${place} → ${expected} (${r.body.message ?? r.body.state})`);
        if (r.status === 201) {
          t.equal(r.body.priority, priority);
          t.same(r.body.zoneIds, [zone.id]);
          t.ok(['on-air', 'waiting'].includes(r.body.state));
        }
      }
    }
  }
  // A number at emergency level counts as emergency.
  t.equal((await play('operator', a1, 500)).status, 403, 'operator at 500 refused');
  t.equal((await play('operator', a1, 499)).status, 201, 'operator at 499 allowed');
  t.match((await play('operator', a1, 'emergency')).body.message, /authority or admin/i, 'the refusal says who may');
  await stopAll();
});

t.test('a started programme airs, is listed to those who see its zones, and shows on air', async (t) => {
  const r = await play('global', a1, 'priority', { kind: 'media', mediaId: mediaA1 });
  t.equal(r.status, 201);
  t.equal(r.body.title, 'tone 1', 'title from the media item');
  t.same(r.body.source, { kind: 'media', mediaId: mediaA1 });
  await until(() => s.host.onAir.get(a1.id)?.programmeId === r.body.id, 'programme on air in A1');
  const hidden = await play('global', b1, 'priority');

  for (const role of ROLES) {
    const list = await s.api('GET', '/api/v1/playback', undefined, tokens.get(role));
    t.equal(list.status, 200);
    const ids = list.body.items.map((i: { id: string }) => i.id);
    const seesA = role !== 'none';
    t.equal(ids.includes(r.body.id), seesA, `${role} ${seesA ? 'sees' : 'does not see'} the A1 programme`);
    t.equal(ids.includes(hidden.body.id), role === 'global', `${role} sees the B1 programme only if global`);
    const onAir = await s.api('GET', '/api/v1/on-air', undefined, tokens.get(role));
    t.equal(onAir.status, 200);
    const zones = new Map(onAir.body.zones.map((z: { zoneId: string }) => [z.zoneId, z]));
    t.equal(zones.has(a1.id), seesA, `${role}: A1 (has endpoints) in on-air iff visible`);
    t.equal(zones.has(b1.id), role === 'global', `${role}: B1 only for global`);
    t.notOk(zones.has(zoneA.id), 'zones without endpoints are not listed');
    if (seesA) {
      const z = zones.get(a1.id) as Record<string, unknown>;
      t.equal(z.programmeId, r.body.id);
      t.equal(z.priority, 'priority');
      t.equal(z.title, 'tone 1');
      t.ok(typeof z.positionMs === 'number' && z.positionMs >= 0);
    }
  }
  const item = (await s.api('GET', '/api/v1/playback')).body.items.find((i: { id: string }) => i.id === r.body.id);
  t.ok(item.createdBy && item.onAirZoneIds.includes(a1.id), 'listing says who started it and where it is heard');
  await stopAll();
});

t.test('DELETE /playback/:id needs the rights that starting it needed', async (t) => {
  for (const role of ROLES) {
    const normal = await play('global', a1, 'normal');
    const emergency = await play('global', a1, 'emergency', { kind: 'siren', durationMs: 60_000 });
    const outside = await play('global', b1, 'normal');
    const del = async (id: string) => (await s.api('DELETE', `/api/v1/playback/${id}`, undefined, tokens.get(role))).status;
    const visible = role !== 'none';
    t.equal(await del(outside.body.id), role === 'global' ? 204 : 404, `${role} stop outside`);
    t.equal(await del(emergency.body.id), !visible ? 404 : CAN_EMERGENCY[role] ? 204 : 403, `${role} stop emergency`);
    t.equal(await del(normal.body.id), !visible ? 404 : CAN_PLAY[role] ? 204 : 403, `${role} stop normal`);
  }
  const r = await play('global', a1, 'normal');
  t.equal((await s.api('DELETE', `/api/v1/playback/${r.body.id}`)).status, 204);
  await until(() => !s.host.activeProgrammes().some((p) => p.programmeId === r.body.id), 'programme ended after stop');
  const again = await s.api('DELETE', `/api/v1/playback/${r.body.id}`);
  t.equal(again.status, 404, 'a stopped programme is gone');
  t.match(again.body.message, /programme/);
  await stopAll();
});

t.test('SDP and broadcast settings', async (t) => {
  const none = await s.api('GET', `/api/v1/zones/${a1.id}/sdp`);
  t.equal(none.status, 409);
  t.match(none.body.message, /endpoints\/\{id\}\/sdp/, 'explains where unicast receivers get their SDP');

  for (const role of ROLES) {
    const put = await s.api('PUT', `/api/v1/zones/${a1.id}/broadcast`, { multicast: { address: '239.255.7.7', port: 5500, codec: 'pcmu' } }, tokens.get(role));
    t.equal(put.status, role === 'none' ? 404 : CAN_MANAGE_ZONES[role] ? 200 : 403, `${role} PUT broadcast`);
  }
  t.equal((await s.api('PUT', `/api/v1/zones/${a1.id}/broadcast`, { multicast: { address: '10.0.0.1', port: 5500, codec: 'pcmu' } })).status, 400, 'unicast address refused');
  for (const role of ROLES) {
    for (const [place, zone] of [['inside', a1], ['outside', b1]] as const) {
      const visible = role === 'global' || (place === 'inside' && role !== 'none');
      const r = await s.api('GET', `/api/v1/zones/${zone.id}/sdp?codec=pcmu`, undefined, tokens.get(role));
      // B1 has no group: visible → 409, hidden → 404.
      const expected = !visible ? 404 : place === 'inside' ? 200 : 409;
      t.equal(r.status, expected, `${role} GET sdp ${place} → ${expected}`);
      if (r.status === 200) {
        t.match(r.headers.get('content-type'), /^application\/sdp/);
        t.match(r.text, /c=IN IP4 239\.255\.7\.7\/\d+\r\n/);
        t.match(r.text, /m=audio 5500 RTP\/AVP 0\r\n/);
        t.match(r.text, /a=rtpmap:0 PCMU\/8000\r\n/);
      }
    }
  }
  const mismatch = await s.api('GET', `/api/v1/zones/${a1.id}/sdp?codec=opus`);
  t.equal(mismatch.status, 409);
  t.match(mismatch.body.message, /codec=pcmu/);

  const fixed = await s.api('GET', `/api/v1/endpoints/${fixedEndpoint}/sdp`);
  t.equal(fixed.status, 200);
  t.match(fixed.text, /c=IN IP4 127\.0\.0\.1\r\n/);
  t.match(fixed.text, /m=audio 40000 RTP\/AVP 0\r\n/);
  t.equal((await s.api('GET', `/api/v1/endpoints/${agentEndpoint}/sdp`)).status, 409, 'an agent endpoint has no SDP of its own');
  t.equal((await s.api('GET', `/api/v1/endpoints/${fixedEndpoint}/sdp`, undefined, tokens.get('none'))).status, 404);

  const settings = await s.api('GET', `/api/v1/zones/${a1.id}/broadcast`, undefined, tokens.get('viewer'));
  t.equal(settings.status, 200);
  t.same(settings.body.multicast, { address: '239.255.7.7', port: 5500, codec: 'pcmu', ttl: 1 }, 'TTL 1 (the local segment) unless said');
  t.match((await s.api('GET', `/api/v1/zones/${a1.id}/sdp`)).text, /\r\nc=IN IP4 239\.255\.7\.7\/1\r\n/, 'the SDP says TTL 1');
  for (const ttl of [0, 256, 1.5]) {
    const bad = await s.api('PUT', `/api/v1/zones/${a1.id}/broadcast`, { multicast: { address: '239.255.7.7', port: 5500, codec: 'pcmu', ttl } });
    t.equal(bad.status, 400, `ttl ${ttl} refused`);
  }
  const put16 = await s.api('PUT', `/api/v1/zones/${a1.id}/broadcast`, { multicast: { address: '239.255.7.7', port: 5500, codec: 'l16', ttl: 16 } });
  t.equal(put16.status, 200);
  t.equal(put16.body.multicast.ttl, 16);
  const sdp16 = (await s.api('GET', `/api/v1/zones/${a1.id}/sdp`)).text;
  t.match(sdp16, /\r\nc=IN IP4 239\.255\.7\.7\/16\r\n/, 'the SDP says the TTL the packets carry');
  t.match(sdp16, /\r\na=ptime:10\r\n/, 'L16 is sent in 10 ms packets (1500-byte MTU)');
  t.equal((await s.api('PUT', `/api/v1/zones/${a1.id}/broadcast`, { multicast: { address: '239.255.7.7', port: 5500, codec: 'pcmu' } })).body.multicast.ttl, 1, 'a group set without ttl is back to 1');
  t.equal(settings.body.effectivePlayoutDelayMs, 150);
  // The fixed-address endpoint is attached to the engine.
  await until(async () => (await s.host.status()).endpoints.some((e) => e.endpointId === fixedEndpoint && e.host === '127.0.0.1' && e.port === 40_000), 'fixed endpoint attached');
});

t.test('bad input is refused with a clear message', async (t) => {
  const post = (body: unknown, role: RoleName = 'admin') => s.api('POST', '/api/v1/playback', body, tokens.get(role));
  let r = await post({ zoneIds: [a1.id], source: { kind: 'media', mediaId: 'med_doesnotexist0000' }, priority: 'normal' });
  t.equal(r.status, 404);
  t.match(r.body.message, /med_doesnotexist0000/);
  r = await post({ zoneIds: [a1.id], source: { kind: 'media', mediaId: mediaB1 }, priority: 'normal' });
  t.equal(r.status, 404, 'media outside the caller’s subtree does not exist for them');
  r = await post({ zoneIds: [], source: tone(), priority: 'normal' });
  t.equal(r.status, 400);
  t.match(r.body.message, /zoneIds/);
  r = await post({ zoneIds: [a1.id], source: tone(), priority: 'urgent' });
  t.equal(r.status, 400);
  t.match(r.body.message, /priority/);
  r = await post({ zoneIds: [a1.id], source: tone(), priority: 1001 });
  t.equal(r.status, 400);
  r = await post({ zoneIds: [a1.id], source: { kind: 'tone', freqHz: 5 }, priority: 'normal' });
  t.equal(r.status, 400);
  t.match(r.body.message, /freqHz/);
  r = await post({ zoneIds: ['zon_nope00000000000'], source: tone(), priority: 'normal' });
  t.equal(r.status, 404);
  t.match(r.body.message, /zon_nope00000000000/);
  r = await post({ zoneIds: [a1.id], source: { kind: 'file', path: '/etc/passwd' }, priority: 'normal' });
  t.equal(r.status, 400, 'engine-only sources are not accepted from the API');
  t.equal((await s.api('GET', '/api/v1/on-air', undefined, 'not-a-token')).status, 401);
  t.equal(s.host.activeProgrammes().filter((p) => p.by === 'nobody').length, 0);
});
