// CAP 1.2 documents posted to a real server (engine, PGlite or DATABASE_URL): our own
// Vietnamese storm alert with administrative-code geocodes reaches exactly its communes and airs
// there; its Update replaces it on air and its Cancel takes it off, both by <references>; a
// repeat of the same document makes nothing new; hostile and broken documents (XXE, billion
// laughs, oversize, malformed, wrong namespace) are refused with their reasons and nothing airs;
// a sender outside the zones reaches nothing; System and Draft never air.
import t from 'tap';
import { startBroadcastServer, until } from '../integration/harness.js';
import type { Zone } from '../../server/db/types.js';

const s = await startBroadcastServer(t);
const province = await s.zone(null, 'Tỉnh Quảng Trị');
const north = await s.zone(province, 'Cụm bắc');
const xaA = await s.zone(north, 'Xã Hải An');
const xaB = await s.zone(north, 'Xã Hải Khê');
const south = await s.zone(province, 'Cụm nam');
const xaC = await s.zone(south, 'Xã Triệu Phong');
for (const [z, code] of [[xaA, '19801'], [xaB, '19804'], [xaC, '19900']] as const) {
  const r = await s.api('PATCH', `/api/v1/zones/${z.id}`, { adminCode: code });
  if (r.status !== 200) throw new Error(`zone ${z.name}: ${r.text}`);
}
const authorityNorth = await s.user([{ role: 'authority', zoneId: north.id }]);
const viewerNorth = await s.user([{ role: 'viewer', zoneId: north.id }]);

const NS = 'urn:oasis:names:tc:emergency:cap:1.2';
interface Doc {
  id: string;
  msgType?: 'Alert' | 'Update' | 'Cancel';
  status?: string;
  refs?: string[];
  codes?: string[];
  headline?: string;
  params?: Record<string, string>;
  expires?: string;
}
const sent = '2026-11-27T08:00:00+07:00';
function cap(d: Doc): string {
  const refs = d.refs?.length ? `<references>${d.refs.map((r) => `ubnd-quangtri@pctt.gov.vn,${r},${sent}`).join(' ')}</references>` : '';
  const params = Object.entries(d.params ?? {}).map(([k, v]) => `<parameter><valueName>${k}</valueName><value>${v}</value></parameter>`).join('');
  const areas = (d.codes ?? ['19801', '19804']).map((c) => `<geocode><valueName>MA_DVHC</valueName><value>${c}</value></geocode>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="${NS}">
  <identifier>${d.id}</identifier>
  <sender>ubnd-quangtri@pctt.gov.vn</sender>
  <sent>${sent}</sent>
  <status>${d.status ?? 'Actual'}</status>
  <msgType>${d.msgType ?? 'Alert'}</msgType>
  <scope>Public</scope>
  ${refs}
  <info>
    <language>vi-VN</language>
    <category>Met</category>
    <event>Bão số 9</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Likely</certainty>
    ${d.expires ? `<expires>${d.expires}</expires>` : ''}
    <headline>${d.headline ?? 'Bão số 9 đổ bộ vào Quảng Trị, gió giật cấp 14'}</headline>
    <description>Hồi 7 giờ ngày 27/11/2026, vị trí tâm bão cách Cồn Cỏ 120 km.</description>
    <instruction>Người dân không ra khơi, gia cố nhà cửa.</instruction>
    ${params}
    <area><areaDesc>Các xã ven biển</areaDesc>${areas}</area>
  </info>
</alert>`;
}

async function post(xml: string, token = authorityNorth.token, type = 'application/cap+xml') {
  const r = await fetch(`${s.url}/api/v1/alerts/cap`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type, 'accept-language': 'vi' }, body: xml });
  return { status: r.status, body: (await r.json()) as any };
}
const onAir = (z: Zone) => s.host.onAir.get(z.id)?.programmeId ?? null;
const alertAiring = () => s.host.activeProgrammes().some((p) => p.kind === 'alert');

