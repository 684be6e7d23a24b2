// A polled CAP feed (Atom or RSS) → its entries: where each CAP alert is (a link to fetch with
// fetchXml) or the alert itself when the entry embeds it. The feed passes the same guards as a
// CAP document (size, no DTD, well-formed); an embedded alert is handed back as its exclusive
// canonical form, a standalone document (every namespace it uses declared) for parseCap.
import { capError, type CapError } from './errors.js';
import { DEFAULT_XML_LIMITS, decode, parseXml } from './xml.js';
import { canonicalizeElement, namespaceOf, readC14nDocument, type C14nElement } from './c14n.js';

const ATOM = 'http://www.w3.org/2005/Atom';
const CAP_NS = /^urn:oasis:names:tc:emergency:cap:/;

export interface CapFeedEntry {
  /** Atom <id> or RSS <guid> (else the link): what the poller remembers as seen. */
  id: string;
  /** Atom <updated> or RSS <pubDate>, as written. */
  updated?: string;
  /** The CAP document to fetch. */
  url?: string;
  /** An alert carried inside the entry, as standalone XML bytes. */
  embedded?: Buffer;
}

export type CapFeedResult = { ok: true; format: 'atom' | 'rss'; entries: CapFeedEntry[] } | { ok: false; errors: CapError[] };

export function readCapFeed(bytes: Uint8Array, maxBytes = DEFAULT_XML_LIMITS.maxBytes * 8): CapFeedResult {
  const guarded = parseXml(bytes, { ...DEFAULT_XML_LIMITS, maxBytes });
  if (!guarded.ok) return guarded;
  const decoded = decode(bytes);
  if (!decoded.ok) return { ok: false, errors: [decoded.error] };
  const root = readC14nDocument(decoded.text).root;
  const ns = (e: C14nElement) => namespaceOf(e, e.prefix);
  const children = (e: C14nElement, local: string, uri?: string) =>
    e.children.filter((c): c is C14nElement => c.kind === 'element' && c.local === local && (uri === undefined || ns(c) === uri));
  const text = (e: C14nElement | undefined) => (e?.children ?? []).map((c) => (c.kind === 'text' ? c.text : '')).join('').trim() || undefined;
  const attr = (e: C14nElement, name: string) => e.attrs.find((a) => a.qname === name)?.value;
  const embeddedAlert = (e: C14nElement): Buffer | undefined => {
    const found = findDescendant(e, (x) => x.local === 'alert' && CAP_NS.test(ns(x)));
    return found ? Buffer.from(canonicalizeElement(found), 'utf8') : undefined;
  };

  if (root.local === 'alert' && CAP_NS.test(ns(root))) {
    return { ok: false, errors: [capError('/', 'not_cap', 'This is a single CAP alert, not a feed; post it or configure its URL as a CAP document.', { element: 'alert' })] };
  }
  if (root.local === 'feed' && ns(root) === ATOM) {
    const entries = children(root, 'entry', ATOM).map((entry): CapFeedEntry => {
      const links = children(entry, 'link', ATOM);
      const capLink = links.find((l) => /cap\+xml/i.test(attr(l, 'type') ?? '')) ?? links.find((l) => (attr(l, 'rel') ?? 'alternate') === 'alternate');
      const url = capLink ? attr(capLink, 'href') : undefined;
      return { id: text(children(entry, 'id', ATOM)[0]) ?? url ?? '', updated: text(children(entry, 'updated', ATOM)[0]), url, embedded: embeddedAlert(entry) };
    });
    return { ok: true, format: 'atom', entries: entries.filter((e) => e.url || e.embedded) };
  }
  if (root.local === 'rss') {
    const items = children(root, 'channel').flatMap((c) => children(c, 'item'));
    const entries = items.map((item): CapFeedEntry => {
      const enclosure = children(item, 'enclosure').find((e) => /xml/i.test(attr(e, 'type') ?? ''));
      const url = (enclosure && attr(enclosure, 'url')) ?? text(children(item, 'link')[0]);
      return { id: text(children(item, 'guid')[0]) ?? url ?? '', updated: text(children(item, 'pubDate')[0]), url, embedded: embeddedAlert(item) };
    });
    return { ok: true, format: 'rss', entries: entries.filter((e) => e.url || e.embedded) };
  }
  const shown = ns(root) ? `{${ns(root)}}${root.local}` : root.local;
  return { ok: false, errors: [capError('/', 'not_cap', `The root element is <${shown}>, neither an Atom feed nor RSS.`, { element: shown })] };
}

function findDescendant(e: C14nElement, test: (x: C14nElement) => boolean): C14nElement | undefined {
  for (const c of e.children) {
    if (c.kind !== 'element') continue;
    if (test(c)) return c;
    const deeper = findDescendant(c, test);
    if (deeper) return deeper;
  }
  return undefined;
}
