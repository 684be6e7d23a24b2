/**
 * CSV export of as-run rows for spreadsheets: RFC 4180 (CRLF, fields with a
 * comma, quote or line break quoted, quotes doubled), UTF-8 with a byte-order
 * mark so Excel shows Vietnamese text intact, times in the zone's local time
 * with their offset. Text that Excel would run as a formula (=, +, -, @ first)
 * gets a leading apostrophe.
 */
import type { AsRunRow } from './as-run.js';
import { DEFAULT_TIME_ZONE, utcMsToIsoWithOffset } from './local-time.js';

export const UTF8_BOM = '\uFEFF';

/** One field, quoted when RFC 4180 requires it. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Free text that a spreadsheet must show, not evaluate. */
function safeText(value: string | undefined): string | undefined {
  return value !== undefined && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function csvLine(fields: readonly (string | number | null | undefined)[]): string {
  return fields.map(csvField).join(',') + '\r\n';
}

export const AS_RUN_CSV_HEADER = [
  'time', 'zone', 'programme', 'kind', 'event', 'reason', 'entry', 'airing', 'manual programme', 'media position (ms)', 'by',
] as const;

export interface AsRunCsvOptions {
  /** Zone the times are shown in. Default Asia/Ho_Chi_Minh. */
  timeZone?: string;
  /** Start with a UTF-8 BOM (for Excel). Default true. */
  bom?: boolean;
  /** Header labels (e.g. Vietnamese from the i18n table); default English AS_RUN_CSV_HEADER. */
  header?: readonly string[];
}

export function asRunToCsv(rows: readonly AsRunRow[], options: AsRunCsvOptions = {}): string {
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  const parts: string[] = [];
  if (options.bom ?? true) parts.push(UTF8_BOM);
  parts.push(csvLine(options.header ?? AS_RUN_CSV_HEADER));
  for (const r of rows) {
    parts.push(csvLine([
      utcMsToIsoWithOffset(r.atUtcMs, timeZone),
      safeText(r.zoneId),
      safeText(r.programme),
      safeText(r.programmeKind),
      r.event,
      safeText(r.reason),
      safeText(r.entryId),
      safeText(r.airingId),
      safeText(r.manualProgrammeId),
      r.mediaPositionMs,
      safeText(r.by),
    ]));
  }
  return parts.join('');
}
