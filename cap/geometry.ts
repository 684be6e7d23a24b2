// Plane geometry on WGS 84 latitude/longitude, enough to decide whether an alert area touches
// a zone. Polygons are treated in the lon/lat plane (an alert area is at most a few hundred
// km wide, and edges are short); distances use a local projection in km. Areas crossing the
// 180° meridian are not handled (none exist in Vietnam).
import type { Circle, LatLon } from './syntax.js';

const KM_PER_DEGREE = 111.195; // Earth mean radius 6371.0 km × π / 180

/** Ray casting; a point exactly on an edge may fall either way. */
export function pointInPolygon([lat, lon]: LatLon, ring: LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [yi, xi] = ring[i];
    const [yj, xj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Great-circle distance in km (haversine). */
export function distanceKm([lat1, lon1]: LatLon, [lat2, lon2]: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0 * Math.asin(Math.min(1, Math.sqrt(a)));
}

export function pointInCircle(p: LatLon, c: Circle): boolean {
  return distanceKm(p, [c.lat, c.lon]) <= c.radiusKm;
}

function orientation(a: LatLon, b: LatLon, c: LatLon): number {
  const v = (b[1] - a[1]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[1] - a[1]);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function onSegment(a: LatLon, b: LatLon, p: LatLon): boolean {
  return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) && Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
}

export function segmentsIntersect(p1: LatLon, p2: LatLon, q1: LatLon, q2: LatLon): boolean {
  const o1 = orientation(p1, p2, q1);
  const o2 = orientation(p1, p2, q2);
  const o3 = orientation(q1, q2, p1);
  const o4 = orientation(q1, q2, p2);
  if (o1 !== o2 && o3 !== o4) return true;
  return (o1 === 0 && onSegment(p1, p2, q1)) || (o2 === 0 && onSegment(p1, p2, q2)) || (o3 === 0 && onSegment(q1, q2, p1)) || (o4 === 0 && onSegment(q1, q2, p2));
}

/** True when the two closed rings share any point (overlap, touch, or one inside the other). */
export function polygonsIntersect(a: LatLon[], b: LatLon[]): boolean {
  for (let i = 0; i + 1 < a.length; i++) {
    for (let j = 0; j + 1 < b.length; j++) {
      if (segmentsIntersect(a[i], a[i + 1], b[j], b[j + 1])) return true;
    }
  }
  return pointInPolygon(a[0], b) || pointInPolygon(b[0], a);
}

/** Distance in km from p to the segment ab, in a local projection centred on p. */
function distanceToSegmentKm(p: LatLon, a: LatLon, b: LatLon): number {
  const k = Math.cos((p[0] * Math.PI) / 180) * KM_PER_DEGREE;
  const ax = (a[1] - p[1]) * k, ay = (a[0] - p[0]) * KM_PER_DEGREE;
  const bx = (b[1] - p[1]) * k, by = (b[0] - p[0]) * KM_PER_DEGREE;
  const dx = bx - ax, dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2));
  return Math.hypot(ax + t * dx, ay + t * dy);
}

export function circleIntersectsPolygon(c: Circle, ring: LatLon[]): boolean {
  const centre: LatLon = [c.lat, c.lon];
  if (pointInPolygon(centre, ring)) return true;
  for (let i = 0; i + 1 < ring.length; i++) {
    if (distanceToSegmentKm(centre, ring[i], ring[i + 1]) <= c.radiusKm) return true;
  }
  return false;
}
