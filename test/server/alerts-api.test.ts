// The alerts resource through HTTP on a real server (engine, PGlite or DATABASE_URL): who may
// issue, update and cancel alerts where (404 outside the caller's subtree, 403 inside without
// alerts.push), what is refused and why, and that an alert is on air in its zones only,
// replaced on air by its update, taken off air by its cancel; the audit says who and from where.
import t from 'tap';
import { startBroadcastServer, until } from '../integration/harness.js';
import type { Zone } from '../../server/db/types.js';
import { PRIORITY } from '../../domain/priority.js';

const s = await startBroadcastServer(t);
// province > A > A1, A2 ; province > B > B1
const province = await s.zone(null, 'Tỉnh');
const zoneA = await s.zone(province, 'Huyện A');
const a1 = await s.zone(zoneA, 'Xã A1');
const a2 = await s.zone(zoneA, 'Xã A2');
const zoneB = await s.zone(province, 'Huyện B');
const b1 = await s.zone(zoneB, 'Xã B1');

t.test('zones take administrative codes and a location (the additive part of migration 0005)', async (t) => {
  for (const [z, code] of [[a1, '19801'], [a2, '19804'], [b1, '19900']] as const) {
    const r = await s.api('PATCH', `/api/v1/zones/${z.id}`, { adminCode: code, location: { lat: 16.75, lon: 107.18 } });
    t.equal(r.status, 200, `zone ${z.name} takes an admin code`);
    t.equal(r.body.adminCode, code);
    t.same(r.body.location, { lat: 16.75, lon: 107.18 });
    t.equal(r.body.drill, false);
  }
  const created = await s.api('POST', '/api/v1/zones', { parentId: zoneB.id, kind: 'commune', name: 'Xã diễn tập', adminCode: '19999', drill: true });
  t.equal(created.status, 201);
  t.match(created.body, { adminCode: '19999', drill: true, location: null });
  t.equal((await s.api('PATCH', `/api/v1/zones/${a1.id}`, { location: { lat: 91, lon: 0 } })).status, 400, 'latitude out of range');
});

const authorityA = await s.user([{ role: 'authority', zoneId: zoneA.id }]);
const operatorA = await s.user([{ role: 'operator', zoneId: zoneA.id }]);
const viewerA = await s.user([{ role: 'viewer', zoneId: zoneA.id }]);
const authorityB = await s.user([{ role: 'authority', zoneId: zoneB.id }]);

const body = (over: Record<string, unknown> = {}) => ({
  event: 'Lũ quét',
  category: 'Met',
  severity: 'Severe',
  urgency: 'Immediate',
  certainty: 'Likely',
  headline: 'Cảnh báo lũ quét trên sông Thạch Hãn',
  description: 'Mực nước dâng 2 mét trong 3 giờ tới.',
  instruction: 'Người dân di chuyển lên vùng cao.',
  attention: { shape: 'yelp', durationMs: 60_000 },
  message: { kind: 'none' },
  ...over,
});
const onAir = (z: Zone) => s.host.onAir.get(z.id)?.programmeId ?? null;

t.test('who may issue an alert where', async (t) => {
  const cases: [string, string, Zone, number][] = [
    ['authority of A', authorityA.token, a1, 201],
    ['authority of A', authorityA.token, b1, 404],
    ['operator of A (no alerts.push)', operatorA.token, a1, 403],
    ['viewer of A', viewerA.token, a1, 403],
    ['authority of B', authorityB.token, a1, 404],
  ];
  for (const [who, token, zone, status] of cases) {
    const r = await s.api('POST', '/api/v1/alerts', body({ zoneIds: [zone.id] }), token);
    t.equal(r.status, status, `${who} in ${zone.name}: ${status}`);
    if (r.status === 201) await s.api('POST', `/api/v1/alerts/${r.body.id}/cancel`, {}, token);
    else t.notOk(s.host.activeProgrammes().some((p) => p.kind === 'alert'), 'nothing airs from a refused alert');
  }
  const byCode = await s.api('POST', '/api/v1/alerts', body({ adminCodes: ['19900'] }), authorityA.token);
  t.equal(byCode.status, 404, 'an admin code outside the caller’s subtree does not exist for them');
  t.match(byCode.body.message, /19900/);
});

