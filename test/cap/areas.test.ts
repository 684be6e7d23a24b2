// CAP areas → zones: administrative-code geocodes, polygons and circles reach the right zones,
// and every part that reaches none is reported.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseCap, type CapAlert } from '../../cap/parse.js';
import { mapAlertToZones, mapAreasToZones, type ZoneGeography } from '../../cap/areas.js';
import { circleIntersectsPolygon, distanceKm, pointInPolygon, polygonsIntersect } from '../../cap/geometry.js';

function load(name: string): CapAlert {
  const r = parseCap(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.errors)}`);
  return r.alert;
}

const square = (lat0: number, lon0: number, lat1: number, lon1: number): [number, number][] =>
  [[lat0, lon0], [lat0, lon1], [lat1, lon1], [lat1, lon0], [lat0, lon0]];

const zones: ZoneGeography[] = [
  { id: 'quang-ninh', adminCodes: ['22'] },
  { id: 'bai-chay', adminCodes: ['06700'] },
  { id: 'hong-gai', adminCodes: ['06706'] },
  { id: 'van-don', adminCodes: ['07030'] },
  { id: 'cam-pha', adminCodes: ['06781'] },
  { id: 'ha-noi', adminCodes: ['01'] },
  // Around Huế, for the flood alert's polygon (16.44–16.48 N, 107.54–107.59 E) and circle (3 km round 16.53,107.485).
  { id: 'kim-long', adminCodes: ['19774'], point: [16.461, 107.565] },
  { id: 'huong-tra', polygon: square(16.475, 107.56, 16.49, 107.58) }, // overlaps the polygon's north corner; no point
  { id: 'phu-oc', point: [16.545, 107.49] }, // ≈ 1.7 km from the circle's centre
  { id: 'quang-dien', polygon: square(16.55, 107.47, 16.57, 107.50) }, // nearest edge ≈ 2.2 km from the centre
  { id: 'phong-dien', polygon: square(16.57, 107.47, 16.60, 107.50) }, // ≈ 4.4 km: outside
  { id: 'a-luoi', point: [16.2, 107.3] },
];

t.test('storm alert: MA_DVHC geocodes reach exactly the communes named', async (t) => {
  const r = mapAlertToZones(load('vn-bao-alert.cap'), zones);
  t.same(r.zoneIds, ['bai-chay', 'hong-gai', 'van-don']);
  t.same(r.unmatched, []);
  t.same(mapAlertToZones(load('vn-bao-update.cap'), zones).zoneIds, ['bai-chay', 'hong-gai', 'van-don', 'cam-pha'], 'the Update widens the area');
  t.same(mapAlertToZones(load('vn-bao-cancel.cap'), zones).zoneIds, ['quang-ninh'], 'a province code matches the province zone (its communes are the caller’s hierarchy)');
});

t.test('flood alert: polygon, circle and geocodes; unmatched parts reported', async (t) => {
  const r = mapAlertToZones(load('vn-lu-alert.cap'), zones);
  t.same(r.zoneIds, ['kim-long', 'huong-tra', 'phu-oc', 'quang-dien']);
  t.same(r.unmatched.map((u) => [u.area, u.kind, u.value, u.reason]), [
    [2, 'geocode', 'MA_DVHC=99999', 'unknown_code'],
    [2, 'geocode', 'UGC=VNC046', 'unconfigured_value_name'],
  ]);
  t.equal(r.unmatched[0].areaDesc, 'Phường Kim Long và xã chưa có trong hệ thống');
  const ugc = mapAlertToZones(load('vn-lu-alert.cap'), [...zones, { id: 'ugc-zone', adminCodes: ['VNC046'] }], { valueNames: ['MA_DVHC', 'UGC'] });
  t.ok(ugc.zoneIds.includes('ugc-zone'), 'the valueNames read are configurable');
  t.same(ugc.unmatched.map((u) => u.value), ['MA_DVHC=99999']);
});

t.test('parts that reach nothing, and areas with only a description', async (t) => {
  const r = mapAreasToZones([
    { areaDesc: 'Biển Đông', polygon: [square(10, 112, 12, 114)], circle: [{ lat: 9, lon: 113, radiusKm: 50 }], geocode: [] },
    { areaDesc: 'Toàn tỉnh', polygon: [], circle: [], geocode: [] },
  ], zones);
  t.same(r.zoneIds, []);
  t.same(r.unmatched.map((u) => [u.area, u.kind, u.reason]), [[0, 'polygon', 'no_zone_inside'], [0, 'circle', 'no_zone_inside'], [1, 'areaDesc', 'no_target']]);
});

t.test('a zone matched by several parts is listed once, in zone order', async (t) => {
  const r = mapAreasToZones([{ areaDesc: 'x', polygon: [square(16.4, 107.5, 16.5, 107.6)], circle: [{ lat: 16.461, lon: 107.565, radiusKm: 1 }], geocode: [{ valueName: 'MA_DVHC', value: ' 19774 ' }] }], zones);
  t.same(r.zoneIds, ['kim-long', 'huong-tra']);
});

t.test('geometry', async (t) => {
  const sq = square(0, 0, 1, 1);
  t.ok(pointInPolygon([0.5, 0.5], sq));
  t.notOk(pointInPolygon([1.5, 0.5], sq));
  t.notOk(pointInPolygon([0.5, -0.1], sq));
  // A concave ring: a U shape open to the north.
  const u: [number, number][] = [[0, 0], [0, 3], [3, 3], [3, 2], [1, 2], [1, 1], [3, 1], [3, 0], [0, 0]];
  t.notOk(pointInPolygon([2, 1.5], u), 'inside the U’s notch is outside');
  t.ok(pointInPolygon([2, 0.5], u));
  const hanoiToSaigon = distanceKm([21.0285, 105.8542], [10.8231, 106.6297]);
  t.ok(Math.abs(hanoiToSaigon - 1138) < 15, `Hà Nội–TP.HCM ≈ 1138 km (${hanoiToSaigon.toFixed(0)})`);
  t.ok(polygonsIntersect(sq, square(0.5, 0.5, 2, 2)), 'overlap');
  t.ok(polygonsIntersect(sq, square(0.2, 0.2, 0.4, 0.4)), 'one inside the other');
  t.ok(polygonsIntersect(square(0.2, 0.2, 0.4, 0.4), sq), 'and the other way round');
  t.notOk(polygonsIntersect(sq, square(2, 2, 3, 3)), 'apart');
  t.ok(circleIntersectsPolygon({ lat: 0.5, lon: 1.5, radiusKm: 60 }, sq), 'an edge 55.6 km away, radius 60');
  t.notOk(circleIntersectsPolygon({ lat: 0.5, lon: 1.5, radiusKm: 50 }, sq), 'radius 50');
});
