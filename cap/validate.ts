// Structural validation of a CAP 1.2 <alert> tree against the schema (cap12.xsd) and the
// specification's rules the schema cannot express: required elements and cardinality, the
// enumerations, date-times with an offset, polygon/circle/references syntax, restriction
// when scope is Restricted, addresses when Private. Element order is not enforced (the
// schema's xs:sequence): a misordered but complete alert is still meaningful.
import { capError, type CapError } from './errors.js';
import type { XmlElement } from './xml.js';
import { isCapIdentifier, isDecimal, isLanguageTag, readCircle, readDateTime, readPolygon, readReferences } from './syntax.js';

export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

export const CAP_ENUMS = {
  status: ['Actual', 'Exercise', 'System', 'Test', 'Draft'],
  msgType: ['Alert', 'Update', 'Cancel', 'Ack', 'Error'],
  scope: ['Public', 'Restricted', 'Private'],
  category: ['Geo', 'Met', 'Safety', 'Security', 'Rescue', 'Fire', 'Health', 'Env', 'Transport', 'Infra', 'CBRNE', 'Other'],
  responseType: ['Shelter', 'Evacuate', 'Prepare', 'Execute', 'Avoid', 'Monitor', 'Assess', 'AllClear', 'None'],
  urgency: ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'],
  severity: ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'],
  certainty: ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'],
} as const;

type Card = '1' | '?' | '*' | '+';
type Check = 'text' | 'nonEmpty' | 'identifier' | 'dateTime' | 'language' | 'integer' | 'decimal' | 'polygon' | 'circle' | 'references' | 'base64' | keyof typeof CAP_ENUMS;
interface Rule { card: Card; check?: Check; children?: Rules }
type Rules = Record<string, Rule>;

const PAIR: Rules = { valueName: { card: '1', check: 'nonEmpty' }, value: { card: '1', check: 'text' } };

const AREA: Rules = {
  areaDesc: { card: '1', check: 'nonEmpty' },
  polygon: { card: '*', check: 'polygon' },
  circle: { card: '*', check: 'circle' },
  geocode: { card: '*', children: PAIR },
  altitude: { card: '?', check: 'decimal' },
  ceiling: { card: '?', check: 'decimal' },
};

const RESOURCE: Rules = {
  resourceDesc: { card: '1', check: 'nonEmpty' },
  mimeType: { card: '1', check: 'nonEmpty' },
  size: { card: '?', check: 'integer' },
  uri: { card: '?', check: 'nonEmpty' },
  derefUri: { card: '?', check: 'base64' },
  digest: { card: '?', check: 'nonEmpty' },
};

const INFO: Rules = {
  language: { card: '?', check: 'language' },
  category: { card: '+', check: 'category' },
  event: { card: '1', check: 'nonEmpty' },
  responseType: { card: '*', check: 'responseType' },
  urgency: { card: '1', check: 'urgency' },
  severity: { card: '1', check: 'severity' },
  certainty: { card: '1', check: 'certainty' },
  audience: { card: '?' },
  eventCode: { card: '*', children: PAIR },
  effective: { card: '?', check: 'dateTime' },
  onset: { card: '?', check: 'dateTime' },
  expires: { card: '?', check: 'dateTime' },
  senderName: { card: '?' },
  headline: { card: '?' },
  description: { card: '?' },
  instruction: { card: '?' },
  web: { card: '?' },
  contact: { card: '?' },
  parameter: { card: '*', children: PAIR },
  resource: { card: '*', children: RESOURCE },
  area: { card: '*', children: AREA },
};

const ALERT: Rules = {
  identifier: { card: '1', check: 'identifier' },
  sender: { card: '1', check: 'identifier' },
  sent: { card: '1', check: 'dateTime' },
  status: { card: '1', check: 'status' },
  msgType: { card: '1', check: 'msgType' },
  source: { card: '?' },
  scope: { card: '1', check: 'scope' },
  restriction: { card: '?' },
  addresses: { card: '?' },
  code: { card: '*' },
  note: { card: '?' },
  references: { card: '?', check: 'references' },
  incidents: { card: '?' },
  info: { card: '*', children: INFO },
};

/** Validates the children of an <alert> element already known to be in a CAP namespace. */
export function validateAlert(alert: XmlElement): CapError[] {
  const errors: CapError[] = [];
  validateChildren(alert, '/alert', ALERT, alert.ns, errors, true);
  // Rules of the specification the schema leaves out.
  const text = (name: string) => alert.children.find((c) => c.ns === alert.ns && c.name === name)?.text.trim();
  const scope = text('scope');
  if (scope === 'Restricted' && !text('restriction')) {
    errors.push(capError('/alert/restriction', 'restriction_required', 'scope is Restricted, so <restriction> must say who may receive the alert.'));
  }
  if (scope === 'Private' && !text('addresses')) {
    errors.push(capError('/alert/addresses', 'addresses_required', 'scope is Private, so <addresses> must list the recipients.'));
  }
  const msgType = text('msgType');
  if ((msgType === 'Update' || msgType === 'Cancel') && text('references') === undefined) {
    errors.push(capError('/alert/references', 'missing', `msgType is ${msgType}, so <references> must name the earlier alerts it acts on (“sender,identifier,sent”).`, { element: 'references' }));
  }
  alert.children.filter((c) => c.ns === alert.ns && c.name === 'info').forEach((info, i) => {
    info.children.filter((c) => c.ns === alert.ns && c.name === 'area').forEach((area, j) => {
      const has = (n: string) => area.children.some((c) => c.ns === alert.ns && c.name === n);
      if (has('ceiling') && !has('altitude')) {
        errors.push(capError(`/alert/info[${i + 1}]/area[${j + 1}]/ceiling`, 'missing', '<ceiling> may only be used with <altitude>.', { element: 'altitude' }));
      }
    });
  });
  return errors;
}

