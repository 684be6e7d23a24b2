/**
 * Vietnamese text normalisation before synthesis: abbreviations, dates, times,
 * units, ranges and numbers become the words a news reader would say, so the
 * voice never spells "12/10/2025" or reads "14h30" letter by letter.
 *
 * Passes run in a fixed order, each on the output of the previous one; the
 * more specific shapes (a date, a time, a range of times) go before the
 * general number rule that would otherwise take their digits apart. Numbers
 * follow the Vietnamese convention: "." groups thousands ("1.500" is one
 * thousand five hundred), "," is the decimal separator ("12,5" → "mười hai
 * phẩy năm"); a "." followed by other than groups of three digits is read as
 * a decimal point ("chấm").
 */
import { VI_ABBREVIATIONS, VI_UNITS } from './abbreviations-vi.js';
import { MAX_NUMBER_DIGITS, readDigits, readFraction, readInteger, readOrdinal, type NumberReadingOptions } from './vi-number.js';

export type NormalizeOptions = NumberReadingOptions;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Whole tokens: not glued to a letter or digit on either side (a trailing digit is allowed: "QL1A").
const ABBREVIATION_RE = new RegExp(
  `(?<![\\p{L}\\p{N}])(${VI_ABBREVIATIONS.map(([a]) => escapeRegExp(a)).join('|')})(?![\\p{L}])`,
  'gu',
);
const ABBREVIATION_WORDS = new Map(VI_ABBREVIATIONS);

// A unit right after a number (optionally one space), not followed by a letter or digit.
const UNIT_RE = new RegExp(`(?<=\\d) ?(${VI_UNITS.map(([u]) => escapeRegExp(u)).join('|')})(?![\\p{L}\\p{N}])`, 'gu');
const UNIT_WORDS = new Map(VI_UNITS);

/** A number as written: integer with optional "." thousands groups, optional decimal part. */
const NUMBER = String.raw`\d+(?:[.,]\d+)*`;

function validDay(d: number): boolean {
  return d >= 1 && d <= 31;
}
function validMonth(m: number): boolean {
  return m >= 1 && m <= 12;
}

/** Day of the month: "mùng" before 1–10, as said on air ("ngày mùng năm tháng mười"). */
function readDay(d: string, o: NormalizeOptions): string {
  const n = Number(d);
  return n <= 10 ? `mùng ${readInteger(d, o)}` : readInteger(d, o);
}

/** Month: April is "tháng tư". */
function readMonth(m: string, o: NormalizeOptions): string {
  return Number(m) === 4 ? 'tư' : readInteger(m, o);
}

/** `word` + space, unless the text already says it right before `offset` ("ngày 12/10", "tháng 4/2025"). */
function unlessSaid(word: string, text: string, offset: number): string {
  const before = text.slice(Math.max(0, offset - word.length - 4), offset);
  return new RegExp(`(?:^|[^\\p{L}])${word}\\s*$`, 'iu').test(before) ? '' : `${word} `;
}

/** Reads a number as written (see the module comment for separators). */
export function readNumberToken(token: string, o: NormalizeOptions = {}): string {
  // Thousands grouped by dots: 1.500 / 2.500.000 (optionally with a decimal comma: 1.234,5).
  const grouped = /^(\d{1,3}(?:\.\d{3})+)(?:,(\d+))?$/.exec(token);
  if (grouped) {
    const int = readIntegerOrDigits(grouped[1].replace(/\./g, ''), o);
    return grouped[2] ? `${int} phẩy ${readFraction(grouped[2], o)}` : int;
  }
  const decimal = /^(\d+)([.,])(\d+)$/.exec(token);
  if (decimal) return `${readIntegerOrDigits(decimal[1], o)} ${decimal[2] === ',' ? 'phẩy' : 'chấm'} ${readFraction(decimal[3], o)}`;
  if (/^\d+$/.test(token)) {
    // Phone numbers and codes ("0912345678", "0123") are read digit by digit.
    if (token.length >= 4 && token[0] === '0') return readDigits(token);
    return readIntegerOrDigits(token, o);
  }
  // Anything else made of digits and separators (1,2,3 or 1.2.3): each number on its own.
  return token
    .split(/([.,])/)
    .map((part) => (part === '.' ? 'chấm' : part === ',' ? 'phẩy' : part ? readIntegerOrDigits(part, o) : ''))
    .filter(Boolean)
    .join(' ');
}

