/**
 * Checking an RFC 5545 RRULE value before it reaches the expander.
 *
 * rrule-temporal accepts some nonsense silently (unknown parts, BYMONTH=13,
 * COUNT together with UNTIL); a person editing a timetable deserves a sentence
 * that says what is wrong instead. This file only reads the text: expansion
 * lives in recurrence.ts.
 */

export const RRULE_FREQS = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY', 'HOURLY', 'MINUTELY'] as const;
export type RRuleFreq = (typeof RRULE_FREQS)[number];

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const KNOWN_PARTS = new Set([
  'FREQ', 'INTERVAL', 'COUNT', 'UNTIL', 'BYDAY', 'BYMONTHDAY', 'BYMONTH', 'BYHOUR',
  'BYMINUTE', 'BYSECOND', 'BYSETPOS', 'BYYEARDAY', 'BYWEEKNO', 'WKST',
]);

/** UNTIL in one of its three RFC 5545 shapes. */
export type RRuleUntil =
  | { kind: 'utc'; utcMs: number }
  | { kind: 'local'; local: string } // 'YYYY-MM-DDTHH:mm:ss' in the entry's zone
  | { kind: 'date'; date: string }; // 'YYYY-MM-DD', inclusive, in the entry's zone

export interface ParsedRRule {
  freq: RRuleFreq;
  /** The rule without UNTIL and without an 'RRULE:' prefix (UNTIL is applied by recurrence.ts). */
  ruleWithoutUntil: string;
  until: RRuleUntil | null;
  count: number | null;
}

export type ParseRRuleResult = { ok: true; rule: ParsedRRule } | { ok: false, errors: string[] };

function intList(value: string, min: number, max: number, allowNegative: boolean): boolean {
  return value.split(',').every((v) => {
    if (!/^[+-]?\d{1,3}$/.test(v)) return false;
    const n = Number(v);
    if (n < 0 && !allowNegative) return false;
    const a = Math.abs(n);
    return a >= Math.max(min, allowNegative ? 1 : min) && a <= max;
  });
}

