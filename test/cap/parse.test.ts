// CAP 1.2 documents in: public samples parse or are refused with the right reason, our own
// Vietnamese alerts parse with their geocodes and references, and hostile or broken documents
// (XXE, billion laughs, oversize, malformed, wrong namespace) are refused with nothing returned.
import t from 'tap';
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import { parseCap, capTimeMs, type CapParseResult } from '../../cap/parse.js';
import type { CapErrorCode } from '../../cap/errors.js';
import { MESSAGES, translate } from '../../server/i18n.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const codes = (r: CapParseResult) => (r.ok ? [] : r.errors.map((e) => `${e.path} ${e.code}`));

function refused(t: Test, r: CapParseResult, expected: string[], msg: string) {
  t.equal(r.ok, false, `${msg}: refused`);
  t.notOk('alert' in r, `${msg}: no alert returned`);
  t.same(codes(r), expected, `${msg}: the reasons`);
}

t.test('public CAP 1.2 samples parse', async (t) => {
  const valid = ['australia.cap', 'canada.cap', 'earthquake-iso8859-1.cap', 'wcatwc-warning.cap',
    'v1dot2_appendix_adot1.xml', 'v1dot2_appendix_adot2.xml', 'v1dot2_appendix_adot3.xml', 'v1dot2_appendix_adot4.xml'];
  for (const f of valid) {
    const r = parseCap(fixture(f));
    t.ok(r.ok, `${f} parses${r.ok ? '' : `: ${JSON.stringify(r.errors)}`}`);
  }
});

t.test('fields come out typed and complete', async (t) => {
  const r = parseCap(fixture('australia.cap'));
  if (!r.ok) return t.fail('australia.cap');
  const a = r.alert;
  t.equal(a.version, '1.2');
  t.equal(a.identifier, 'tag:www.rfs.nsw.gov.au2011-10-06:40184', 'prefixed cap: elements are read through their namespace');
  t.equal(a.sent, '2011-10-05T23:04:00+10:00');
  t.equal(capTimeMs(a.sent), Date.UTC(2011, 9, 5, 13, 4, 0), 'the offset is applied');
  t.same(a.info[0].category, ['Fire', 'Met']);
  t.same(a.info[0].eventCode[1], { valueName: 'non-standard secondary event code', value: 'structure_fire' });
  t.match(a.info[0].description, /^ALERT LEVEL: Not Applicable<br \/>LOCATION/, 'character entities decoded once');

  const c = parseCap(fixture('canada.cap'));
  if (!c.ok) return t.fail('canada.cap');
  t.equal(c.alert.msgType, 'Update');
  t.same(c.alert.references[0], { sender: 'cap@ec.gc.ca', identifier: '2.49.0.1.124.a3f342a4.2012', sent: '2012-05-02T21:45:05-00:00' });
  t.same(c.alert.info.map((i) => i.language), ['en-CA', 'fr-CA'], 'two languages, two info blocks');
  const poly = c.alert.info[0].area[0].polygon[0];
  t.ok(poly.length >= 4, 'polygon points');
  t.same(poly[0], poly[poly.length - 1], 'closed');
  t.same(poly[0], [42.3481, -82.9314], '[lat, lon]');

  const q = parseCap(fixture('earthquake-iso8859-1.cap'));
  if (!q.ok) return t.fail('iso');
  t.match(JSON.stringify(q.alert), /[éáíóñ]/, 'ISO-8859-1 text decoded into proper characters');
  t.notMatch(JSON.stringify(q.alert), /\uFFFD/, 'no replacement characters');

  const a4 = parseCap(fixture('v1dot2_appendix_adot4.xml'));
  if (!a4.ok) return t.fail('adot4');
  t.same(a4.alert.info.map((i) => i.language), ['en-US', 'es-US']);
  const a2 = parseCap(fixture('v1dot2_appendix_adot2.xml'));
  if (!a2.ok) return t.fail('adot2');
  t.same(a2.alert.info[0].area[0].polygon[0][0], [38.47, -120.14]);
  t.same(a2.alert.info[0].area[0].geocode[0], { valueName: 'SAME', value: '006109' });
});

