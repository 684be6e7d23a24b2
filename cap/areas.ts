// CAP <area> → Loa zones. A geocode whose valueName is configured (default MA_DVHC, the
// Vietnamese administrative unit code) matches the zones carrying that code; a polygon or a
// circle matches the zones whose point lies inside or whose polygon it touches. CAP defines an
// area as the union of its parts, so each part is matched on its own, and every part that
// reaches no zone is reported back rather than dropped.
import type { CapAlert, CapArea } from './parse.js';
import type { LatLon } from './syntax.js';
import { circleIntersectsPolygon, pointInCircle, pointInPolygon, polygonsIntersect } from './geometry.js';

export interface ZoneGeography {
  id: string;
  /** Administrative unit codes this zone stands for (e.g. '06700'); compared exactly, leading zeros matter. */
  adminCodes?: string[];
  /** A representative point (e.g. the commune's loudspeaker cluster), [lat, lon]. */
  point?: LatLon;
  /** The zone's outline, a closed ring of [lat, lon]. */
  polygon?: LatLon[];
}

export interface AreaMatchOptions {
  /** geocode valueNames read as administrative codes; default ['MA_DVHC']. */
  valueNames?: string[];
}

export type UnmatchedReason =
  | 'unknown_code' // a configured valueName, but no zone has this code
  | 'unconfigured_value_name' // a geocode scheme we do not read (e.g. SAME, UGC)
  | 'no_zone_inside' // a polygon or circle that contains or touches no zone with coordinates
  | 'no_target'; // an area with only a description

export interface UnmatchedAreaPart {
  /** 0-based indexes of the info block and the area inside it. */
  info: number;
  area: number;
  areaDesc: string;
  kind: 'geocode' | 'polygon' | 'circle' | 'areaDesc';
  /** The part as written: "MA_DVHC=99999", the polygon's point count, or the circle. */
  value: string;
  reason: UnmatchedReason;
}

export interface AreaMatch {
  /** Matched zone ids, in the order of the zones given, each once. */
  zoneIds: string[];
  unmatched: UnmatchedAreaPart[];
}

export const DEFAULT_GEOCODE_VALUE_NAMES = ['MA_DVHC'];

/** Matches the areas of every info block; the alert's target is their union. */
export function mapAlertToZones(alert: CapAlert, zones: ZoneGeography[], options: AreaMatchOptions = {}): AreaMatch {
  const hit = new Set<string>();
  const unmatched: UnmatchedAreaPart[] = [];
  alert.info.forEach((info, i) => {
    const r = mapAreasToZones(info.area, zones, options, i);
    r.zoneIds.forEach((z) => hit.add(z));
    unmatched.push(...r.unmatched);
  });
  return { zoneIds: zones.filter((z) => hit.has(z.id)).map((z) => z.id), unmatched };
}

export function mapAreasToZones(areas: CapArea[], zones: ZoneGeography[], options: AreaMatchOptions = {}, infoIndex = 0): AreaMatch {
  const valueNames = new Set((options.valueNames ?? DEFAULT_GEOCODE_VALUE_NAMES).map((v) => v.trim()));
  const byCode = new Map<string, string[]>();
  for (const z of zones) {
    for (const code of z.adminCodes ?? []) {
      const list = byCode.get(code.trim()) ?? [];
      list.push(z.id);
      byCode.set(code.trim(), list);
    }
  }
  const hit = new Set<string>();
  const unmatched: UnmatchedAreaPart[] = [];
  areas.forEach((area, a) => {
    const miss = (kind: UnmatchedAreaPart['kind'], value: string, reason: UnmatchedReason) =>
      unmatched.push({ info: infoIndex, area: a, areaDesc: area.areaDesc, kind, value, reason });
    for (const g of area.geocode) {
      const shown = `${g.valueName}=${g.value}`;
      if (!valueNames.has(g.valueName.trim())) { miss('geocode', shown, 'unconfigured_value_name'); continue; }
      const ids = byCode.get(g.value.trim());
      if (!ids) { miss('geocode', shown, 'unknown_code'); continue; }
      ids.forEach((id) => hit.add(id));
    }
    for (const ring of area.polygon) {
      const ids = zones.filter((z) => (z.point && pointInPolygon(z.point, ring)) || (z.polygon && polygonsIntersect(ring, z.polygon))).map((z) => z.id);
      if (ids.length === 0) miss('polygon', `${ring.length} points from ${ring[0].join(',')}`, 'no_zone_inside');
      ids.forEach((id) => hit.add(id));
    }
    for (const c of area.circle) {
      const ids = zones.filter((z) => (z.point && pointInCircle(z.point, c)) || (z.polygon && circleIntersectsPolygon(c, z.polygon))).map((z) => z.id);
      if (ids.length === 0) miss('circle', `${c.lat},${c.lon} ${c.radiusKm}`, 'no_zone_inside');
      ids.forEach((id) => hit.add(id));
    }
    if (area.geocode.length === 0 && area.polygon.length === 0 && area.circle.length === 0) miss('areaDesc', area.areaDesc, 'no_target');
  });
  return { zoneIds: zones.filter((z) => hit.has(z.id)).map((z) => z.id), unmatched };
}
