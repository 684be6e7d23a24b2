// The value syntaxes CAP 1.2 puts inside strings (section 3.3 of the specification):
// date-times with an explicit offset, polygons, circles, references and quoted lists.
// Each reader returns the value or a sentence saying what is wrong with it.

export type Read<T> = { ok: true; value: T } | { ok: false; why: string };

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([-+])(\d{2}):(\d{2})$/;

/** "2026-11-27T14:00:00+07:00" → epoch ms. The offset is required; "Z" is not CAP 1.2. */
export function readDateTime(s: string): Read<number> {
  const m = DATE_TIME.exec(s.trim());
  if (!m) return { ok: false, why: 'expected YYYY-MM-DDThh:mm:ss±hh:mm (an explicit offset, no “Z”, no fraction)' };
  const [y, mo, d, h, mi, se, sign, oh, om] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), m[7], Number(m[8]), Number(m[9])];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || se > 59) return { ok: false, why: 'not a calendar date and time' };
  if (oh > 14 || om > 59 || (oh === 14 && om > 0)) return { ok: false, why: 'the offset is outside ±14:00' };
  const offsetMin = (sign === '-' ? -1 : 1) * (oh * 60 + om);
  return { ok: true, value: Date.UTC(y, mo - 1, d, h, mi, se) - offsetMin * 60_000 };
}

export type LatLon = [lat: number, lon: number];

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

function readPair(s: string): LatLon | undefined {
  const parts = s.split(',');
  if (parts.length !== 2 || !NUMBER.test(parts[0]) || !NUMBER.test(parts[1])) return undefined;
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return undefined;
  return [lat, lon];
}

/** "lat,lon lat,lon …": at least 4 WGS 84 pairs, the first equal to the last. */
export function readPolygon(s: string): Read<LatLon[]> {
  const tokens = s.trim().split(/\s+/).filter((x) => x !== '');
  if (tokens.length === 0) return { ok: false, why: 'the polygon is empty' };
  const points: LatLon[] = [];
  for (const t of tokens) {
    const p = readPair(t);
    if (!p) return { ok: false, why: `“${t}” is not a “latitude,longitude” pair in range` };
    points.push(p);
  }
  if (points.length < 4) return { ok: false, why: `a polygon needs at least 4 points, this one has ${points.length}` };
  const [a, b] = [points[0], points[points.length - 1]];
  if (a[0] !== b[0] || a[1] !== b[1]) return { ok: false, why: 'the polygon is not closed: the first and last points differ' };
  return { ok: true, value: points };
}

export interface Circle { lat: number; lon: number; radiusKm: number }

/** "lat,lon radius" with the radius in kilometres. */
export function readCircle(s: string): Read<Circle> {
  const tokens = s.trim().split(/\s+/);
  if (tokens.length !== 2) return { ok: false, why: 'expected “latitude,longitude radius-in-km”' };
  const p = readPair(tokens[0]);
  if (!p) return { ok: false, why: `“${tokens[0]}” is not a “latitude,longitude” pair in range` };
  if (!NUMBER.test(tokens[1]) || Number(tokens[1]) < 0) return { ok: false, why: `the radius “${tokens[1]}” is not a non-negative number of kilometres` };
  return { ok: true, value: { lat: p[0], lon: p[1], radiusKm: Number(tokens[1]) } };
}

export interface CapReference { sender: string; identifier: string; sent: string }

/** Whitespace-separated "sender,identifier,sent" triples; at least one. */
export function readReferences(s: string): Read<CapReference[]> {
  const tokens = s.trim().split(/\s+/).filter((x) => x !== '');
  if (tokens.length === 0) return { ok: false, why: 'empty: name at least one earlier alert as “sender,identifier,sent”' };
  const refs: CapReference[] = [];
  for (const t of tokens) {
    const parts = t.split(',');
    if (parts.length !== 3 || parts[0] === '' || parts[1] === '') return { ok: false, why: `“${t}” is not “sender,identifier,sent”` };
    if (!readDateTime(parts[2]).ok) return { ok: false, why: `in “${t}”, “${parts[2]}” is not a CAP date-time` };
    refs.push({ sender: parts[0], identifier: parts[1], sent: parts[2] });
  }
  return { ok: true, value: refs };
}

/** Space-delimited list where an item containing spaces is in double quotes (addresses, incidents). */
export function readQuotedList(s: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] ?? m[2]);
  return out.filter((x) => x !== '');
}

/** identifier and sender: no whitespace, commas, “<” or “&” (they would break references). */
export function isCapIdentifier(s: string): boolean {
  return s !== '' && !/[\s,<&]/.test(s);
}

export function isDecimal(s: string): boolean {
  return NUMBER.test(s.trim());
}

export function isLanguageTag(s: string): boolean {
  return /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/.test(s.trim());
}
