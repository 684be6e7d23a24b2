// @ts-check
// Numbers, times and sizes as the user's language writes them.
import { locale, t, tOr } from './i18n.js';

/** m:ss (or h:mm:ss) for a duration in milliseconds. @param {number} ms */
export function formatDuration(ms) {
  const total = Math.round(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** @param {string | null | undefined} iso */
export function formatDateTime(iso) {
  if (!iso) return t('none');
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
}

/** @param {Date} date */
export function formatTime(date) {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'medium' }).format(date);
}

/** "3 minutes ago" for a past ISO time. @param {string} iso */
export function formatAgo(iso) {
  const seconds = Math.round((new Date(iso).getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** @param {number} bytes */
export function formatSize(bytes) {
  const nf = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 });
  if (bytes < 1024) return `${nf.format(bytes)} B`;
  if (bytes < 1024 * 1024) return `${nf.format(bytes / 1024)} KB`;
  return `${nf.format(bytes / (1024 * 1024))} MB`;
}

/** @param {number} value @param {number} [digits] */
export function formatNumber(value, digits = 1) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

/** A zone kind in the user's language when it is a known one. @param {string} kind */
export function zoneKind(kind) {
  return tOr(`kind_${kind.toLowerCase()}`, kind);
}

export const PRIORITY_NAMES = /** @type {const} */ (['background', 'normal', 'priority', 'live', 'emergency']);

/** A priority name or number as users know it. @param {string | number} p */
export function priorityLabel(p) {
  if (typeof p === 'string' && PRIORITY_NAMES.includes(/** @type {any} */ (p))) return t(`priority_${p}`);
  return t('priority_number', { value: p });
}

/** CSS class for a priority badge. @param {string | number} p */
export function priorityClass(p) {
  return typeof p === 'string' ? `prio prio-${p}` : 'prio';
}
