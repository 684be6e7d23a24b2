// XML signatures on CAP alerts: when a trust store is configured, an alert must carry one
// enveloped XML-DSig signature over the whole document (Reference URI=""), made with a key the
// trust store vouches for. Only the profile below is verified; anything else is refused, never
// waved through:
//   CanonicalizationMethod  exclusive c14n 1.0 (without comments)
//   SignatureMethod         RSA-SHA256
//   Reference URI=""        Transforms: enveloped-signature, then exclusive c14n; DigestMethod SHA-256
//   Key                     the X509Certificate in KeyInfo, trusted when it is in the store or was
//                           issued by a certificate in it and is within its validity; or, without
//                           KeyInfo, any certificate of the store.
// Since the reference covers the whole document and is checked on the same bytes the alert is
// parsed from, no part of the alert can be outside what was signed (no signature wrapping).
import { X509Certificate, createHash, createVerify } from 'node:crypto';
import { decode, parseXml } from './xml.js';
import { canonicalizeDocument, canonicalizeElement, namespaceOf, readC14nDocument, type C14nElement } from './c14n.js';

export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';

export interface TrustStore { certificates: X509Certificate[] }

/** Every certificate in a PEM bundle. */
export function trustStoreFromPem(pem: string): TrustStore {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('the trust store holds no PEM certificate');
  return { certificates: blocks.map((b) => new X509Certificate(b)) };
}

/** Also CapErrorCode values, so a refusal translates as cap_<code> like every other. */
export type SignatureErrorCode = 'unsigned' | 'signature_unsupported' | 'signature_digest_mismatch' | 'bad_signature' | 'untrusted_key';

export type SignatureResult =
  | { ok: true; signer: string }
  | { ok: false; code: SignatureErrorCode; reason: string; params: { detail: string } };

export interface VerifyOptions {
  /** Certificate validity is judged at this time (tests pass a fixed one). */
  now?: Date;
}