t.test('an Alert with MA_DVHC geocodes airs in exactly those communes; Update replaces it, Cancel stops it', async (t) => {
  const r = await post(cap({ id: 'QT-BAO9-001', params: { LOA_REPEAT_MINUTES: '30', LOA_REPEAT_COUNT: '3' } }));
  t.equal(r.status, 201, JSON.stringify(r.body));
  t.equal(r.body.action, 'created');
  t.same([...r.body.zoneIds].sort(), [xaA.id, xaB.id].sort());
  t.same(r.body.unmatched, []);
  await until(() => onAir(xaA) !== null && onAir(xaB) !== null, 'the alert on air in both communes');
  t.equal(onAir(xaC), null, 'the southern commune is not targeted');
  const alert = (await s.api('GET', `/api/v1/alerts/${r.body.alertId}`)).body;
  t.match(alert, { cap: { identifier: 'QT-BAO9-001', sender: 'ubnd-quangtri@pctt.gov.vn' }, cadence: { everyMinutes: 30, count: 3 }, priority: 'emergency', status: 'Actual' });
  t.match(alert.spokenText, /Bão số 9 đổ bộ/);

  const again = await post(cap({ id: 'QT-BAO9-001' }));
  t.equal(again.status, 200, 'the same document again');
  t.match(again.body, { action: 'acknowledged', alertId: r.body.alertId, reason: 'duplicate' });

  const firstProgramme = onAir(xaA);
  const up = await post(cap({ id: 'QT-BAO9-002', msgType: 'Update', refs: ['QT-BAO9-001'], headline: 'Bão số 9 mạnh lên cấp 15', codes: ['19801'] }));
  t.equal(up.status, 200, JSON.stringify(up.body));
  t.equal(up.body.action, 'updated');
  await until(() => onAir(xaA) !== null && onAir(xaA) !== firstProgramme, 'the update replaces the alert on air');
  await until(() => onAir(xaB) === null, 'the commune the update no longer names goes quiet');
  const updated = (await s.api('GET', `/api/v1/alerts/${up.body.alertId}`)).body;
  t.match(updated.spokenText, /mạnh lên cấp 15/);

  // Cancel names the first identifier: it follows the chain to the version on air.
  const cancel = await post(cap({ id: 'QT-BAO9-003', msgType: 'Cancel', refs: ['QT-BAO9-001'], headline: 'Huỷ cảnh báo bão số 9' }));
  t.equal(cancel.status, 200, JSON.stringify(cancel.body));
  t.equal(cancel.body.action, 'cancelled');
  t.equal(cancel.body.alertId, up.body.alertId);
  await until(() => !alertAiring(), 'the alert is off the air', 30_000).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(s.host.activeProgrammes())}`); });
});

t.test('hostile and broken documents are refused with their reason; nothing airs', async (t) => {
  const xxe = `<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert xmlns="${NS}"><identifier>&x;</identifier></alert>`;
  const laughs = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><alert xmlns="${NS}">&lol2;</alert>`;
  const cases: [string, string, number, string][] = [
    ['XXE', xxe, 400, 'dtd_forbidden'],
    ['billion laughs', laughs, 400, 'dtd_forbidden'],
    ['malformed', cap({ id: 'X1' }).replace('</info>', ''), 400, 'malformed'],
    ['wrong namespace', cap({ id: 'X2' }).replace(NS, 'urn:oasis:names:tc:emergency:cap:1.1'), 400, 'wrong_version'],
    ['no scope', cap({ id: 'X3' }).replace('<scope>Public</scope>', ''), 400, 'missing'],
    ['Update without a known reference', cap({ id: 'X4', msgType: 'Update', refs: ['NO-SUCH'] }), 404, 'cap_reference_unknown'],
    ['areas that reach no zone', cap({ id: 'X5', codes: ['99999'] }), 422, 'cap_no_zones'],
    ['expired', cap({ id: 'X6', expires: '2020-01-01T00:00:00+07:00' }), 422, 'alert_expired'],
  ];
  for (const [what, xml, status, code] of cases) {
    const r = await post(xml);
    t.equal(r.status, status, `${what}: ${status} ${JSON.stringify(r.body).slice(0, 300)}`);
    if (status === 400) {
      t.equal(r.body.error, 'cap_invalid', what);
      t.ok(r.body.details.some((d: { code: string }) => d.code === code), `${what}: a detail with code ${code}`);
      t.ok(r.body.details.every((d: { path: string; message: string }) => d.path.startsWith('/') && d.message.length > 10), `${what}: each reason says where and what`);
    } else t.equal(r.body.error, code, what);
    t.notOk(alertAiring(), `${what}: nothing airs`);
  }
  const big = await post(cap({ id: 'X7', headline: 'x'.repeat(9 * 1024 * 1024) }));
  t.equal(big.status, 413, 'oversize');
  t.notOk(alertAiring());
});

t.test('rights: a viewer may not issue; a sender’s areas reach only the zones it can see', async (t) => {
  const r = await post(cap({ id: 'V1' }), viewerNorth.token);
  t.equal(r.status, 403);
  const south = await post(cap({ id: 'V2', codes: ['19900'] }));
  t.equal(south.status, 422, 'the southern commune is not visible to the northern authority: no zone matched');
  t.equal(south.body.error, 'cap_no_zones');
  t.notOk(alertAiring());
});

t.test('System and Draft are acknowledged and never air', async (t) => {
  for (const status of ['System', 'Draft']) {
    const r = await post(cap({ id: `S-${status}`, status }));
    t.equal(r.status, 200);
    t.match(r.body, { action: 'acknowledged', alertId: null, reason: 'not_public' });
  }
  t.notOk(alertAiring());
});