t.test('public samples with errors are refused for the right reasons', async (t) => {
  refused(t, parseCap(fixture('invalid.cap')), ['/alert/scope missing'], 'invalid.cap (no scope)');
  refused(t, parseCap(fixture('canada_errors.cap')), ['/alert/references bad_references'], 'canada_errors.cap (empty references)');
  refused(t, parseCap(fixture('noaa_errors.cap'), { versions: ['1.2', '1.1'] }), [
    '/alert/references bad_references',
    '/alert/info[1]/urgency bad_value',
    '/alert/info[1]/severity bad_value',
    '/alert/info[1]/certainty bad_value',
    '/alert/info[1]/area[1]/polygon[1] bad_polygon',
  ], 'noaa_errors.cap read as 1.1 (empty references, empty enumerations, “-118.09,” in the polygon)');
});

t.test('CAP 1.1 is refused by default, naming the namespace; accepted when configured', async (t) => {
  for (const f of ['earthquake.cap', 'weather.cap', 'no_optional_fields.cap', 'nws-5c2cf27b1f56885d61654dc47fa411d5.xml', 'noaa_errors.cap']) {
    const r = parseCap(fixture(f));
    refused(t, r, ['/alert wrong_version'], f);
    if (!r.ok) t.equal(r.errors[0].params.namespace, 'urn:oasis:names:tc:emergency:cap:1.1');
  }
  for (const f of ['earthquake.cap', 'weather.cap', 'no_optional_fields.cap', 'nws-5c2cf27b1f56885d61654dc47fa411d5.xml']) {
    const r = parseCap(fixture(f), { versions: ['1.2', '1.1'] });
    t.ok(r.ok && r.alert.version === '1.1', `${f} accepted as 1.1`);
  }
  const nws = parseCap(fixture('nws-5c2cf27b1f56885d61654dc47fa411d5.xml'), { versions: ['1.1'] });
  t.same(nws.ok && nws.alert.info[0].area[0].polygon, [], 'an empty <polygon/> (schema-valid) describes nothing');
});

t.test('Vietnamese storm alert, its Update and its Cancel', async (t) => {
  const a = parseCap(fixture('vn-bao-alert.cap'));
  if (!a.ok) return t.fail(JSON.stringify(a.errors));
  const info = a.alert.info[0];
  t.equal(info.language, 'vi-VN');
  t.equal(info.event, 'Bão số 3');
  t.equal(info.headline, 'Cảnh báo bão số 3 đổ bộ vào vùng ven biển Quảng Ninh');
  t.same(info.responseType, ['Prepare', 'Shelter']);
  t.same(info.area.map((x) => x.geocode.map((g) => `${g.valueName}=${g.value}`)), [['MA_DVHC=06700', 'MA_DVHC=06706'], ['MA_DVHC=07030']], 'leading zeros kept');
  t.equal(capTimeMs(info.expires!), Date.UTC(2026, 8, 15, 12, 0, 0));

  const u = parseCap(fixture('vn-bao-update.cap'));
  if (!u.ok) return t.fail(JSON.stringify(u.errors));
  t.equal(u.alert.msgType, 'Update');
  t.same(u.alert.references, [{ sender: a.alert.sender, identifier: a.alert.identifier, sent: a.alert.sent }], 'the Update names the alert');

  const c = parseCap(fixture('vn-bao-cancel.cap'));
  if (!c.ok) return t.fail(JSON.stringify(c.errors));
  t.equal(c.alert.msgType, 'Cancel');
  t.same(c.alert.references.map((r) => r.identifier), ['VN-QN-PCTT-2026-0012', 'VN-QN-PCTT-2026-0013'], 'the Cancel names both');

  const f = parseCap(fixture('vn-lu-alert.cap'));
  if (!f.ok) return t.fail(JSON.stringify(f.errors));
  t.same(f.alert.incidents, ['Lũ sông Hương 10/2026', 'LU-2026-07'], 'quoted list item with spaces');
  t.same(f.alert.info[0].area[1].circle, [{ lat: 16.53, lon: 107.485, radiusKm: 3 }]);
  t.same(f.alert.info[0].resource[0], {
    resourceDesc: 'Bản tin cảnh báo lũ (giọng đọc)', mimeType: 'audio/mpeg', size: 48213,
    uri: 'https://audio.example.vn/canh-bao-lu-0101.mp3', derefUri: undefined, digest: '0c7d8a7b0e1ab7c4e0d3e3e4a8a5e5f0d3c2b1a0',
  });
});

// ---- hostile and broken documents ----------------------------------------------------------

const storm = fixture('vn-bao-alert.cap').toString('utf8');
const withBody = (s: string) => Buffer.from(s, 'utf8');

