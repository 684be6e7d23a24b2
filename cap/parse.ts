// The entry point: bytes of a CAP document → a typed, validated CapAlert, or the list of
// reasons it was refused. Nothing is returned as an alert unless every check passed.
import { capError, type CapError } from './errors.js';
import { DEFAULT_XML_LIMITS, parseXml, type XmlElement } from './xml.js';
import { CAP_ENUMS, XMLDSIG_NS, validateAlert } from './validate.js';
import { verifyCapSignature, type TrustStore } from './signature.js';
import { readCircle, readDateTime, readPolygon, readQuotedList, readReferences, type CapReference, type Circle, type LatLon } from './syntax.js';

export type { CapError } from './errors.js';
export type { CapReference, Circle, LatLon } from './syntax.js';

export const CAP_NAMESPACES = {
  '1.2': 'urn:oasis:names:tc:emergency:cap:1.2',
  '1.1': 'urn:oasis:names:tc:emergency:cap:1.1',
} as const;
export type CapVersion = keyof typeof CAP_NAMESPACES;

export type CapStatus = (typeof CAP_ENUMS.status)[number];
export type CapMsgType = (typeof CAP_ENUMS.msgType)[number];
export type CapScope = (typeof CAP_ENUMS.scope)[number];
export type CapCategory = (typeof CAP_ENUMS.category)[number];
export type CapResponseType = (typeof CAP_ENUMS.responseType)[number];
export type CapUrgency = (typeof CAP_ENUMS.urgency)[number];
export type CapSeverity = (typeof CAP_ENUMS.severity)[number];
export type CapCertainty = (typeof CAP_ENUMS.certainty)[number];

export interface CapValuePair { valueName: string; value: string }

export interface CapResource {
  resourceDesc: string;
  mimeType: string;
  size?: number;
  uri?: string;
  /** Base64 of the resource itself, whitespace removed. */
  derefUri?: string;
  /** SHA-1 of the resource as the sender wrote it (CAP 1.2). */
  digest?: string;
}

export interface CapArea {
  areaDesc: string;
  polygon: LatLon[][];
  circle: Circle[];
  geocode: CapValuePair[];
  altitude?: number;
  ceiling?: number;
}

export interface CapInfo {
  /** RFC 3066 tag; CAP's default is en-US when the element is absent. */
  language: string;
  category: CapCategory[];
  event: string;
  responseType: CapResponseType[];
  urgency: CapUrgency;
  severity: CapSeverity;
  certainty: CapCertainty;
  audience?: string;
  eventCode: CapValuePair[];
  /** Date-times as written (with their offset); see capTimeMs(). */
  effective?: string;
  onset?: string;
  expires?: string;
  senderName?: string;
  headline?: string;
  description?: string;
  instruction?: string;
  web?: string;
  contact?: string;
  parameter: CapValuePair[];
  resource: CapResource[];
  area: CapArea[];
}

export interface CapAlert {
  version: CapVersion;
  identifier: string;
  sender: string;
  sent: string;
  status: CapStatus;
  msgType: CapMsgType;
  source?: string;
  scope: CapScope;
  restriction?: string;
  addresses: string[];
  code: string[];
  note?: string;
  references: CapReference[];
  incidents: string[];
  info: CapInfo[];
  /** An XML signature element is present. */
  hasSignature: boolean;
  /** Subject of the certificate whose signature was verified (only when a trust store was given). */
  signer?: string;
}

export interface CapLimits {
  /** Largest accepted document in bytes; default 512 KiB (the largest public sample is 10 KB). */
  maxBytes?: number;
  /**
   * Versions accepted; default only 1.2, the schema this module validates against. CAP 1.1's
   * vocabulary is a subset of 1.2's, so allowing '1.1' validates such documents by 1.2 rules.
   */
  versions?: CapVersion[];
  /** When set, the alert must carry a valid enveloped XML signature by a key this store trusts. */
  trust?: TrustStore;
  /** The time certificate validity is judged at (default now). */
  now?: Date;
}

export type CapParseResult = { ok: true; alert: CapAlert } | { ok: false; errors: CapError[] };

