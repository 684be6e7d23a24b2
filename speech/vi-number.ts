/**
 * Numbers read aloud in Vietnamese, as a news reader says them:
 * 21 "hai mươi mốt", 15 "mười lăm", 25 "hai mươi lăm", 24 "hai mươi tư",
 * 105 "một trăm linh năm", 1 005 "một nghìn không trăm linh năm",
 * 2 500 000 "hai triệu năm trăm nghìn", 10^9 "một tỷ".
 */

const DIGITS = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'];

/** Scale words of successive groups of three digits; beyond tỷ the scales repeat after it (nghìn tỷ, triệu tỷ). */
const SCALES = ['', 'nghìn', 'triệu', 'tỷ', 'nghìn tỷ', 'triệu tỷ'];

/** Longest integer read as a number; longer digit strings are read digit by digit. */
export const MAX_NUMBER_DIGITS = 18;

export interface NumberReadingOptions {
  /** Word for a zero tens digit after hundreds ("một trăm linh năm"): northern "linh" (default) or southern "lẻ". */
  zeroTens?: 'linh' | 'lẻ';
}

/** Reads one digit (0–9). */
export function readDigit(d: number): string {
  return DIGITS[d];
}

/** Reads each digit of a string of digits ("0912" → "không chín một hai"). */
export function readDigits(digits: string): string {
  return [...digits].map((c) => DIGITS[c.charCodeAt(0) - 48]).join(' ');
}

/** 0–99 with the tens rules: mười, mươi, mốt (x1 from 21), tư (x4 from 24), lăm (x5 from 15). */
function readTens(n: number): string {
  const tens = Math.floor(n / 10);
  const units = n % 10;
  if (tens === 0) return DIGITS[units];
  const head = tens === 1 ? 'mười' : `${DIGITS[tens]} mươi`;
  if (units === 0) return head;
  let unit = DIGITS[units];
  if (units === 5) unit = 'lăm';
  else if (units === 1 && tens >= 2) unit = 'mốt';
  else if (units === 4 && tens >= 2) unit = 'tư';
  return `${head} ${unit}`;
}

/** A group of three digits; `full` when a higher group precedes it, so 5 reads "không trăm linh năm". */
function readGroup(n: number, full: boolean, zeroTens: string): string {
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (!full && hundreds === 0) return readTens(rest);
  const head = `${DIGITS[hundreds]} trăm`;
  if (rest === 0) return head;
  if (rest < 10) return `${head} ${zeroTens} ${DIGITS[rest]}`;
  return `${head} ${readTens(rest)}`;
}

/**
 * Reads a non-negative integer given as a string of digits (leading zeros are
 * ignored: "007" → "bảy"). Throws on anything else or on more than
 * MAX_NUMBER_DIGITS digits.
 */
export function readInteger(digits: string, opts: NumberReadingOptions = {}): string {
  if (!/^\d+$/.test(digits)) throw new RangeError(`readInteger: "${digits}" is not a string of digits`);
  const trimmed = digits.replace(/^0+(?=\d)/, '');
  if (trimmed.length > MAX_NUMBER_DIGITS) throw new RangeError(`readInteger: more than ${MAX_NUMBER_DIGITS} digits`);
  if (trimmed === '0') return DIGITS[0];
  const zeroTens = opts.zeroTens ?? 'linh';
  const groups: number[] = []; // least significant first
  for (let end = trimmed.length; end > 0; end -= 3) groups.push(Number(trimmed.slice(Math.max(0, end - 3), end)));
  const words: string[] = [];
  let seenHigher = false;
  for (let g = groups.length - 1; g >= 0; g--) {
    const value = groups[g];
    if (value === 0) continue; // "một triệu không trăm linh năm": empty groups are not read
    words.push(readGroup(value, seenHigher, zeroTens));
    if (SCALES[g]) words.push(SCALES[g]);
    seenHigher = true;
  }
  return words.join(' ');
}

/**
 * Reads the digits after a decimal separator: leading zeros one by one, the
 * rest as a number when short ("2,05" → "không năm", "2,25" → "hai mươi lăm"),
 * digit by digit when longer than three digits.
 */
export function readFraction(digits: string, opts: NumberReadingOptions = {}): string {
  if (!/^\d+$/.test(digits)) throw new RangeError(`readFraction: "${digits}" is not a string of digits`);
  const zeros = /^0*/.exec(digits)![0];
  const rest = digits.slice(zeros.length);
  const words = [...zeros].map(() => DIGITS[0]);
  if (rest.length > 0) words.push(rest.length <= 3 ? readInteger(rest, opts) : readDigits(rest));
  return words.join(' ');
}

/** Ordinal after "thứ": 1 "nhất", 4 "tư", otherwise the cardinal. */
export function readOrdinal(digits: string, opts: NumberReadingOptions = {}): string {
  const n = Number(digits);
  if (n === 1) return 'nhất';
  if (n === 4) return 'tư';
  return readInteger(digits, opts);
}