const countAlerts = async () =>
  Number(((await s.database.db.selectFrom('alerts' as never).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()) as { n: number }).n);

t.test('bad input is refused with a reason', async (t) => {
  const before = await countAlerts();
  const cases: [string, Record<string, unknown>, number, RegExp][] = [
    ['no headline', { zoneIds: [a1.id], headline: undefined }, 400, /headline/],
    ['unknown severity', { zoneIds: [a1.id], severity: 'Huge' }, 400, /severity/],
    ['no zones', {}, 400, /zone/i],
    ['count without interval', { zoneIds: [a1.id], cadence: { count: 3 } }, 400, /everyMinutes/],
    ['endless repeat', { zoneIds: [a1.id], cadence: { everyMinutes: 5 } }, 400, /count or expiresAt/],
    ['expired already', { zoneIds: [a1.id], expiresAt: '2000-01-01T00:00:00Z' }, 400, /expiry|passed/],
    ['URL that cannot be fetched', { zoneIds: [a1.id], message: { kind: 'url', url: 'http://127.0.0.1:9/a.mp3' } }, 422, /URL.*(loopback|internal|private|address)/i],
    ['unknown media', { zoneIds: [a1.id], message: { kind: 'media', mediaId: 'med_nope' } }, 404, /med_nope/],
    ['unknown admin code', { adminCodes: ['00000'] }, 404, /00000/],
  ];
  for (const [what, over, status, message] of cases) {
    const r = await s.api('POST', '/api/v1/alerts', body(over), authorityA.token);
    t.equal(r.status, status, `${what}: ${status}`);
    t.match(r.body.message, message, `${what}: says why (${r.body.message})`);
  }
  t.notOk(s.host.activeProgrammes().some((p) => p.kind === 'alert'), 'nothing aired');
  t.equal(await countAlerts(), before, 'nothing stored from refused input');
});

t.test('create → on air in its zones only; update replaces it; cancel takes it off', async (t) => {
  const created = await s.api('POST', '/api/v1/alerts', body({ adminCodes: ['19801'], status: 'Exercise' }), authorityA.token);
  t.equal(created.status, 201);
  const alert = created.body;
  t.same(alert.zoneIds, [a1.id], 'admin code 19801 is zone A1');
  t.equal(alert.priority, 'emergency', 'Severe airs at emergency priority');
  t.equal(alert.airings.length, 1, 'first airing at once');
  t.match(alert.spokenText, /^Bản tin phát lúc \d{1,2} giờ \d{1,2} phút ngày \d{1,2} tháng \d{1,2} năm \d{4}\. Đây là tin diễn tập\./, 'restates the time of issue, then labels the exercise');
  t.match(alert.audit, [{ action: 'create', by: authorityA.id, from: '127.0.0.1' }], 'audit: who and from where');
  const first = alert.airings[0].programmeId;
  await until(() => onAir(a1) === first, 'alert on air in A1');
  t.equal(onAir(a2), null, 'A2 (same district, not targeted) stays silent');
  t.equal(onAir(b1), null, 'B1 stays silent');
  const p = s.host.catalog.get(first)!;
  t.equal(p.priority, PRIORITY.emergency);
  t.equal(p.by, authorityA.id, 'the programme (and so the as-run log) names who issued it');

  // Another district's authority cannot see it, let alone cancel it.
  t.equal((await s.api('GET', `/api/v1/alerts/${alert.id}`, undefined, authorityB.token)).status, 404);
  t.equal((await s.api('POST', `/api/v1/alerts/${alert.id}/cancel`, {}, authorityB.token)).status, 404);
  t.equal((await s.api('POST', `/api/v1/alerts/${alert.id}/cancel`, {}, viewerA.token)).status, 403);
  const listB = await s.api('GET', '/api/v1/alerts', undefined, authorityB.token);
  t.notOk(listB.body.items.some((a: { id: string }) => a.id === alert.id), 'not listed for B');
  const listA = await s.api('GET', '/api/v1/alerts?state=active', undefined, viewerA.token);
  t.ok(listA.body.items.some((a: { id: string }) => a.id === alert.id), 'listed for a viewer of A');

  const updated = await s.api('POST', `/api/v1/alerts/${alert.id}/update`, { headline: 'Lũ quét đã lên mức 3', zoneIds: [a1.id, a2.id], status: 'Actual' }, authorityA.token);
  t.equal(updated.status, 200);
  t.equal(updated.body.version, 2);
  t.equal(updated.body.references, alert.id);
  t.notMatch(updated.body.spokenText, /diễn tập/, 'no longer an exercise');
  const second = updated.body.airings[0].programmeId;
  await until(() => onAir(a1) === second && onAir(a2) === second, 'the new version on air in A1 and A2');
  await until(() => s.host.catalog.get(first)?.endedAtMs !== undefined, 'the old version off the air');
  const old = await s.api('GET', `/api/v1/alerts/${alert.id}`, undefined, authorityA.token);
  t.equal(old.body.state, 'updated');
  t.equal(old.body.supersededBy, updated.body.id);
  t.equal((await s.api('POST', `/api/v1/alerts/${alert.id}/update`, { headline: 'x' }, authorityA.token)).status, 409, 'an old version cannot be updated');

  const cancelled = await s.api('POST', `/api/v1/alerts/${updated.body.id}/cancel`, { notice: true }, authorityA.token);
  t.equal(cancelled.status, 200);
  t.same(cancelled.body.stopped, [second]);
  t.equal(cancelled.body.alert.state, 'cancelled');
  t.ok(cancelled.body.noticeProgrammeId, 'a "cancelled" notice airs');
  await until(() => s.host.catalog.get(second)?.endedAtMs !== undefined, 'the alert off the air');
  t.match(cancelled.body.alert.audit, [{ action: 'create' }, { action: 'cancel', by: authorityA.id, from: '127.0.0.1' }]);
  t.equal((await s.api('POST', `/api/v1/alerts/${updated.body.id}/cancel`, {}, authorityA.token)).status, 409, 'cancelled twice: 409');
  s.host.stop(cancelled.body.noticeProgrammeId);
});