export function parseCap(bytes: Uint8Array, limits: CapLimits = {}): CapParseResult {
  const xml = parseXml(bytes, { ...DEFAULT_XML_LIMITS, maxBytes: limits.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes });
  if (!xml.ok) return xml;
  const root = xml.root;
  const accepted = limits.versions ?? ['1.2'];
  const version = (Object.keys(CAP_NAMESPACES) as CapVersion[]).find((v) => CAP_NAMESPACES[v] === root.ns);
  if (root.name !== 'alert') {
    const found = root.ns ? `{${root.ns}}${root.name}` : root.name;
    return { ok: false, errors: [capError('/', 'not_cap', `The root element is <${found}>, not a CAP <alert>.`, { element: found })] };
  }
  if (version === undefined || !accepted.includes(version)) {
    return {
      ok: false,
      errors: [capError('/alert', 'wrong_version', `The alert is in namespace “${root.ns || '(none)'}”; accepted: ${accepted.map((v) => CAP_NAMESPACES[v]).join(', ')}.`, { namespace: root.ns || '(none)', accepted: accepted.map((v) => CAP_NAMESPACES[v]).join(', ') })],
    };
  }
  const errors = validateAlert(root);
  if (errors.length > 0) return { ok: false, errors };
  if (!limits.trust) return { ok: true, alert: toAlert(root, version) };
  const sig = verifyCapSignature(bytes, limits.trust, { now: limits.now });
  if (!sig.ok) return { ok: false, errors: [capError('/alert/Signature', sig.code, sig.reason, sig.params)] };
  return { ok: true, alert: { ...toAlert(root, version), signer: sig.signer } };
}

/** A CAP date-time (always with an offset) → epoch milliseconds. */
export function capTimeMs(s: string): number {
  const r = readDateTime(s);
  if (!r.ok) throw new Error(`not a CAP date-time: ${s}`);
  return r.value;
}

// ---- mapping (only ever called on a validated tree) -------------------------------------------

function toAlert(root: XmlElement, version: CapVersion): CapAlert {
  const f = fields(root);
  const refs = f.opt('references');
  return {
    version,
    identifier: f.one('identifier'),
    sender: f.one('sender'),
    sent: f.one('sent'),
    status: f.one('status') as CapStatus,
    msgType: f.one('msgType') as CapMsgType,
    source: f.opt('source'),
    scope: f.one('scope') as CapScope,
    restriction: f.opt('restriction'),
    addresses: readQuotedList(f.opt('addresses') ?? ''),
    code: f.all('code'),
    note: f.opt('note'),
    references: refs === undefined ? [] : (readReferences(refs) as { value: CapReference[] }).value,
    incidents: readQuotedList(f.opt('incidents') ?? ''),
    info: f.elements('info').map(toInfo),
    hasSignature: root.children.some((c) => c.ns === XMLDSIG_NS && c.name === 'Signature'),
  };
}

function toInfo(el: XmlElement): CapInfo {
  const f = fields(el);
  return {
    language: f.opt('language') ?? 'en-US',
    category: f.all('category') as CapCategory[],
    event: f.one('event'),
    responseType: f.all('responseType') as CapResponseType[],
    urgency: f.one('urgency') as CapUrgency,
    severity: f.one('severity') as CapSeverity,
    certainty: f.one('certainty') as CapCertainty,
    audience: f.opt('audience'),
    eventCode: f.elements('eventCode').map(toPair),
    effective: f.opt('effective'),
    onset: f.opt('onset'),
    expires: f.opt('expires'),
    senderName: f.opt('senderName'),
    headline: f.opt('headline'),
    description: f.opt('description'),
    instruction: f.opt('instruction'),
    web: f.opt('web'),
    contact: f.opt('contact'),
    parameter: f.elements('parameter').map(toPair),
    resource: f.elements('resource').map(toResource),
    area: f.elements('area').map(toArea),
  };
}

function toResource(el: XmlElement): CapResource {
  const f = fields(el);
  const size = f.opt('size');
  const deref = f.opt('derefUri');
  return {
    resourceDesc: f.one('resourceDesc'),
    mimeType: f.one('mimeType'),
    size: size === undefined ? undefined : Number(size),
    uri: f.opt('uri'),
    derefUri: deref === undefined ? undefined : deref.replace(/\s+/g, ''),
    digest: f.opt('digest'),
  };
}

function toArea(el: XmlElement): CapArea {
  const f = fields(el);
  const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  return {
    areaDesc: f.one('areaDesc'),
    polygon: f.all('polygon').filter((p) => p !== '').map((p) => (readPolygon(p) as { value: LatLon[] }).value),
    circle: f.all('circle').filter((c) => c !== '').map((c) => (readCircle(c) as { value: Circle }).value),
    geocode: f.elements('geocode').map(toPair),
    altitude: num(f.opt('altitude')),
    ceiling: num(f.opt('ceiling')),
  };
}

function toPair(el: XmlElement): CapValuePair {
  const f = fields(el);
  return { valueName: f.one('valueName'), value: f.one('value') };
}

/** Accessors over the CAP-namespace children of one element; text is trimmed. */
function fields(el: XmlElement) {
  const elements = (name: string) => el.children.filter((c) => c.ns === el.ns && c.name === name);
  const all = (name: string) => elements(name).map((c) => c.text.trim());
  return {
    elements,
    all,
    one: (name: string) => all(name)[0] ?? '',
    opt: (name: string): string | undefined => all(name)[0],
  };
}