function readIntegerOrDigits(digits: string, o: NormalizeOptions): string {
  return digits.replace(/^0+(?=\d)/, '').length > MAX_NUMBER_DIGITS ? readDigits(digits) : readInteger(digits, o);
}

function readTime(h: string, m: string | undefined, s: string | undefined, o: NormalizeOptions): string {
  let words = `${readInteger(h, o)} giờ`;
  if (m !== undefined && Number(m) > 0) words += ` ${readInteger(m, o)} phút`;
  if (s !== undefined && Number(s) > 0) words += ` ${readInteger(s, o)} giây`;
  return words;
}

function validTime(h: string, m?: string, s?: string): boolean {
  return Number(h) <= 24 && (m === undefined || Number(m) < 60) && (s === undefined || Number(s) < 60);
}

/** Normalises Vietnamese text for a speech synthesiser. Pure; the output contains no digits. */
export function normalizeVietnamese(input: string, o: NormalizeOptions = {}): string {
  let text = input.normalize('NFC').replace(/[\u00a0\u2000-\u200b\t\r\n]+/g, ' ');

  // Abbreviations; one space after when a digit follows ("QL1A" → "quốc lộ 1A").
  text = text.replace(ABBREVIATION_RE, (_m, abbr: string, offset: number, whole: string) => {
    const next = whole[offset + abbr.length];
    return ABBREVIATION_WORDS.get(abbr)! + (next !== undefined && /\d/.test(next) ? ' ' : '');
  });

  // Phone numbers are read digit by digit: "gọi 112" → "gọi một một hai", "đường dây nóng 1900.1234".
  text = text.replace(
    /(?<![\p{L}])(gọi|điện thoại|đường dây nóng|hotline)((?:\s+số)?\s*:?\s*)(\d(?:[\d.]|\s(?=\d))*\d|\d)(?!\d)/giu,
    (_m, lead: string, gap: string, number: string) => `${lead}${gap}${readDigits(number.replace(/[\s.]/g, ''))}`,
  );

  // Ranges of days in one month: 12-14/10[/2025] → ngày mười hai đến mười bốn tháng mười [năm …].
  text = text.replace(/(?<![\d/.])(\d{1,2})\s*[-–]\s*(\d{1,2})\/(\d{1,2})(?:\/(\d{4}))?(?![\d/])/g, (m, d1, d2, mo, y, offset, whole) => {
    if (!validDay(+d1) || !validDay(+d2) || !validMonth(+mo)) return m;
    const year = y ? ` năm ${readInteger(y, o)}` : '';
    return `${unlessSaid('ngày', whole, offset)}${readDay(d1, o)} đến ${readDay(d2, o)} tháng ${readMonth(mo, o)}${year}`;
  });

  // Numbers of legal documents: 18/2021/QĐ-TTg → "mười tám năm hai nghìn không trăm hai mươi mốt" + the issuer.
  text = text.replace(/(?<![\d/.,])(\d{1,4})\/(\d{4})\/(?=\p{L})/gu, (_m, n, y) => `${readInteger(n, o)} năm ${readInteger(y, o)} `);

  // Full dates: dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy.
  text = text.replace(/(?<![\d/.,-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?![\d/])/g, (m, d, _sep, mo, y, offset, whole) => {
    if (!validDay(+d) || !validMonth(+mo)) return m;
    return `${unlessSaid('ngày', whole, offset)}${readDay(d, o)} tháng ${readMonth(mo, o)} năm ${readInteger(y, o)}`;
  });

  // Month and year: mm/yyyy.
  text = text.replace(/(?<![\d/.,])(\d{1,2})\/(\d{4})(?![\d/])/g, (m, mo, y, offset, whole) =>
    validMonth(+mo) ? `${unlessSaid('tháng', whole, offset)}${readMonth(mo, o)} năm ${readInteger(y, o)}` : m,
  );

  // Day and month: dd/mm.
  text = text.replace(/(?<![\d/.,])(\d{1,2})\/(\d{1,2})(?![\d/])/g, (m, d, mo, offset, whole) =>
    validDay(+d) && validMonth(+mo) ? `${unlessSaid('ngày', whole, offset)}${readDay(d, o)} tháng ${readMonth(mo, o)}` : m,
  );

  // Between two dates a dash means "to": "ngày ba mươi tháng chín - ngày mùng hai tháng mười".
  text = text.replace(/(?<=\p{L})\s*[-–]\s*(?=ngày )/gu, ' đến ');

  // A range of hours written once: 14-16h → mười bốn đến mười sáu giờ.
  text = text.replace(/(?<![\d\p{L}.,])(\d{1,2})\s*[-–]\s*(\d{1,2})\s?[hg](?![\p{L}\d])/gu, (m, h1, h2) =>
    validTime(h1) && validTime(h2) ? `${readInteger(h1, o)} đến ${readInteger(h2, o)} giờ` : m,
  );

  // Times: 14h30, 14h, 14g30, 14h30', 14h30p, 14:30, 14:30:15.
  text = text.replace(/(?<![\d\p{L}.,])(\d{1,2})[hg](?:([0-5]\d)(?:'|p(?!\p{L})|\s?phút)?)?(?![\p{L}\d])/gu, (m, h, mi) =>
    validTime(h, mi) ? readTime(h, mi, undefined, o) : m,
  );
  text = text.replace(/(?<![\d:.,])(\d{1,2}):([0-5]\d)(?::([0-5]\d))?(?![\d:])/g, (m, h, mi, s) =>
    validTime(h, mi, s) ? readTime(h, mi, s, o) : m,
  );
  // Between two times a dash means "to": "mười bốn giờ - mười sáu giờ".
  text = text.replace(/(giờ|phút|giây)\s*[-–]\s*(?=\p{L})/gu, '$1 đến ');

  // Units after a number keep the number for the passes below: "25mm" → "25 mi li mét".
  text = text.replace(UNIT_RE, (_m, unit: string) => ` ${UNIT_WORDS.get(unit)!}`);

  // Ranges: 20-25, 20 – 25, 1,5-2 → "… đến …".
  text = text.replace(
    new RegExp(`(?<![\\d\\p{L}/.,-])(${NUMBER})\\s*[-–]\\s*(${NUMBER})(?![\\d/]|[.,]\\d)`, 'gu'),
    (_m, a: string, b: string) => `${readNumberToken(a, o)} đến ${readNumberToken(b, o)}`,
  );

  // A minus sign before a number at the start of a word: "-5 độ C" → "âm năm độ C".
  text = text.replace(/(^|[\s(])[-−](?=\d)/g, '$1âm ');

  // Ordinals: "thứ 1" → "thứ nhất", "thứ 4" → "thứ tư".
  text = text.replace(/(?<![\p{L}])(thứ|Thứ)\s+(\d{1,2})(?!\d|[.,]\d)/gu, (_m, w: string, n: string) => `${w} ${readOrdinal(n, o)}`);

  // Every other number.
  text = text.replace(new RegExp(`(?<!\\d)(${NUMBER})(?![\\d])`, 'g'), (_m, n: string) => ` ${readNumberToken(n, o)} `);

  // Symbols a voice would otherwise skip or spell.
  text = text.replace(/\s*&\s*/g, ' và ').replace(/~\s*/g, 'khoảng ');

  return text
    .replace(/ +([,.;:!?)])/g, '$1')
    .replace(/\( +/g, '(')
    .replace(/ {2,}/g, ' ')
    .trim();
}
