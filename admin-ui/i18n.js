// @ts-check
// The admin app's side of the one i18n table (i18n/messages.js, served at /i18n/messages.js).
// A missing English text falls back to Vietnamese, a missing key shows the key (so it is noticed).
// `{name}` placeholders are filled from the params of t().

import { MESSAGES } from '../i18n/messages.js';

/** @typedef {'vi' | 'en'} Lang */

export const LANGS = /** @type {const} */ (['vi', 'en']);

export { MESSAGES };

/** @typedef {keyof typeof MESSAGES} MessageKey */

const STORAGE_KEY = 'loa.lang';

/** @type {Lang} */
let current = readStoredLang();

function readStoredLang() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'en' ? 'en' : 'vi';
  } catch {
    return 'vi';
  }
}

/** @returns {Lang} */
export function getLang() {
  return current;
}

/** @param {Lang} lang */
export function setLang(lang) {
  current = lang === 'en' ? 'en' : 'vi';
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = current;
}

/** The locale tag for Intl formatting. */
export function locale() {
  return current === 'vi' ? 'vi-VN' : 'en-GB';
}

/**
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 */
export function t(key, params = {}) {
  const entry = /** @type {Record<string, {vi: string, en?: string}>} */ (MESSAGES)[key];
  if (!entry) return key;
  const template = entry[current] ?? entry.vi;
  return template.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
}

/** A message when the key exists, else the fallback text (for free-text values such as zone kinds). */
export function tOr(key, fallback) {
  return key in MESSAGES ? t(key) : fallback;
}
