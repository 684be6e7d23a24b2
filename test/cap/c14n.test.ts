// Our exclusive canonicalization must be byte-for-byte libxml2's (xmllint --exc-c14n), since a
// signature made by any other tool hashes that form. Comments are removed from the inputs
// first: xmllint keeps them, the signature form (without comments) drops them.
import t from 'tap';
import type { Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from '../../cap/xml.js';
import { canonicalizeDocument, readC14nDocument } from '../../cap/c14n.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-c14n-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = new URL('./fixtures/', import.meta.url);

function compare(t: Test, name: string, bytes: Buffer) {
  const latin1 = bytes.toString('latin1').replace(/<!--[\s\S]*?-->/g, '');
  const file = join(dir, 'doc.xml');
  writeFileSync(file, latin1, 'latin1'); // byte-preserving: the declared encoding still applies
  const theirs = execFileSync('xmllint', ['--exc-c14n', file]).toString('utf8');
  const decoded = decode(readFileSync(file));
  if (!decoded.ok) return t.fail(`${name}: ${decoded.error.reason}`);
  t.equal(canonicalizeDocument(readC14nDocument(decoded.text)), theirs, name);
}


t.test('every CAP fixture canonicalizes as libxml2 does', async (t) => {
  for (const f of readdirSync(fixtures).filter((f) => /\.(cap|xml)$/.test(f))) compare(t, f, readFileSync(new URL(f, fixtures)));
});

t.test('namespaces, attributes, escapes, CDATA, PIs and line ends', async (t) => {
  const tricky = '<?xml version="1.0"?>\r\n<?before some data ?>\n<a:root xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d" xmlns:unused="urn:u" z="1" b:y="2" a:x="&#9;t\n&lt;&quot;&amp;">\r\n'
    + '  <child xmlns="">text &amp; &#13; &gt; <![CDATA[<cdata> & ]]></child>\n  <a:e/><b:f xmlns:b="urn:b"/><g xmlns:b="urn:other" attr="v" b:q="1"><b:h/></g><?inner x?>\n'
    + '  <r xmlns="urn:d"><s xmlns="urn:e"/><a:t/></r>\n</a:root>\n<?after?>\n';
  compare(t, 'tricky document', Buffer.from(tricky, 'utf8'));
  compare(t, 'Vietnamese text in UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<?xml version="1.0" encoding="UTF-16"?><a>Bão số 3 &amp; lũ</a>', 'utf16le')]));
});