/** Verifies the signature of a CAP document (the bytes parseCap accepted). */
export function verifyCapSignature(bytes: Uint8Array, trust: TrustStore, options: VerifyOptions = {}): SignatureResult {
  const refuse = (code: SignatureErrorCode, reason: string): SignatureResult => ({ ok: false, code, reason, params: { detail: reason } });
  // The same guards as parsing (size, DTD, well-formedness) before the tree is built.
  const guarded = parseXml(bytes, { maxBytes: Number.MAX_SAFE_INTEGER, maxDepth: 16 });
  if (!guarded.ok) return refuse('signature_unsupported', guarded.errors[0].reason);
  const decoded = decode(bytes);
  if (!decoded.ok) return refuse('signature_unsupported', decoded.error.reason);
  const doc = readC14nDocument(decoded.text);

  const isDs = (e: C14nElement, local: string) => e.local === local && namespaceOf(e, e.prefix) === DSIG_NS;
  const kids = (e: C14nElement, local: string) => e.children.filter((c): c is C14nElement => c.kind === 'element' && isDs(c, local));
  const one = (e: C14nElement | undefined, local: string) => {
    const k = e ? kids(e, local) : [];
    return k.length === 1 ? k[0] : undefined;
  };
  const attr = (e: C14nElement | undefined, name: string) => e?.attrs.find((a) => a.qname === name)?.value;
  const text = (e: C14nElement | undefined) => (e?.children ?? []).map((c) => (c.kind === 'text' ? c.text : '')).join('');

  const all: C14nElement[] = [];
  const walk = (e: C14nElement) => { if (isDs(e, 'Signature')) all.push(e); e.children.forEach((c) => c.kind === 'element' && walk(c)); };
  walk(doc.root);
  if (all.length === 0) return refuse('unsigned', 'The alert is not signed, and signatures are required.');
  if (all.length > 1 || all[0].parent !== doc.root) return refuse('signature_unsupported', 'Exactly one signature is expected, as a child of <alert>.');
  const signature = all[0];

  const signedInfo = one(signature, 'SignedInfo');
  const c14nMethod = attr(one(signedInfo, 'CanonicalizationMethod'), 'Algorithm');
  const sigMethod = attr(one(signedInfo, 'SignatureMethod'), 'Algorithm');
  const references = signedInfo ? kids(signedInfo, 'Reference') : [];
  if (!signedInfo || c14nMethod !== EXC_C14N || sigMethod !== RSA_SHA256 || references.length !== 1) {
    return refuse('signature_unsupported', `Only one Reference, exclusive c14n and RSA-SHA256 are verified (got ${c14nMethod ?? 'none'}, ${sigMethod ?? 'none'}, ${references.length} references).`);
  }
  if (kids(one(signedInfo, 'CanonicalizationMethod')!, 'InclusiveNamespaces').length > 0 || hasInclusiveNamespaces(signedInfo)) {
    return refuse('signature_unsupported', 'An InclusiveNamespaces PrefixList is not supported.');
  }
  const reference = references[0];
  const transforms = (one(reference, 'Transforms') ? kids(one(reference, 'Transforms')!, 'Transform') : []).map((t) => attr(t, 'Algorithm'));
  if (attr(reference, 'URI') !== '' || transforms.length !== 2 || transforms[0] !== ENVELOPED || transforms[1] !== EXC_C14N || attr(one(reference, 'DigestMethod'), 'Algorithm') !== SHA256) {
    return refuse('signature_unsupported', 'The Reference must be URI="" with the enveloped-signature and exclusive c14n transforms and a SHA-256 digest.');
  }

  const digest = createHash('sha256').update(canonicalizeDocument(doc, (e) => e === signature), 'utf8').digest('base64');
  if (digest !== text(one(reference, 'DigestValue')).replace(/\s+/g, '')) {
    return refuse('signature_digest_mismatch', 'The alert was changed after it was signed (the digest does not match).');
  }

  const signedBytes = canonicalizeElement(signedInfo);
  const signatureValue = Buffer.from(text(one(signature, 'SignatureValue')).replace(/\s+/g, ''), 'base64');
  const keyCert = text(one(one(one(signature, 'KeyInfo'), 'X509Data'), 'X509Certificate')).replace(/\s+/g, '');
  const now = options.now ?? new Date();
  let candidates: X509Certificate[];
  if (keyCert) {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(keyCert, 'base64'));
    } catch {
      return refuse('signature_unsupported', 'The X509Certificate in KeyInfo cannot be read.');
    }
    if (!isTrusted(cert, trust, now)) return refuse('untrusted_key', `The signing certificate (${cert.subject.replace(/\n/g, ', ')}) is not in the trust store, not issued by it, or not valid now.`);
    candidates = [cert];
  } else {
    candidates = trust.certificates;
  }
  for (const cert of candidates) {
    const verifier = createVerify('RSA-SHA256');
    verifier.update(signedBytes, 'utf8');
    if (cert.publicKey.asymmetricKeyType === 'rsa' && verifier.verify(cert.publicKey, signatureValue)) return { ok: true, signer: cert.subject.replace(/\n/g, ', ') };
  }
  return refuse('bad_signature', 'The signature value does not verify with the signing key.');
}

function hasInclusiveNamespaces(e: C14nElement): boolean {
  return e.local === 'InclusiveNamespaces' || e.children.some((c) => c.kind === 'element' && hasInclusiveNamespaces(c));
}

function isTrusted(cert: X509Certificate, trust: TrustStore, now: Date): boolean {
  const valid = (c: X509Certificate) => new Date(c.validFrom) <= now && now <= new Date(c.validTo);
  if (!valid(cert)) return false;
  return trust.certificates.some((ca) => ca.raw.equals(cert.raw) || (ca.ca && valid(ca) && cert.checkIssued(ca) && cert.verify(ca.publicKey)));
}