function validateChildren(el: XmlElement, path: string, rules: Rules, ns: string, errors: CapError[], allowSignature = false): void {
  const counts = new Map<string, number>();
  for (const child of el.children) {
    if (allowSignature && child.ns === XMLDSIG_NS) continue;
    const rule = child.ns === ns ? rules[child.name] : undefined;
    if (!rule) {
      const shown = child.ns === ns ? child.name : `{${child.ns}}${child.name}`;
      errors.push(capError(`${path}/${shown}`, 'unknown_element', `<${shown}> is not a CAP 1.2 element here.`, { element: shown }));
      continue;
    }
    const n = (counts.get(child.name) ?? 0) + 1;
    counts.set(child.name, n);
    const many = rule.card === '*' || rule.card === '+';
    const childPath = many ? `${path}/${child.name}[${n}]` : `${path}/${child.name}`;
    if (!many && n === 2) {
      errors.push(capError(childPath, 'duplicate', `<${child.name}> may appear only once here.`, { element: child.name }));
    }
    if (rule.children) {
      validateChildren(child, childPath, rule.children, ns, errors);
    } else {
      if (child.children.length > 0) {
        errors.push(capError(childPath, 'unknown_element', `<${child.name}> holds text, not elements.`, { element: child.children[0].name }));
      }
      if (rule.check) checkValue(child.text, rule.check, childPath, child.name, errors);
    }
  }
  for (const [name, rule] of Object.entries(rules)) {
    if ((rule.card === '1' || rule.card === '+') && !counts.has(name)) {
      errors.push(capError(`${path}/${name}`, 'missing', `The required element <${name}> is missing.`, { element: name }));
    }
  }
}

function checkValue(raw: string, check: Check, path: string, name: string, errors: CapError[]): void {
  const v = raw.trim();
  const bad = (why: string) => errors.push(capError(path, 'bad_value', `<${name}> “${v}”: ${why}.`, { value: v, detail: why }));
  switch (check) {
    case 'text':
      return;
    case 'nonEmpty':
      if (v === '') errors.push(capError(path, 'empty', `<${name}> must not be empty.`, { element: name }));
      return;
    case 'identifier':
      if (v === '') errors.push(capError(path, 'empty', `<${name}> must not be empty.`, { element: name }));
      else if (!isCapIdentifier(v)) errors.push(capError(path, 'bad_identifier', `<${name}> “${v}” must not contain spaces, commas, “<” or “&”.`, { value: v }));
      return;
    case 'dateTime': {
      const r = readDateTime(v);
      if (!r.ok) errors.push(capError(path, 'bad_datetime', `<${name}> “${v}”: ${r.why}.`, { value: v, detail: r.why }));
      return;
    }
    case 'language':
      if (!isLanguageTag(v)) bad('not a language tag such as vi-VN');
      return;
    case 'integer':
      if (!/^\+?\d+$/.test(v)) errors.push(capError(path, 'bad_number', `<${name}> “${v}” is not a whole number of bytes.`, { value: v }));
      return;
    case 'decimal':
      if (!isDecimal(v)) errors.push(capError(path, 'bad_number', `<${name}> “${v}” is not a decimal number.`, { value: v }));
      return;
    // An empty <polygon/> or <circle/> is schema-valid (xs:string) and real feeds send it (the US
    // National Weather Service does when an alert has no polygon): it describes nothing.
    case 'polygon': {
      if (v === '') return;
      const r = readPolygon(v);
      if (!r.ok) errors.push(capError(path, 'bad_polygon', `<polygon>: ${r.why}.`, { detail: r.why }));
      return;
    }
    case 'circle': {
      if (v === '') return;
      const r = readCircle(v);
      if (!r.ok) errors.push(capError(path, 'bad_circle', `<circle> “${v}”: ${r.why}.`, { value: v, detail: r.why }));
      return;
    }
    case 'references': {
      const r = readReferences(v);
      if (!r.ok) errors.push(capError(path, 'bad_references', `<references>: ${r.why}.`, { detail: r.why }));
      return;
    }
    case 'base64':
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(raw) || v === '') bad('not base64 data');
      return;
    default: {
      const allowed: readonly string[] = CAP_ENUMS[check];
      if (!allowed.includes(v)) {
        errors.push(capError(path, 'bad_value', `<${name}> “${v}” is not one of ${allowed.join(', ')}.`, { value: v, allowed: allowed.join(', '), detail: `one of ${allowed.join(', ')}` }));
      }
    }
  }
}
