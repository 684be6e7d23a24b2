/**
 * A timetable entry: one programme that wants air time on some zones, once or
 * by a recurrence rule, written in the wall-clock time of a time zone.
 *
 * validateEntry() is the only door into the scheduler: every other module
 * takes a TimetableEntry and trusts it. Errors name the field and say what to
 * do, because the person reading them is editing a timetable, not code.
 */
import { DEFAULT_TIME_ZONE, isKnownTimeZone, parseLocalDate, parseLocalDateTime, parseLocalTime } from './local-time.js';
import { parseRRule } from './rrule.js';
import { firstOccurrenceUtcMs } from './recurrence.js';

/** What an entry plays. 'live' and 'tts' join this union later. */
export type Programme =
  | { kind: 'media'; mediaId: string }
  | { kind: 'playlist'; mediaIds: string[] }
  | { kind: 'relay'; url: string };
export type ProgrammeKind = Programme['kind'];
export const PROGRAMME_KINDS: readonly ProgrammeKind[] = ['media', 'playlist', 'relay'];

/** 'cut-in': take the air at the planned time (if priority allows); 'wait': start when the current item ends. */
export type AirPolicy = 'cut-in' | 'wait';

export interface Recurrence {
  /** RFC 5545 RRULE value, normalized to upper case without the 'RRULE:' prefix, e.g. 'FREQ=WEEKLY;BYDAY=MO'. */
  rrule: string;
  /** Excluded occurrences, local: 'YYYY-MM-DDTHH:mm' (that occurrence) or 'YYYY-MM-DD' (every occurrence that day). */
  exdates: string[];
  /** Extra occurrences, local 'YYYY-MM-DDTHH:mm'. */
  rdates: string[];
}

/** Play the programme `count` times, `intervalMs` apart (from start to start). */
export interface RepeatSpec {
  count: number;
  intervalMs: number;
}

/** A validated entry. Treat it as immutable: modules cache work per object. */
export interface TimetableEntry {
  id: string;
  zoneIds: string[];
  programme: Programme;
  priority: number;
  /** IANA zone the local times are written in. */
  timeZone: string;
  /** First occurrence, local date-time 'YYYY-MM-DDTHH:mm[:ss]'. */
  start: string;
  /** null: a one-off at `start`. */
  recurrence: Recurrence | null;
  /** Exactly one of durationMs / end may be set; neither: until the programme ends by itself. */
  durationMs: number | null;
  /** Local end: 'HH:mm[:ss]' (same day as each occurrence) or a local date-time (its day offset from start applies to each occurrence). */
  end: string | null;
  /** Safety cap: the engine stops the airing after this long whatever happens. */
  maxDurationMs: number | null;
  repeat: RepeatSpec | null;
  /** Inclusive local dates bounding the occurrences. */
  validFrom: string | null;
  validUntil: string | null;
  enabled: boolean;
  policy: AirPolicy;
  createdBy: string;
}

/** What callers (API, imports) hand to validateEntry; optional fields take their defaults. */
export interface TimetableEntryInput {
  id: string;
  zoneIds: string[];
  programme: Programme;
  priority: number;
  timeZone?: string;
  start: string;
  /** An RRULE string alone, or the full recurrence. */
  recurrence?: string | { rrule: string; exdates?: string[]; rdates?: string[] } | null;
  durationMs?: number | null;
  end?: string | null;
  maxDurationMs?: number | null;
  repeat?: RepeatSpec | null;
  validFrom?: string | null;
  validUntil?: string | null;
  enabled?: boolean;
  policy?: AirPolicy;
  createdBy: string;
}

export interface ValidationError {
  field: string;
  message: string;
}
export type ValidateEntryResult = { ok: true; entry: TimetableEntry } | { ok: false; errors: ValidationError[] };

export const ENTRY_LIMITS = {
  minPriority: 0,
  maxPriority: 1000,
  maxRepeatCount: 24,
  minRepeatIntervalMs: 1_000,
  maxRepeatIntervalMs: 24 * 3600_000,
  maxDurationMs: 24 * 3600_000,
  maxZoneIds: 10_000,
} as const;

const RELAY_SCHEMES = ['http:', 'https:', 'rtsp:', 'rtp:', 'udp:', 'srt:'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}
function isAbsent(v: unknown): boolean {
  return v === undefined || v === null;
}