function parseUntil(value: string): RRuleUntil | null {
  let m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (m) {
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    const d = new Date(ms);
    if (d.getUTCDate() !== +m[3] || +m[4] > 23 || +m[5] > 59 || +m[6] > 59) return null;
    return { kind: 'utc', utcMs: ms };
  }
  m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/.exec(value);
  if (m) {
    if (!validDate(+m[1], +m[2], +m[3]) || +m[4] > 23 || +m[5] > 59 || +m[6] > 59) return null;
    return { kind: 'local', local: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` };
  }
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (m) {
    if (!validDate(+m[1], +m[2], +m[3])) return null;
    return { kind: 'date', date: `${m[1]}-${m[2]}-${m[3]}` };
  }
  return null;
}

function validDate(y: number, mo: number, d: number): boolean {
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Parse and check one RRULE value ('FREQ=WEEKLY;BYDAY=MO,WE' or 'RRULE:FREQ=…'). */
export function parseRRule(text: string): ParseRRuleResult {
  const errors: string[] = [];
  let body = text.trim();
  if (/^RRULE:/i.test(body)) body = body.slice(6);
  if (body === '') return { ok: false, errors: ['the rule is empty; write at least FREQ, e.g. FREQ=DAILY'] };
  if (/DTSTART|\n/i.test(body)) {
    return { ok: false, errors: ['write only the RRULE value (e.g. FREQ=DAILY); the start date and time go in "start"'] };
  }
  const parts = new Map<string, string>();
  for (const piece of body.split(';')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq <= 0) {
      errors.push(`"${piece}" is not a NAME=VALUE part`);
      continue;
    }
    const name = piece.slice(0, eq).toUpperCase();
    const value = piece.slice(eq + 1).toUpperCase();
    if (!KNOWN_PARTS.has(name)) {
      errors.push(`unknown rule part "${name}" (known: ${[...KNOWN_PARTS].join(', ')})`);
      continue;
    }
    if (parts.has(name)) errors.push(`${name} appears twice`);
    if (value === '') errors.push(`${name} has no value`);
    parts.set(name, value);
  }
  const freq = parts.get('FREQ');
  if (freq === undefined) errors.push('FREQ is missing (e.g. FREQ=DAILY, FREQ=WEEKLY;BYDAY=MO, FREQ=MONTHLY;BYDAY=1MO)');
  else if (freq === 'SECONDLY') errors.push('FREQ=SECONDLY is not allowed for a timetable (use MINUTELY at the finest)');
  else if (!(RRULE_FREQS as readonly string[]).includes(freq)) {
    errors.push(`FREQ=${freq} is not a frequency (use one of ${RRULE_FREQS.join(', ')})`);
  }
  const check = (name: string, ok: (v: string) => boolean, hint: string): void => {
    const v = parts.get(name);
    if (v !== undefined && v !== '' && !ok(v)) errors.push(`${name}=${v} is invalid: ${hint}`);
  };
  check('INTERVAL', (v) => /^\d{1,4}$/.test(v) && +v >= 1, 'use a whole number of 1 or more');
  check('COUNT', (v) => /^\d{1,6}$/.test(v) && +v >= 1, 'use a whole number of 1 or more');
  check('BYMONTH', (v) => intList(v, 1, 12, false), 'months are 1 to 12');
  check('BYMONTHDAY', (v) => intList(v, 1, 31, true), 'days are 1 to 31, or -1 to -31 counted from the end of the month');
  check('BYYEARDAY', (v) => intList(v, 1, 366, true), 'days of the year are 1 to 366 or -1 to -366');
  check('BYWEEKNO', (v) => intList(v, 1, 53, true), 'weeks are 1 to 53 or -1 to -53');
  check('BYSETPOS', (v) => intList(v, 1, 366, true), 'positions are 1 to 366 or -1 to -366');
  check('BYHOUR', (v) => intList(v, 0, 23, false), 'hours are 0 to 23');
  check('BYMINUTE', (v) => intList(v, 0, 59, false), 'minutes are 0 to 59');
  check('BYSECOND', (v) => intList(v, 0, 59, false), 'seconds are 0 to 59');
  check('WKST', (v) => WEEKDAYS.includes(v), `use one of ${WEEKDAYS.join(', ')}`);
  const byDay = parts.get('BYDAY');
  if (byDay !== undefined && byDay !== '') {
    for (const token of byDay.split(',')) {
      const m = /^([+-]?\d{1,2})?([A-Z]{2})$/.exec(token);
      if (!m || !WEEKDAYS.includes(m[2])) {
        errors.push(`BYDAY value "${token}" is not a weekday (use MO, TU, WE, TH, FR, SA, SU, optionally with an ordinal such as 1MO or -1FR)`);
        continue;
      }
      if (m[1] !== undefined) {
        const n = Math.abs(Number(m[1]));
        if (n < 1 || n > 53) errors.push(`BYDAY value "${token}": the ordinal must be 1 to 53 or -1 to -53`);
        else if (freq !== 'MONTHLY' && freq !== 'YEARLY') {
          errors.push(`BYDAY value "${token}": an ordinal weekday (like 1MO or -1FR) only makes sense with FREQ=MONTHLY or FREQ=YEARLY`);
        }
      }
    }
  }
  let until: RRuleUntil | null = null;
  const untilText = parts.get('UNTIL');
  if (untilText !== undefined && untilText !== '') {
    until = parseUntil(untilText);
    if (until === null) errors.push(`UNTIL=${untilText} is not a date (use YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ)`);
  }
  if (parts.has('COUNT') && parts.has('UNTIL')) errors.push('COUNT and UNTIL cannot be used together; keep one of them');
  if (errors.length > 0 || freq === undefined) return { ok: false, errors };
  const ruleWithoutUntil = [...parts].filter(([k]) => k !== 'UNTIL').map(([k, v]) => `${k}=${v}`).join(';');
  const count = parts.has('COUNT') ? Number(parts.get('COUNT')) : null;
  return { ok: true, rule: { freq: freq as RRuleFreq, ruleWithoutUntil, until, count } };
}