t.test('XXE: an external entity to a local file is refused before parsing', async (t) => {
  const xxe = storm.replace('<alert', '<!DOCTYPE alert [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<alert').replace('<description>', '<description>&xxe;');
  const r = parseCap(withBody(xxe));
  refused(t, r, ['/ dtd_forbidden'], 'XXE');
  t.notMatch(JSON.stringify(r), /root:/, 'no file content anywhere in the answer');
  // Parameter entities and a bare external DTD too.
  refused(t, parseCap(withBody(storm.replace('<alert', '<!DOCTYPE alert SYSTEM "http://127.0.0.1:1/x.dtd">\n<alert'))), ['/ dtd_forbidden'], 'external DTD');
  refused(t, parseCap(withBody(storm.replace('<alert', '<!DOCTYPE alert [ <!ENTITY % p SYSTEM "file:///etc/hostname"> %p; ]>\n<alert'))), ['/ dtd_forbidden'], 'parameter entity');
});

t.test('billion laughs is refused before parsing, quickly and without memory growth', async (t) => {
  const lol = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  const doc = storm.replace('<alert', `<!DOCTYPE alert [\n${lol.join('\n')}\n]>\n<alert`).replace('<description>', '<description>&lol9;');
  const r = parseCap(withBody(doc));
  refused(t, r, ['/ dtd_forbidden'], 'billion laughs');
  if (!r.ok) t.match(r.errors[0].reason, /DTD/);
});