t.test('Moderate severity airs at priority, under a live announcement', async (t) => {
  const r = await s.api('POST', '/api/v1/alerts', body({ zoneIds: [a2.id], severity: 'Moderate' }), authorityA.token);
  t.equal(r.status, 201);
  t.equal(r.body.priority, 'priority');
  await s.api('POST', `/api/v1/alerts/${r.body.id}/cancel`, {}, authorityA.token);
});

t.test('delivery report: JSON and CSV', async (t) => {
  const ep = await s.api('POST', '/api/v1/endpoints', { name: 'Loa chợ', zoneId: a1.id, kind: 'rtp', codecs: ['pcmu'] });
  t.equal(ep.status, 201);
  const r = await s.api('POST', '/api/v1/alerts', body({ zoneIds: [a1.id] }), authorityA.token);
  await until(async () => (await s.api('GET', `/api/v1/alerts/${r.body.id}/delivery`, undefined, authorityA.token)).body.airings[0]?.endpoints.length === 1, 'report rows');
  const rep = await s.api('GET', `/api/v1/alerts/${r.body.id}/delivery`, undefined, authorityA.token);
  t.match(rep.body.airings[0], { airing: 1, offline: 1, reached: 0, endpoints: [{ endpointId: ep.body.endpoint.id, endpointName: 'Loa chợ', status: 'offline', lastContact: null }] });
  const csv = await s.api('GET', `/api/v1/alerts/${r.body.id}/delivery.csv`, undefined, authorityA.token);
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type'), /text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  t.equal(lines[0], 'alert_id,airing,airing_started_at,endpoint_id,endpoint_name,zone_id,status,at,last_contact,via');
  t.match(lines[1], new RegExp(`^${r.body.id},1,[^,]+,${ep.body.endpoint.id},Loa chợ,${a1.id},offline,,,$`));
  t.equal((await s.api('GET', `/api/v1/alerts/${r.body.id}/delivery`, undefined, authorityB.token)).status, 404, 'not for B');
  await s.api('POST', `/api/v1/alerts/${r.body.id}/cancel`, {}, authorityA.token);
});
