// The server's side of the one i18n table (i18n/messages.js): translate() and the choice of language.
import { MESSAGES } from '../i18n/messages.js';
import type { Lang } from './config.js';

export { MESSAGES };

export type MessageKey = keyof typeof MESSAGES;
export type MessageParams = Record<string, string | number>;

export function translate(lang: Lang, key: MessageKey, params: MessageParams = {}): string {
  const template: string = MESSAGES[key][lang];
  return template.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = params[name];
    if (v === undefined) return m;
    // A param may itself name a message (e.g. what_zone) so that nouns are translated too.
    return typeof v === 'string' && v in MESSAGES ? MESSAGES[v as MessageKey][lang] : String(v);
  });
}

/** Picks vi or en from an Accept-Language header (quality-ordered), else the fallback. */
export function pickLang(header: string | undefined, fallback: Lang): Lang {
  if (!header) return fallback;
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag, ...rest] = part.trim().toLowerCase().split(';');
      const q = rest.find((r) => r.trim().startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.trim().slice(2)) || 0 : 1, i };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const base = tag.split('-')[0];
    if (base === 'vi' || base === 'en') return base;
  }
  return fallback;
}
