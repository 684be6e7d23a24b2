/**
 * Wall-clock times of a zone and their UTC instants.
 *
 * The one rule for times that a zone's clock skips or shows twice (RFC 5545
 * §3.3.5, and Temporal's 'compatible' disambiguation): a local time inside a
 * spring-forward gap is moved forward by the length of the gap (02:30 on a
 * day that jumps 02:00→03:00 airs at 03:30), and a local time shown twice in
 * autumn means its first occurrence (the one before the clocks go back).
 */
import { Temporal } from 'temporal-polyfill';

export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TIME = /^(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** 'YYYY-MM-DDTHH:mm[:ss]' without offset or zone → PlainDateTime, or null when it is not one. */
export function parseLocalDateTime(text: string): Temporal.PlainDateTime | null {
  const m = LOCAL_DATE_TIME.exec(text);
  if (!m) return null;
  try {
    return Temporal.PlainDateTime.from(
      { year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5], second: m[6] ? +m[6] : 0 },
      { overflow: 'reject' },
    );
  } catch {
    return null;
  }
}

/** 'YYYY-MM-DD' → PlainDate, or null. */
export function parseLocalDate(text: string): Temporal.PlainDate | null {
  const m = LOCAL_DATE.exec(text);
  if (!m) return null;
  try {
    return Temporal.PlainDate.from({ year: +m[1], month: +m[2], day: +m[3] }, { overflow: 'reject' });
  } catch {
    return null;
  }
}

/** 'HH:mm[:ss]' → PlainTime, or null. */
export function parseLocalTime(text: string): Temporal.PlainTime | null {
  const m = LOCAL_TIME.exec(text);
  if (!m) return null;
  try {
    return Temporal.PlainTime.from({ hour: +m[1], minute: +m[2], second: m[3] ? +m[3] : 0 }, { overflow: 'reject' });
  } catch {
    return null;
  }
}

const zoneCache = new Map<string, boolean>();

/** True when the IANA zone name is known to this runtime. */
export function isKnownTimeZone(timeZone: string): boolean {
  let known = zoneCache.get(timeZone);
  if (known === undefined) {
    try {
      Temporal.ZonedDateTime.from({ year: 2000, month: 1, day: 1, timeZone });
      known = true;
    } catch {
      known = false;
    }
    zoneCache.set(timeZone, known);
  }
  return known;
}

/** The UTC instant (ms) of a wall-clock time in a zone, by the gap/overlap rule above. */
export function plainToUtcMs(local: Temporal.PlainDateTime, timeZone: string): number {
  return local.toZonedDateTime(timeZone, { disambiguation: 'compatible' }).epochMilliseconds;
}

/** Same as plainToUtcMs for a 'YYYY-MM-DDTHH:mm[:ss]' string; throws on a malformed one. */
export function localToUtcMs(local: string, timeZone: string): number {
  const p = parseLocalDateTime(local);
  if (p === null) throw new RangeError(`not a local date-time: ${local}`);
  return plainToUtcMs(p, timeZone);
}

/** The wall-clock time of a UTC instant in a zone. */
export function utcMsToPlain(utcMs: number, timeZone: string): Temporal.PlainDateTime {
  return Temporal.Instant.fromEpochMilliseconds(utcMs).toZonedDateTimeISO(timeZone).toPlainDateTime();
}

/** ISO 8601 with the zone's offset, e.g. '2026-11-23T05:30:00+07:00' (the API's time format). */
export function utcMsToIsoWithOffset(utcMs: number, timeZone: string): string {
  const z = Temporal.Instant.fromEpochMilliseconds(utcMs).toZonedDateTimeISO(timeZone);
  return z.toString({ timeZoneName: 'never', smallestUnit: z.millisecond === 0 ? 'second' : 'millisecond' });
}
