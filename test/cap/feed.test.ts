// Polling a CAP feed, one cycle, against a real local HTTP server: the Atom or RSS feed is
// fetched under the resource limits, its entries give CAP links or embedded alerts, and each
// alert then parses. Hostile feeds are refused like hostile alerts.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readCapFeed } from '../../cap/feed.js';
import { fetchXml } from '../../cap/fetch-resource.js';
import { parseCap } from '../../cap/parse.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const body = (doc: string) => doc.replace(/^<\?xml[^>]*\?>\s*/, '');

// australia.cap's alert with its cap: prefix declared on the feed instead of on the alert.
const inheritedPrefix = body(fixture('australia.cap')).replace(' xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2"', '');

let base = '';
const atom = () => `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="urn:oasis:names:tc:emergency:cap:1.2">
  <title>Cảnh báo thiên tai</title>
  <id>urn:loa:test-feed</id>
  <updated>2026-10-28T21:50:00+07:00</updated>
  <entry>
    <id>VN-QN-PCTT-2026-0012</id>
    <updated>2026-09-14T07:30:00+07:00</updated>
    <title>Bão số 3</title>
    <link rel="alternate" type="text/html" href="${base}/bao.html"/>
    <link rel="alternate" type="application/cap+xml" href="${base}/bao.cap"/>
  </entry>
  <entry>
    <id>VN-HUE-PCTT-2026-0101</id>
    <updated>2026-10-28T21:45:00+07:00</updated>
    <title>Lũ sông Hương</title>
    <content type="application/cap+xml">${body(fixture('vn-lu-alert.cap'))}</content>
  </entry>
  <entry>
    <id>tag:www.rfs.nsw.gov.au2011-10-06:40184</id>
    <content type="application/cap+xml">${inheritedPrefix}</content>
  </entry>
  <entry><id>no-alert</id><title>Thông báo chung</title></entry>
</feed>`;

const server = createServer((req, res) => {
  if (req.url === '/feed.atom') { res.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' }); return res.end(atom()); }
  if (req.url === '/bao.cap') { res.writeHead(200, { 'content-type': 'application/cap+xml' }); return res.end(fixture('vn-bao-alert.cap')); }
  if (req.url === '/page.html') { res.writeHead(200, { 'content-type': 'text/html' }); return res.end('<html/>'); }
  res.writeHead(404); res.end();
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => { server.closeAllConnections(); server.close(); });
base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const limits = { allowHosts: ['127.0.0.1'] };

t.test('one poll of an Atom feed: linked and embedded alerts all parse', async (t) => {
  const fetched = await fetchXml(`${base}/feed.atom`, limits);
  if (!fetched.ok) return t.fail(JSON.stringify(fetched.error));
  const feed = readCapFeed(fetched.bytes);
  if (!feed.ok) return t.fail(JSON.stringify(feed.errors));
  t.equal(feed.format, 'atom');
  t.same(feed.entries.map((e) => e.id), ['VN-QN-PCTT-2026-0012', 'VN-HUE-PCTT-2026-0101', 'tag:www.rfs.nsw.gov.au2011-10-06:40184'], 'an entry without an alert is skipped');
  t.equal(feed.entries[0].url, `${base}/bao.cap`, 'the CAP link, not the HTML one');
  t.equal(feed.entries[0].updated, '2026-09-14T07:30:00+07:00');

  const linked = await fetchXml(feed.entries[0].url!, limits);
  const bao = linked.ok ? parseCap(linked.bytes) : undefined;
  t.equal(bao?.ok && bao.alert.info[0].event, 'Bão số 3', 'the linked alert, fetched and parsed');
  const lu = parseCap(feed.entries[1].embedded!);
  t.equal(lu.ok && lu.alert.info[0].headline, 'Lũ sông Hương tại Kim Long vượt báo động 3', 'the embedded alert parses, Vietnamese intact');
  const au = parseCap(feed.entries[2].embedded!);
  t.equal(au.ok && au.alert.identifier, 'tag:www.rfs.nsw.gov.au2011-10-06:40184', 'a prefix declared on the feed travels with the embedded alert');
});

t.test('RSS items with links and guids', async (t) => {
  const rss = `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>
    <item><title>a</title><link>${base}/bao.cap</link><guid>g-1</guid><pubDate>Mon, 14 Sep 2026 00:30:00 GMT</pubDate></item>
    <item><title>b</title><enclosure url="${base}/lu.cap" type="application/cap+xml" length="1"/><link>${base}/lu.html</link></item>
  </channel></rss>`;
  const feed = readCapFeed(Buffer.from(rss));
  if (!feed.ok) return t.fail(JSON.stringify(feed.errors));
  t.same(feed.entries, [
    { id: 'g-1', updated: 'Mon, 14 Sep 2026 00:30:00 GMT', url: `${base}/bao.cap`, embedded: undefined },
    { id: `${base}/lu.cap`, updated: undefined, url: `${base}/lu.cap`, embedded: undefined },
  ]);
});

t.test('hostile or wrong feeds are refused', async (t) => {
  const xxe = readCapFeed(Buffer.from(atom().replace('<feed', '<!DOCTYPE feed [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<feed').replace('<title>Cảnh báo thiên tai</title>', '<title>&x;</title>')));
  t.same(xxe.ok ? [] : xxe.errors.map((e) => e.code), ['dtd_forbidden']);
  const single = readCapFeed(Buffer.from(fixture('vn-bao-alert.cap')));
  t.same(single.ok ? [] : single.errors.map((e) => e.code), ['not_cap'], 'a lone alert is not a feed');
  const html = await fetchXml(`${base}/page.html`, limits);
  t.equal(!html.ok && html.error.code, 'not_xml');
  const local = await fetchXml(`${base}/feed.atom`);
  t.equal(!local.ok && local.error.code, 'forbidden_address', 'a feed on loopback needs an allowed host too');
});
