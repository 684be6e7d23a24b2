// Exclusive XML Canonicalization 1.0 without comments (http://www.w3.org/2001/10/xml-exc-c14n#),
// the form XML signatures hash. It needs a faithful tree (attributes, namespace declarations,
// mixed text, processing instructions), so this file has its own small reader for documents
// that already passed the guards in xml.ts (well-formed, no DTD). The InclusiveNamespaces
// PrefixList is not supported: a signature using it is refused by the caller.

export interface C14nElement {
  kind: 'element';
  qname: string;
  prefix: string;
  local: string;
  /** Attributes other than namespace declarations, in document order, values normalised. */
  attrs: { qname: string; prefix: string; local: string; value: string }[];
  /** Namespace declarations on this element: prefix ('' for default) → URI. */
  nsDecls: Map<string, string>;
  children: C14nNode[];
  parent?: C14nElement;
}
export type C14nNode = C14nElement | { kind: 'text'; text: string } | { kind: 'pi'; target: string; data: string } | { kind: 'comment' };

export interface C14nDocument { children: C14nNode[]; root: C14nElement }

const XML_NS = 'http://www.w3.org/XML/1998/namespace';

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    switch (e) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    }
  });
}

function splitQName(qname: string): [string, string] {
  const i = qname.indexOf(':');
  return i < 0 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}

/** Reads a well-formed, DTD-free XML text into a tree (XML 1.0 line-end and attribute normalisation applied). */
export function readC14nDocument(source: string): C14nDocument {
  const s = source.replace(/\r\n?/g, '\n');
  const top: C14nNode[] = [];
  const stack: C14nElement[] = [];
  let root: C14nElement | undefined;
  const add = (n: C14nNode) => (stack.length > 0 ? stack[stack.length - 1].children : top).push(n);
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('<?', i)) {
      const end = s.indexOf('?>', i);
      const body = s.slice(i + 2, end);
      const m = /^(\S+)\s*([\s\S]*)$/.exec(body)!;
      if (m[1] !== 'xml') add({ kind: 'pi', target: m[1], data: m[2] });
      i = end + 2;
    } else if (s.startsWith('<!--', i)) {
      i = s.indexOf('-->', i) + 3;
      add({ kind: 'comment' });
    } else if (s.startsWith('<![CDATA[', i)) {
      const end = s.indexOf(']]>', i);
      add({ kind: 'text', text: s.slice(i + 9, end) });
      i = end + 3;
    } else if (s.startsWith('<!', i)) {
      throw new Error('a DTD is not accepted');
    } else if (s.startsWith('</', i)) {
      i = s.indexOf('>', i) + 1;
      stack.pop();
    } else if (s[i] === '<') {
      const tag = /^<([^\s/>]+)/.exec(s.slice(i, i + 1000))!;
      let j = i + tag[0].length;
      const el: C14nElement = { kind: 'element', qname: tag[1], prefix: '', local: '', attrs: [], nsDecls: new Map(), children: [], parent: stack[stack.length - 1] };
      [el.prefix, el.local] = splitQName(tag[1]);
      const attr = /\s*([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/y;
      for (;;) {
        attr.lastIndex = j;
        const a = attr.exec(s);
        if (!a) break;
        j = attr.lastIndex;
        const value = decodeEntities((a[3] ?? a[4]).replace(/[\t\n]/g, ' '));
        if (a[1] === 'xmlns') el.nsDecls.set('', value);
        else if (a[1].startsWith('xmlns:')) el.nsDecls.set(a[1].slice(6), value);
        else {
          const [prefix, local] = splitQName(a[1]);
          el.attrs.push({ qname: a[1], prefix, local, value });
        }
      }
      const close = /\s*(\/?)>/y;
      close.lastIndex = j;
      const c = close.exec(s)!;
      i = close.lastIndex;
      add(el);
      if (stack.length === 0) root = el;
      if (c[1] !== '/') stack.push(el);
    } else {
      const end = s.indexOf('<', i);
      const raw = s.slice(i, end < 0 ? s.length : end);
      if (stack.length > 0) add({ kind: 'text', text: decodeEntities(raw) });
      i = end < 0 ? s.length : end;
    }
  }
  if (!root) throw new Error('no document element');
  return { children: top, root };
}

/** The namespace URI a prefix has at this element ('' when unbound / no default). */
export function namespaceOf(el: C14nElement, prefix: string): string {
  if (prefix === 'xml') return XML_NS;
  for (let e: C14nElement | undefined = el; e; e = e.parent) {
    const uri = e.nsDecls.get(prefix);
    if (uri !== undefined) return uri;
  }
  return '';
}

const escapeText = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
const escapeAttr = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\t/g, '&#x9;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;');

/**
 * Canonical form of one element's subtree as the apex of the node set (nothing rendered above
 * it), leaving out any element for which `omit` is true (the enveloped signature).
 */
export function canonicalizeElement(el: C14nElement, omit: (e: C14nElement) => boolean = () => false): string {
  const out: string[] = [];
  renderElement(el, new Map(), omit, out);
  return out.join('');
}

/** Canonical form of a whole document (processing instructions around the root kept, comments dropped). */
export function canonicalizeDocument(doc: C14nDocument, omit: (e: C14nElement) => boolean = () => false): string {
  const out: string[] = [];
  let seenRoot = false;
  for (const n of doc.children) {
    if (n.kind === 'element') {
      renderElement(n, new Map(), omit, out);
      seenRoot = true;
    } else if (n.kind === 'pi') {
      const pi = `<?${n.target}${n.data ? ` ${n.data}` : ''}?>`;
      out.push(seenRoot ? `\n${pi}` : `${pi}\n`);
    }
  }
  return out.join('');
}

function renderElement(el: C14nElement, rendered: Map<string, string>, omit: (e: C14nElement) => boolean, out: string[]): void {
  if (omit(el)) return;
  // Exclusive c14n: a namespace is output where it is visibly used (by the element's own
  // prefix or an attribute's) and the nearest output ancestor did not already declare it.
  const used = new Set<string>([el.prefix]);
  for (const a of el.attrs) if (a.prefix !== '' && a.prefix !== 'xml') used.add(a.prefix);
  const decls: [string, string][] = [];
  const inner = new Map(rendered);
  for (const prefix of used) {
    const uri = namespaceOf(el, prefix);
    if (prefix === '' && uri === '') {
      if ((rendered.get('') ?? '') !== '') { decls.push(['', '']); inner.set('', ''); }
      continue;
    }
    if (rendered.get(prefix) !== uri) { decls.push([prefix, uri]); inner.set(prefix, uri); }
  }
  decls.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const attrs = el.attrs
    .map((a) => ({ ...a, uri: a.prefix === '' ? '' : namespaceOf(el, a.prefix) }))
    .sort((a, b) => (a.uri !== b.uri ? (a.uri < b.uri ? -1 : 1) : a.local < b.local ? -1 : a.local > b.local ? 1 : 0));
  out.push(`<${el.qname}`);
  for (const [prefix, uri] of decls) out.push(prefix === '' ? ` xmlns="${escapeAttr(uri)}"` : ` xmlns:${prefix}="${escapeAttr(uri)}"`);
  for (const a of attrs) out.push(` ${a.qname}="${escapeAttr(a.value)}"`);
  out.push('>');
  for (const c of el.children) {
    if (c.kind === 'element') renderElement(c, inner, omit, out);
    else if (c.kind === 'text') out.push(escapeText(c.text));
    else if (c.kind === 'pi') out.push(`<?${c.target}${c.data ? ` ${c.data}` : ''}?>`);
  }
  out.push(`</${el.qname}>`);
}