t.test('undeclared entities, malformed and truncated documents', async (t) => {
  refused(t, parseCap(withBody(storm.replace('<description>', '<description>&nbsp;'))), ['/ malformed'], 'undeclared entity');
  const truncated = parseCap(withBody(storm.slice(0, storm.length / 2)));
  refused(t, truncated, ['/ malformed'], 'truncated');
  const mismatched = parseCap(withBody(storm.replace('</headline>', '</headlin>')));
  refused(t, mismatched, ['/ malformed'], 'mismatched tag');
  if (!mismatched.ok) t.equal(mismatched.errors[0].params.line, 22, 'names the line');
  refused(t, parseCap(withBody('')), ['/ empty_document'], 'empty');
  refused(t, parseCap(withBody('not xml at all')), ['/ malformed'], 'not XML');
  refused(t, parseCap(withBody(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">${'<x>'.repeat(100)}${'</x>'.repeat(100)}</alert>`)), ['/ too_deep'], 'deep nesting');
  // A CDATA section may hold a bare & and markup.
  const cdata = parseCap(withBody(storm.replace('<contact>Đường dây nóng 0203 3835 000</contact>', '<contact><![CDATA[A & B <hotline>]]></contact>')));
  t.equal(cdata.ok && cdata.alert.info[0].contact, 'A & B <hotline>');
});

t.test('oversize documents are refused on their byte count', async (t) => {
  const big = storm.replace('<description>', `<description>${'Mưa lớn. '.repeat(60_000)}`);
  const r = parseCap(withBody(big));
  refused(t, r, ['/ too_large'], 'over the 512 KiB default');
  if (!r.ok) t.equal(r.errors[0].params.limit, 512 * 1024);
  refused(t, parseCap(withBody(storm), { maxBytes: 1000 }), ['/ too_large'], 'a configured lower limit');
  t.ok(parseCap(withBody(storm), { maxBytes: Buffer.byteLength(storm) }).ok, 'exactly at the limit passes');
});

t.test('encodings: declared, BOM, unsupported, invalid bytes', async (t) => {
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(storm.replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')]);
  const r16 = parseCap(utf16);
  t.equal(r16.ok && r16.alert.info[0].event, 'Bão số 3', 'UTF-16 with a BOM');
  const bom8 = parseCap(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), withBody(storm)]));
  t.ok(bom8.ok, 'UTF-8 with a BOM');
  refused(t, parseCap(withBody(storm.replace('encoding="UTF-8"', 'encoding="x-klingon"'))), ['/ bad_encoding'], 'unknown encoding');
  const broken = Buffer.concat([withBody(storm.slice(0, 300)), Buffer.from([0xc3, 0x28]), withBody(storm.slice(300))]);
  refused(t, parseCap(broken), ['/ bad_encoding'], 'invalid UTF-8 bytes');
});

t.test('wrong root or namespace', async (t) => {
  refused(t, parseCap(withBody(storm.replace(/cap:1\.2/, 'cap:1.1'))), ['/alert wrong_version'], 'CAP 1.1 by default');
  refused(t, parseCap(withBody(storm.replace(' xmlns="urn:oasis:names:tc:emergency:cap:1.2"', ''))), ['/alert wrong_version'], 'no namespace');
  refused(t, parseCap(withBody(storm.replace('urn:oasis:names:tc:emergency:cap:1.2', 'http://www.incident.com/cap/1.0'))), ['/alert wrong_version'], 'CAP 1.0');
  refused(t, parseCap(withBody('<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>')), ['/ not_cap'], 'an Atom feed');
});

t.test('structural rules, each with its path', async (t) => {
  const edit = (from: string | RegExp, to: string) => parseCap(withBody(storm.replace(from, to)));
  refused(t, edit('<status>Actual</status>', '<status>Real</status>'), ['/alert/status bad_value'], 'status enumeration');
  refused(t, edit('<msgType>Alert</msgType>', '<msgType>Alert</msgType><msgType>Alert</msgType>'), ['/alert/msgType duplicate'], 'duplicate');
  refused(t, edit('<category>Met</category>', ''), ['/alert/info[1]/category missing'], 'category is required');
  refused(t, edit('<category>Met</category>', '<category>Weather</category>'), ['/alert/info[1]/category[1] bad_value'], 'category enumeration');
  refused(t, edit('<responseType>Shelter</responseType>', '<responseType>Run</responseType>'), ['/alert/info[1]/responseType[2] bad_value'], 'responseType enumeration');
  refused(t, edit('<urgency>Expected</urgency>', '<urgency>Soon</urgency>'), ['/alert/info[1]/urgency bad_value'], 'urgency');
  refused(t, edit('<severity>Severe</severity>', '<severity>Big</severity>'), ['/alert/info[1]/severity bad_value'], 'severity');
  refused(t, edit('<certainty>Likely</certainty>', '<certainty>Sure</certainty>'), ['/alert/info[1]/certainty bad_value'], 'certainty');
  refused(t, edit('<scope>Public</scope>', '<scope>Everyone</scope>'), ['/alert/scope bad_value'], 'scope');
  refused(t, edit('<sent>2026-09-14T07:30:00+07:00</sent>', '<sent>2026-09-14T00:30:00Z</sent>'), ['/alert/sent bad_datetime'], '“Z” is not CAP 1.2');
  refused(t, edit('<sent>2026-09-14T07:30:00+07:00</sent>', '<sent>2026-09-14T07:30:00</sent>'), ['/alert/sent bad_datetime'], 'no offset');
  refused(t, edit('<expires>2026-09-15T19:00:00+07:00</expires>', '<expires>2026-02-30T19:00:00+07:00</expires>'), ['/alert/info[1]/expires bad_datetime'], 'not a calendar date');
  refused(t, edit('<sender>pctt.quangninh@example.vn</sender>', '<sender>pctt quang ninh</sender>'), ['/alert/sender bad_identifier'], 'sender with spaces');
  refused(t, edit('<identifier>VN-QN-PCTT-2026-0012</identifier>', '<identifier></identifier>'), ['/alert/identifier empty'], 'empty identifier');
  refused(t, edit('<scope>Public</scope>', '<scope>Restricted</scope>'), ['/alert/restriction restriction_required'], 'Restricted needs restriction');
  t.ok(edit('<scope>Public</scope>', '<scope>Restricted</scope><restriction>Chỉ dành cho BCH PCTT</restriction>').ok, 'with one it passes');
  refused(t, edit('<scope>Public</scope>', '<scope>Private</scope>'), ['/alert/addresses addresses_required'], 'Private needs addresses');
  refused(t, edit('<msgType>Alert</msgType>', '<msgType>Cancel</msgType>'), ['/alert/references missing'], 'Cancel needs references');
  refused(t, edit('<scope>Public</scope>', '<scope>Public</scope><references>a,b</references>'), ['/alert/references bad_references'], 'references triple');
  refused(t, edit('<scope>Public</scope>', '<scope>Public</scope><references>a,b,yesterday</references>'), ['/alert/references bad_references'], 'references date');
  refused(t, edit('<headline>', '<colour>red</colour><headline>'), ['/alert/info[1]/colour unknown_element'], 'unknown element');
  refused(t, edit('</area>', '<polygon>16.1,107.1 16.2,107.2 16.1,107.1</polygon></area>'), ['/alert/info[1]/area[1]/polygon[1] bad_polygon'], 'polygon of 3 points');
  refused(t, edit('</area>', '<polygon>16.1,107.1 16.2,107.2 16.3,107.1 16.1,107.2</polygon></area>'), ['/alert/info[1]/area[1]/polygon[1] bad_polygon'], 'polygon not closed');
  refused(t, edit('</area>', '<polygon>96.1,107.1 16.2,107.2 16.3,107.1 96.1,107.1</polygon></area>'), ['/alert/info[1]/area[1]/polygon[1] bad_polygon'], 'latitude out of range');
  refused(t, edit('</area>', '<circle>16.1,107.1</circle></area>'), ['/alert/info[1]/area[1]/circle[1] bad_circle'], 'circle without radius');
  refused(t, edit('</area>', '<circle>16.1,107.1 -2</circle></area>'), ['/alert/info[1]/area[1]/circle[1] bad_circle'], 'negative radius');
  refused(t, edit('</area>', '<ceiling>300</ceiling></area>'), ['/alert/info[1]/area[1]/ceiling missing'], 'ceiling needs altitude');
  refused(t, edit('</area>', '<altitude>high</altitude></area>'), ['/alert/info[1]/area[1]/altitude bad_number'], 'altitude is a number');
  refused(t, edit('<areaDesc>Đặc khu Vân Đồn</areaDesc>', ''), ['/alert/info[1]/area[2]/areaDesc missing'], 'areaDesc');
  refused(t, edit('<value>07030</value>', ''), ['/alert/info[1]/area[2]/geocode[1]/value missing'], 'geocode needs a value');
  refused(t, edit('<language>vi-VN</language>', '<language>tiếng Việt</language>'), ['/alert/info[1]/language bad_value'], 'language tag');
  // Several errors are all reported at once.
  const many = parseCap(withBody(storm.replace('<status>Actual</status>', '').replace('<urgency>Expected</urgency>', '<urgency>x</urgency>')));
  t.same(codes(many), ['/alert/info[1]/urgency bad_value', '/alert/status missing'], 'every error, not just the first');
  // An XML signature is allowed at the end of the alert.
  const signed = edit('</alert>', '<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature></alert>');
  t.ok(signed.ok && signed.alert.hasSignature, 'ds:Signature accepted and noted');
});

t.test('every refusal code has a Vietnamese and an English message', async (t) => {
  const all: CapErrorCode[] = ['too_large', 'empty_document', 'dtd_forbidden', 'bad_encoding', 'malformed', 'too_deep', 'not_cap', 'wrong_version', 'missing',
    'duplicate', 'unknown_element', 'empty', 'bad_value', 'bad_datetime', 'bad_identifier', 'bad_polygon', 'bad_circle', 'bad_references', 'bad_number',
    'restriction_required', 'addresses_required', 'unsigned', 'signature_unsupported', 'signature_digest_mismatch', 'bad_signature', 'untrusted_key'];
  for (const code of all) t.ok(`cap_${code}` in MESSAGES, `cap_${code}`);
  const r = parseCap(fixture('invalid.cap'));
  if (r.ok) return t.fail('invalid.cap');
  const e = r.errors[0];
  t.equal(translate('vi', `cap_${e.code}` as keyof typeof MESSAGES, e.params), 'Thiếu phần tử bắt buộc <scope> tại /alert/scope.');
  t.equal(translate('en', `cap_${e.code}` as keyof typeof MESSAGES, e.params), 'The required element <scope> is missing at /alert/scope.');
});

t.test('Update and Cancel find the alerts their references name', async (t) => {
  const { referenceNames, capMessageKey } = await import('../../cap/references.js');
  const alert = parseCap(fixture('vn-bao-alert.cap'));
  const update = parseCap(fixture('vn-bao-update.cap'));
  const cancel = parseCap(fixture('vn-bao-cancel.cap'));
  if (!alert.ok || !update.ok || !cancel.ok) return t.fail('fixtures');
  t.ok(referenceNames(update.alert.references[0], alert.alert), 'the Update names the alert');
  t.same(cancel.alert.references.map((r) => [alert.alert, update.alert].findIndex((m) => referenceNames(r, m))), [0, 1], 'the Cancel names both');
  t.notOk(referenceNames(update.alert.references[0], update.alert), 'not itself');
  t.notOk(referenceNames({ ...update.alert.references[0], sent: '2026-09-14T07:31:00+07:00' }, alert.alert), 'another time is another message');
  t.equal(capMessageKey({ sender: 's', identifier: 'i', sent: '2012-05-02T21:45:05-00:00' }), capMessageKey({ sender: 's', identifier: 'i', sent: '2012-05-03T04:45:05+07:00' }), 'the same instant written in two offsets');
});
