// The admin app's one i18n table: every key the code uses exists, every entry speaks both
// languages, and t() falls back to Vietnamese. Runs the real module in Node (it touches the
// DOM only when the language is switched).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../admin-ui');
type Entry = { vi: string; en?: string };
const i18n = (await import(pathToFileURL(path.join(root, 'i18n.js')).href)) as {
  MESSAGES: Record<string, Entry>;
  t(key: string, params?: Record<string, string | number>): string;
  getLang(): string;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.js') ? [path.join(dir, d.name)] : [],
  );
}

// Keys built from values: each family and the values the code feeds it.
const FAMILIES: Record<string, string[]> = {
  role_: ['admin', 'operator', 'authority', 'viewer'],
  priority_: ['background', 'normal', 'priority', 'live', 'emergency'],
  endpoint_kind_: ['rtp', 'sip', 'webrtc', 'http'],
  siren_: ['wail', 'yelp', 'hilo'],
};

t.test('every key used in the code is in the table', async (t) => {
  const used = new Set<string>();
  for (const file of sources(root)) {
    if (file.endsWith('i18n.js')) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bt\(\s*'([a-z0-9_]+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/\blabel: '([a-z0-9_]+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/\bt\(\s*([a-z_]+) \? '([a-z0-9_]+)' : '([a-z0-9_]+)'/g)) used.add(m[2]).add(m[3]);
    for (const m of text.matchAll(/\bt\(\s*`([a-z_]+)\$\{/g)) t.ok(FAMILIES[m[1]], `${path.basename(file)}: key family ${m[1]}… is known to this test`);
  }
  for (const [prefix, values] of Object.entries(FAMILIES)) for (const v of values) used.add(prefix + v);
  t.ok(used.size > 100, `found ${used.size} keys`);
  const missing = [...used].filter((k) => !(k in i18n.MESSAGES));
  t.same(missing, [], 'no key is missing');
});

t.test('every entry has Vietnamese and English with the same placeholders', async (t) => {
  for (const [key, entry] of Object.entries(i18n.MESSAGES)) {
    t.ok(entry.vi && entry.vi.trim(), `${key}: vi`);
    t.ok(entry.en && entry.en.trim(), `${key}: en`);
    const names = (s: string | undefined) => [...(s ?? '').matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    t.same(names(entry.en), names(entry.vi), `${key}: placeholders`);
  }
  // Vietnamese first in every entry (the table's reading order).
  for (const [key, entry] of Object.entries(i18n.MESSAGES)) t.equal(Object.keys(entry)[0], 'vi', `${key}: vi first`);
});

t.test('t() speaks Vietnamese by default and fills placeholders', async (t) => {
  t.equal(i18n.getLang(), 'vi');
  t.equal(i18n.t('zones_online_count', { online: 2, total: 4 }), '2/4 trực tuyến');
  t.equal(i18n.t('priority_emergency'), 'Khẩn cấp');
  t.equal(i18n.t('no_such_key'), 'no_such_key', 'a missing key shows itself');
});