function validateProgramme(v: unknown, errors: ValidationError[]): Programme | null {
  if (!isRecord(v)) {
    errors.push({ field: 'programme', message: 'programme is required: { kind: "media", mediaId }, { kind: "playlist", mediaIds } or { kind: "relay", url }' });
    return null;
  }
  switch (v.kind) {
    case 'media':
      if (!isNonEmptyString(v.mediaId)) {
        errors.push({ field: 'programme.mediaId', message: 'choose the media file to play (mediaId is empty)' });
        return null;
      }
      return { kind: 'media', mediaId: v.mediaId };
    case 'playlist': {
      const ids = v.mediaIds;
      if (!Array.isArray(ids) || ids.length === 0) {
        errors.push({ field: 'programme.mediaIds', message: 'a playlist needs at least one media file' });
        return null;
      }
      const bad = ids.findIndex((x) => !isNonEmptyString(x));
      if (bad >= 0) {
        errors.push({ field: `programme.mediaIds[${bad}]`, message: 'every playlist item must be a media id' });
        return null;
      }
      return { kind: 'playlist', mediaIds: [...(ids as string[])] };
    }
    case 'relay': {
      if (!isNonEmptyString(v.url)) {
        errors.push({ field: 'programme.url', message: 'give the address of the station to relay' });
        return null;
      }
      let url: URL;
      try {
        url = new URL(v.url);
      } catch {
        errors.push({ field: 'programme.url', message: `"${v.url}" is not an address (e.g. http://radio.example.vn/live.mp3)` });
        return null;
      }
      if (!RELAY_SCHEMES.includes(url.protocol)) {
        errors.push({ field: 'programme.url', message: `relay addresses must start with ${RELAY_SCHEMES.map((s) => s + '//').join(', ')}` });
        return null;
      }
      return { kind: 'relay', url: v.url };
    }
    default:
      errors.push({ field: 'programme.kind', message: `unknown programme kind ${JSON.stringify(v.kind)} (use ${PROGRAMME_KINDS.join(', ')})` });
      return null;
  }
}

function validateDurationLike(v: unknown, field: string, what: string, errors: ValidationError[]): number | null {
  if (isAbsent(v)) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    errors.push({ field, message: `${what} must be a positive whole number of milliseconds` });
    return null;
  }
  if (v > ENTRY_LIMITS.maxDurationMs) {
    errors.push({ field, message: `${what} is longer than 24 hours; split the programme into several entries` });
    return null;
  }
  return v;
}

function formatMs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

