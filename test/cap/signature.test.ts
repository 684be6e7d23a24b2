// XML signatures on CAP alerts, made by a real independent signer (xmlsec1, on libxml2) and
// checked by ours: a trusted signature verifies; a change to the alert, to the signature value,
// an unknown or expired key, a missing signature or an unsupported algorithm is refused.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trustStoreFromPem, verifyCapSignature, type SignatureErrorCode } from '../../cap/signature.js';
import { parseCap } from '../../cap/parse.js';

const dir = mkdtempSync(join(tmpdir(), 'loa-capsig-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

// A CA, a sender certificate it issued (one year), and a rogue self-signed key.
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '3650', '-subj', '/CN=Loa test CA', '-addext', 'basicConstraints=critical,CA:TRUE');
openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('sender.key'), '-out', at('sender.csr'), '-subj', '/CN=pctt.quangninh');
openssl('x509', '-req', '-in', at('sender.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('sender.pem'), '-days', '365');
openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('rogue.key'), '-out', at('rogue.pem'), '-days', '365', '-subj', '/CN=pctt.quangninh');
const caTrust = trustStoreFromPem(readFileSync(at('ca.pem'), 'utf8'));
const senderTrust = trustStoreFromPem(readFileSync(at('sender.pem'), 'utf8'));

const fixture = (name: string, encoding: BufferEncoding = 'utf8') => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), encoding);

