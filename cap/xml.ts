// Bytes → a small namespace-resolved element tree, refusing hostile input before any XML
// parser sees it: oversize documents, and any DTD (<!DOCTYPE / <!ENTITY), which is where
// external entities (XXE) and entity expansion (billion laughs) live. CAP never needs a DTD.
import { TextDecoder } from 'node:util';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { capError, type CapError } from './errors.js';

export interface XmlElement {
  /** Namespace URI ('' when none is in scope). */
  ns: string;
  /** Local name, without prefix. */
  name: string;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (CDATA included), untrimmed. */
  text: string;
}

export interface XmlLimits {
  /** Largest accepted document in bytes. */
  maxBytes: number;
  /** Deepest element nesting accepted (CAP needs 4; an XML signature about 6). */
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 512 * 1024, maxDepth: 16 };

export type XmlResult = { ok: true; root: XmlElement } | { ok: false; errors: CapError[] };

export function parseXml(bytes: Uint8Array, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlResult {
  const fail = (e: CapError): XmlResult => ({ ok: false, errors: [e] });
  if (bytes.byteLength > limits.maxBytes) {
    return fail(capError('/', 'too_large', `The document is ${bytes.byteLength} bytes; at most ${limits.maxBytes} bytes are accepted.`, { size: bytes.byteLength, limit: limits.maxBytes }));
  }
  const decoded = decode(bytes);
  if (!decoded.ok) return fail(decoded.error);
  const text = decoded.text;
  if (text.trim() === '') return fail(capError('/', 'empty_document', 'The document is empty.'));
  // Refused on sight, even inside a comment: a CAP document has no reason to carry one, and a
  // textual check cannot be fooled by how a parser treats the DTD.
  const dtd = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST)/i.exec(text);
  if (dtd) {
    return fail(capError('/', 'dtd_forbidden', `The document contains <!${dtd[1]}: DTDs and entity declarations are refused (external entities, entity expansion).`, { found: `<!${dtd[1]}` }));
  }
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    return fail(capError('/', 'malformed', `The document is not well-formed XML at line ${line}, column ${col}: ${msg}`, { line, col, detail: msg }));
  }
  // With no DTD only the five predefined entities exist; any other reference is an XML error
  // (the parser would pass it through as text).
  const stray = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)[^\s<]{0,20}/.exec(text.replace(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g, ''));
  if (stray) {
    return fail(capError('/', 'malformed', `The document refers to an undeclared entity or has a bare “&”: “${stray[0]}”.`, { line: 0, col: 0, detail: `undeclared entity ${stray[0]}` }));
  }
  let ordered: OrderedNode[];
  try {
    const parser = new XMLParser({
      preserveOrder: true,
      ignoreAttributes: false,
      attributeNamePrefix: '',
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: false,
      cdataPropName: false,
      commentPropName: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      // Needed for character references (&#233;); named HTML entities were refused above.
      htmlEntities: true,
      // Only the five predefined entities and character references remain (no DTD got here).
      processEntities: true,
      maxNestedTags: limits.maxDepth,
    });
    ordered = parser.parse(text) as OrderedNode[];
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    if (/nest/i.test(detail)) {
      return fail(capError('/', 'too_deep', `Elements are nested deeper than ${limits.maxDepth} levels.`, { limit: limits.maxDepth }));
    }
    return fail(capError('/', 'malformed', `The document could not be parsed: ${detail}`, { line: 0, col: 0, detail }));
  }
  const roots = ordered.filter((n) => elementName(n) !== undefined);
  if (roots.length !== 1) {
    return fail(capError('/', 'malformed', 'The document must have exactly one root element.', { line: 0, col: 0, detail: 'root element count' }));
  }
  try {
    return { ok: true, root: toElement(roots[0], new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), 1, limits.maxDepth) };
  } catch (err) {
    if (err instanceof TooDeep) return fail(capError('/', 'too_deep', `Elements are nested deeper than ${limits.maxDepth} levels.`, { limit: limits.maxDepth }));
    throw err;
  }
}

// ---- decoding -------------------------------------------------------------------------------

type Decoded = { ok: true; text: string } | { ok: false; error: CapError };

/** UTF-8 by default; a BOM or the XML declaration's encoding (e.g. ISO-8859-1) otherwise. */
export function decode(bytes: Uint8Array): Decoded {
  let encoding = 'utf-8';
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) { encoding = 'utf-16le'; start = 2; }
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) { encoding = 'utf-16be'; start = 2; }
  else {
    // The declaration is ASCII in every encoding an XML 1.0 processor must sniff this way.
    const head = Buffer.from(bytes.subarray(0, 200)).toString('latin1');
    const m = /^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']/.exec(head);
    if (m) encoding = m[1].toLowerCase();
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    return { ok: false, error: capError('/', 'bad_encoding', `The encoding “${encoding}” named in the XML declaration is not supported.`, { encoding }) };
  }
  try {
    return { ok: true, text: decoder.decode(bytes.subarray(start)) };
  } catch {
    return { ok: false, error: capError('/', 'bad_encoding', `The bytes are not valid ${decoder.encoding}.`, { encoding: decoder.encoding }) };
  }
}

// ---- tree -----------------------------------------------------------------------------------

// fast-xml-parser's preserveOrder shape: [{ tag: OrderedNode[], ':@'?: attrs }] or [{ '#text': s }].
type OrderedNode = Record<string, unknown>;

class TooDeep extends Error {}

function elementName(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text' && !k.startsWith('?'));
}

function toElement(node: OrderedNode, scope: Map<string, string>, depth: number, maxDepth: number): XmlElement {
  if (depth > maxDepth) throw new TooDeep();
  const qname = elementName(node)!;
  const attrs = (node[':@'] ?? {}) as Record<string, string>;
  let inner = scope;
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (inner === scope) inner = new Map(scope);
      inner.set(k === 'xmlns' ? '' : k.slice(6), String(v));
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const el: XmlElement = { ns: inner.get(prefix) ?? '', name: colon < 0 ? qname : qname.slice(colon + 1), children: [], text: '' };
  for (const child of (node[qname] ?? []) as OrderedNode[]) {
    if ('#text' in child) el.text += String(child['#text']);
    else if (elementName(child) !== undefined) el.children.push(toElement(child, inner, depth + 1, maxDepth));
  }
  return el;
}