/** Check and normalize an entry. Never throws: bad input comes back as errors. */
export function validateEntry(input: unknown): ValidateEntryResult {
  const errors: ValidationError[] = [];
  if (!isRecord(input)) return { ok: false, errors: [{ field: '', message: 'a timetable entry must be an object' }] };

  if (!isNonEmptyString(input.id)) errors.push({ field: 'id', message: 'id is required' });

  let zoneIds: string[] = [];
  if (!Array.isArray(input.zoneIds) || input.zoneIds.length === 0) {
    errors.push({ field: 'zoneIds', message: 'choose at least one zone to broadcast to' });
  } else if (input.zoneIds.length > ENTRY_LIMITS.maxZoneIds) {
    errors.push({ field: 'zoneIds', message: `at most ${ENTRY_LIMITS.maxZoneIds} zones per entry; target a parent zone instead` });
  } else if (!input.zoneIds.every(isNonEmptyString)) {
    errors.push({ field: 'zoneIds', message: 'every zone id must be a non-empty string' });
  } else {
    zoneIds = [...new Set(input.zoneIds as string[])];
  }

  const programme = validateProgramme(input.programme, errors);

  const priority = input.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority)) {
    errors.push({ field: 'priority', message: 'priority must be a whole number (bigger wins)' });
  } else if (priority < ENTRY_LIMITS.minPriority || priority > ENTRY_LIMITS.maxPriority) {
    errors.push({ field: 'priority', message: `priority must be between ${ENTRY_LIMITS.minPriority} and ${ENTRY_LIMITS.maxPriority}` });
  }

  let timeZone = DEFAULT_TIME_ZONE;
  let zoneOk = true;
  if (!isAbsent(input.timeZone)) {
    if (typeof input.timeZone !== 'string' || !isKnownTimeZone(input.timeZone)) {
      zoneOk = false;
      errors.push({ field: 'timeZone', message: `unknown time zone ${JSON.stringify(input.timeZone)} (use an IANA name such as Asia/Ho_Chi_Minh)` });
    } else {
      timeZone = input.timeZone;
    }
  }

  const startText = typeof input.start === 'string' ? input.start : '';
  const start = parseLocalDateTime(startText);
  if (start === null) {
    errors.push({ field: 'start', message: `start ${JSON.stringify(input.start)} is not a local date and time; write it like 2026-11-23T05:30` });
  }

  let recurrence: Recurrence | null = null;
  const rec = input.recurrence;
  if (!isAbsent(rec)) {
    const r = typeof rec === 'string' ? { rrule: rec } : rec;
    if (!isRecord(r) || typeof r.rrule !== 'string') {
      errors.push({ field: 'recurrence.rrule', message: 'recurrence needs an RRULE such as FREQ=DAILY' });
    } else {
      const parsed = parseRRule(r.rrule);
      if (!parsed.ok) {
        for (const m of parsed.errors) errors.push({ field: 'recurrence.rrule', message: `invalid RRULE: ${m}` });
      }
      const exdates: string[] = [];
      const rdates: string[] = [];
      const exIn = isAbsent(r.exdates) ? [] : r.exdates;
      const rIn = isAbsent(r.rdates) ? [] : r.rdates;
      if (!Array.isArray(exIn)) errors.push({ field: 'recurrence.exdates', message: 'exdates must be a list of local dates or date-times' });
      else {
        exIn.forEach((x, i) => {
          if (typeof x === 'string' && (parseLocalDateTime(x) !== null || parseLocalDate(x) !== null)) exdates.push(x);
          else errors.push({ field: `recurrence.exdates[${i}]`, message: `${JSON.stringify(x)} is not a local date (2026-11-27) or date-time (2026-11-27T05:30)` });
        });
      }
      if (!Array.isArray(rIn)) errors.push({ field: 'recurrence.rdates', message: 'rdates must be a list of local date-times' });
      else {
        rIn.forEach((x, i) => {
          if (typeof x === 'string' && parseLocalDateTime(x) !== null) rdates.push(x);
          else errors.push({ field: `recurrence.rdates[${i}]`, message: `${JSON.stringify(x)} is not a local date-time such as 2026-11-27T05:30` });
        });
      }
      if (parsed.ok) {
        const rrule = r.rrule.trim().replace(/^RRULE:/i, '').toUpperCase();
        recurrence = { rrule, exdates, rdates };
      }
    }
  }

  const durationMs = validateDurationLike(input.durationMs, 'durationMs', 'duration', errors);
  const maxDurationMs = validateDurationLike(input.maxDurationMs, 'maxDurationMs', 'maximum duration', errors);
  let end: string | null = null;
  if (!isAbsent(input.end)) {
    if (durationMs !== null) {
      errors.push({ field: 'end', message: 'give either an end time or a duration, not both' });
    } else if (typeof input.end !== 'string') {
      errors.push({ field: 'end', message: 'end must be a local time (17:30) or date-time (2026-11-23T17:30)' });
    } else {
      const endTime = parseLocalTime(input.end);
      const endDateTime = parseLocalDateTime(input.end);
      if (endTime === null && endDateTime === null) {
        errors.push({ field: 'end', message: `end ${JSON.stringify(input.end)} is not a local time (17:30) or date-time (2026-11-23T17:30)` });
      } else if (start !== null) {
        const before = endTime !== null
          ? endTime.since(start.toPlainTime()).sign <= 0
          : endDateTime!.since(start).sign <= 0;
        if (before) {
          errors.push({
            field: 'end',
            message: endTime !== null
              ? `end ${input.end} is not after start ${startText.slice(11)}; to cross midnight give end as a date-time or use durationMs`
              : `end ${input.end} is not after start ${startText}`,
          });
        } else {
          end = input.end;
          const spanMs = endTime !== null
            ? endTime.since(start.toPlainTime()).total('milliseconds')
            : endDateTime!.since(start).total('milliseconds');
          if (spanMs > ENTRY_LIMITS.maxDurationMs) {
            errors.push({ field: 'end', message: 'the programme lasts more than 24 hours; split it into several entries' });
          }
        }
      }
    }
  }
  if (durationMs !== null && maxDurationMs !== null && durationMs > maxDurationMs) {
    errors.push({ field: 'maxDurationMs', message: `maximum duration ${formatMs(maxDurationMs)} is shorter than the duration ${formatMs(durationMs)}` });
  }

  let repeat: RepeatSpec | null = null;
  if (!isAbsent(input.repeat)) {
    const r = input.repeat;
    if (!isRecord(r)) errors.push({ field: 'repeat', message: 'repeat must be { count, intervalMs }' });
    else {
      const { count, intervalMs } = r;
      let ok = true;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > ENTRY_LIMITS.maxRepeatCount) {
        ok = false;
        errors.push({ field: 'repeat.count', message: `repeat count must be a whole number from 1 to ${ENTRY_LIMITS.maxRepeatCount}` });
      }
      if (typeof intervalMs !== 'number' || !Number.isInteger(intervalMs) ||
          intervalMs < ENTRY_LIMITS.minRepeatIntervalMs || intervalMs > ENTRY_LIMITS.maxRepeatIntervalMs) {
        ok = false;
        errors.push({ field: 'repeat.intervalMs', message: 'repeat interval must be between 1 second and 24 hours (in milliseconds)' });
      } else if (durationMs !== null && intervalMs < durationMs) {
        ok = false;
        errors.push({ field: 'repeat.intervalMs', message: `repeats ${formatMs(intervalMs)} apart would overlap a ${formatMs(durationMs)} programme; make the interval at least the duration` });
      }
      if (ok) repeat = { count: count as number, intervalMs: intervalMs as number };
    }
  }

  const validFrom = isAbsent(input.validFrom) ? null : input.validFrom;
  const validUntil = isAbsent(input.validUntil) ? null : input.validUntil;
  const from = typeof validFrom === 'string' ? parseLocalDate(validFrom) : null;
  const until = typeof validUntil === 'string' ? parseLocalDate(validUntil) : null;
  if (validFrom !== null && from === null) errors.push({ field: 'validFrom', message: `validFrom ${JSON.stringify(validFrom)} is not a date like 2026-12-01` });
  if (validUntil !== null && until === null) errors.push({ field: 'validUntil', message: `validUntil ${JSON.stringify(validUntil)} is not a date like 2026-12-31` });
  if (from !== null && until !== null && until.since(from).sign < 0) {
    errors.push({ field: 'validUntil', message: `validUntil ${validUntil} is before validFrom ${validFrom}` });
  }

  const enabled = isAbsent(input.enabled) ? true : input.enabled;
  if (typeof enabled !== 'boolean') errors.push({ field: 'enabled', message: 'enabled must be true or false' });
  const policy = isAbsent(input.policy) ? 'cut-in' : input.policy;
  if (policy !== 'cut-in' && policy !== 'wait') errors.push({ field: 'policy', message: 'policy must be "cut-in" (take the air at its time) or "wait" (start when the current item ends)' });
  if (!isNonEmptyString(input.createdBy)) errors.push({ field: 'createdBy', message: 'createdBy (the user who wrote the entry) is required' });

  if (errors.length > 0 || !zoneOk) return { ok: false, errors };

  const entry: TimetableEntry = {
    id: input.id as string,
    zoneIds,
    programme: programme!,
    priority: priority as number,
    timeZone,
    start: startText,
    recurrence,
    durationMs,
    end,
    maxDurationMs,
    repeat,
    validFrom: validFrom as string | null,
    validUntil: validUntil as string | null,
    enabled: enabled as boolean,
    policy: policy as AirPolicy,
    createdBy: input.createdBy as string,
  };
  if (firstOccurrenceUtcMs(entry) === null) {
    return {
      ok: false,
      errors: [{
        field: recurrence !== null ? 'recurrence' : 'start',
        message: recurrence !== null
          ? 'this rule never airs: no occurrence on or after start within the validity dates (check BYMONTH/BYMONTHDAY, COUNT, UNTIL, EXDATE, validFrom/validUntil)'
          : 'this one-off falls outside its validity dates (validFrom/validUntil) or is excluded',
      }],
    };
  }
  return { ok: true, entry };
}