function template({ prefix = '', method = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', keyInfo = true } = {}): string {
  const p = prefix ? `${prefix}:` : '';
  return `<${p}Signature xmlns${prefix ? `:${prefix}` : ''}="http://www.w3.org/2000/09/xmldsig#">
<${p}SignedInfo>
<${p}CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<${p}SignatureMethod Algorithm="${method}"/>
<${p}Reference URI="">
<${p}Transforms>
<${p}Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<${p}Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
</${p}Transforms>
<${p}DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
<${p}DigestValue/>
</${p}Reference>
</${p}SignedInfo>
<${p}SignatureValue/>
${keyInfo ? `<${p}KeyInfo><${p}X509Data><${p}X509Certificate/></${p}X509Data></${p}KeyInfo>` : ''}
</${p}Signature>
`;
}

/** Signs with xmlsec1: the template goes just before the closing tag of the root element. */
function sign(doc: string, key: 'sender' | 'rogue', opts: Parameters<typeof template>[0] = {}, encoding: BufferEncoding = 'utf8'): Buffer {
  const close = doc.lastIndexOf('</');
  writeFileSync(at('in.xml'), doc.slice(0, close) + template(opts) + doc.slice(close), encoding);
  execFileSync('xmlsec1', ['--sign', '--privkey-pem', `${at(`${key}.key`)},${at(`${key}.pem`)}`, '--output', at('out.xml'), at('in.xml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(at('out.xml'));
}

const storm = fixture('vn-bao-alert.cap');

t.test('a signature by a certificate the CA issued verifies, and the alert still parses', async (t) => {
  const signed = sign(storm, 'sender');
  t.same(verifyCapSignature(signed, caTrust), { ok: true, signer: 'CN=pctt.quangninh' });
  t.same(verifyCapSignature(signed, senderTrust), { ok: true, signer: 'CN=pctt.quangninh' }, 'the certificate itself in the store');
  const parsed = parseCap(signed);
  t.ok(parsed.ok && parsed.alert.hasSignature && parsed.alert.info[0].event === 'Bão số 3');
  t.equal(parsed.ok && parsed.alert.signer, undefined, 'no trust store: not verified, no signer claimed');
});

t.test('parseCap with a trust store: only verified alerts come out', async (t) => {
  const signed = sign(storm, 'sender');
  const ok = parseCap(signed, { trust: caTrust });
  t.equal(ok.ok && ok.alert.signer, 'CN=pctt.quangninh');
  const unsigned = parseCap(Buffer.from(storm, 'utf8'), { trust: caTrust });
  t.same(unsigned.ok ? [] : unsigned.errors.map((e) => `${e.path} ${e.code}`), ['/alert/Signature unsigned']);
  t.notOk('alert' in unsigned);
  const tampered = parseCap(Buffer.from(signed.toString('utf8').replace('<severity>Severe</severity>', '<severity>Extreme</severity>'), 'utf8'), { trust: caTrust });
  t.same(tampered.ok ? [] : tampered.errors.map((e) => `${e.path} ${e.code}`), ['/alert/Signature signature_digest_mismatch']);
  const rogue = parseCap(sign(storm, 'rogue'), { trust: caTrust });
  t.same(rogue.ok ? [] : rogue.errors.map((e) => e.code), ['untrusted_key']);
  const broken = parseCap(Buffer.from(storm.replace('<scope>Public</scope>', ''), 'utf8'), { trust: caTrust });
  t.same(broken.ok ? [] : broken.errors.map((e) => e.code), ['missing'], 'structure is reported first');
});

t.test('prefixed signature on a cap:-prefixed alert with PIs, comments and CRLF line ends', async (t) => {
  const australia = fixture('australia.cap').replace('<cap:alert', '<?xml-stylesheet href="x.xsl" type="text/xsl"?>\n<!-- a comment -->\n<cap:alert').replace(/\n/g, '\r\n');
  const signed = sign(australia, 'sender', { prefix: 'ds' });
  t.same(verifyCapSignature(signed, caTrust), { ok: true, signer: 'CN=pctt.quangninh' });
  // This public sample carries the USGS's own signature (below); ours replaces it.
  const iso = sign(fixture('earthquake-iso8859-1.cap', 'latin1').replace(/<Signature[\s\S]*<\/Signature>/, ''), 'sender', {}, 'latin1');
  t.match(iso.toString('latin1'), /encoding="ISO-8859-1"[\s\S]*\xe1/, 'still ISO-8859-1 bytes');
  t.same(verifyCapSignature(iso, caTrust), { ok: true, signer: 'CN=pctt.quangninh' }, 'an ISO-8859-1 document');
});

t.test('changes after signing are caught', async (t) => {
  const signed = sign(storm, 'sender').toString('utf8');
  const changed = (from: string | RegExp, to: string) => verifyCapSignature(Buffer.from(signed.replace(from, to), 'utf8'), caTrust);
  t.match(changed('bão số 3 đổ bộ', 'bão số 4 đổ bộ'), { ok: false, code: 'signature_digest_mismatch' }, 'headline');
  t.match(changed('<value>07030</value>', '<value>07031</value>'), { ok: false, code: 'signature_digest_mismatch' }, 'target area');
  t.match(changed('</info>', '</info><info><category>Met</category><event>x</event><urgency>Past</urgency><severity>Minor</severity><certainty>Observed</certainty></info>'), { ok: false, code: 'signature_digest_mismatch' }, 'an added info block');
  const sv = /<SignatureValue>([^<]+)</.exec(signed)![1].replace(/\s+/g, '');
  const flipped = Buffer.from(sv, 'base64');
  flipped[10] ^= 1;
  t.match(changed(/<SignatureValue>[^<]+</, `<SignatureValue>${flipped.toString('base64')}<`), { ok: false, code: 'bad_signature' }, 'one bit of the signature value');
  t.match(changed('<DigestValue>', '<DigestValue>AAAA'), { ok: false, code: 'signature_digest_mismatch' }, 'digest value');
  t.match(changed('<SignatureMethod', '<!-- x --><SignatureMethod'), { ok: true }, 'a comment is not part of the canonical form');
  t.match(changed('<SignatureMethod Algorithm', '<SignatureMethod  Id="x" Algorithm'), { ok: false, code: 'bad_signature' }, 'SignedInfo changed');
});

t.test('keys the store does not vouch for are refused', async (t) => {
  t.match(verifyCapSignature(sign(storm, 'rogue'), caTrust), { ok: false, code: 'untrusted_key' }, 'self-signed, same name, not in the store');
  const noKeyInfo = sign(storm, 'rogue', { keyInfo: false });
  t.match(verifyCapSignature(noKeyInfo, caTrust), { ok: false, code: 'bad_signature' }, 'no KeyInfo: no certificate of the store verifies it');
  t.ok(verifyCapSignature(sign(storm, 'sender', { keyInfo: false }), senderTrust).ok, 'no KeyInfo, signed by a certificate in the store');
  t.match(verifyCapSignature(sign(storm, 'sender'), caTrust, { now: new Date(Date.now() + 2 * 365 * 86_400_000) }), { ok: false, code: 'untrusted_key' }, 'an expired certificate');
});

t.test('unsigned and unsupported signatures are refused', async (t) => {
  // A real one: USGS signed with inclusive c14n (with comments), RSA-SHA1 and a bare KeyValue.
  const usgs = verifyCapSignature(readFileSync(new URL('./fixtures/earthquake-iso8859-1.cap', import.meta.url)), caTrust);
  t.match(usgs, { ok: false, code: 'signature_unsupported', reason: /exclusive c14n and RSA-SHA256/ }, 'the USGS sample: refused as unsupported, not as forged');
  t.match(verifyCapSignature(Buffer.from(storm, 'utf8'), caTrust), { ok: false, code: 'unsigned' });
  t.match(verifyCapSignature(sign(storm, 'sender', { method: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' }), caTrust), { ok: false, code: 'signature_unsupported' }, 'RSA-SHA1');
  const signed = sign(storm, 'sender').toString('utf8');
  const sig = /<Signature[\s\S]*<\/Signature>/.exec(signed)![0];
  t.match(verifyCapSignature(Buffer.from(signed.replace('</alert>', `${sig}</alert>`), 'utf8'), caTrust), { ok: false, code: 'signature_unsupported' }, 'two signatures');
  const moved = signed.replace(sig, '').replace('</info>', `${sig}</info>`);
  t.match(verifyCapSignature(Buffer.from(moved, 'utf8'), caTrust), { ok: false, code: 'signature_unsupported' }, 'a signature that is not a child of <alert>');
  t.match(verifyCapSignature(Buffer.from(signed.replace('<Reference URI="">', '<Reference URI="#x">'), 'utf8'), caTrust), { ok: false, code: 'signature_unsupported' }, 'a reference to part of the document');
  t.match(verifyCapSignature(Buffer.from(`<!DOCTYPE x [<!ENTITY a "b">]>${signed.replace(/^<\?xml[^>]*>/, '')}`, 'utf8'), caTrust), { ok: false, code: 'signature_unsupported' }, 'a DTD');
});

t.test('every signature refusal code has a Vietnamese and an English message', async (t) => {
  const { MESSAGES } = await import('../../server/i18n.js');
  for (const code of ['unsigned', 'signature_unsupported', 'signature_digest_mismatch', 'bad_signature', 'untrusted_key'] satisfies SignatureErrorCode[]) t.ok(`cap_${code}` in MESSAGES, code);
});
