// The audio of a CAP <resource>: embedded (derefUri, base64) or fetched from its uri. A CAP
// sender names the URL, so the fetch is treated as hostile: http(s) only, the total time,
// the size and the content type (audio/*) are limited, every redirect is checked again, and
// the host name is resolved here with every address checked (loopback, private, link-local,
// CGNAT, unique-local, multicast, unspecified, IPv4 inside IPv6) — then the connection is
// pinned to those checked addresses so a second DNS answer cannot swap them. Only hosts an
// admin allowed skip the address check. The CAP 1.2 <digest> (SHA-1) is checked when present.
// Configured CAP feeds are fetched the same way (fetchXml), only the accepted types differ.
import { createHash } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { CapResource } from './parse.js';
import { forbiddenAddressReason } from './address-policy.js';

export interface ResolvedAddress { address: string; family: 4 | 6 }

export interface ResourceLimits {
  /** Largest audio accepted, bytes; default 16 MiB (about 17 minutes of 128 kbit/s MP3). */
  maxBytes: number;
  /** Whole fetch including DNS and redirects, ms; default 20 s. */
  timeoutMs: number;
  maxRedirects: number;
  /** Host names or IP literals an admin allowed to be reached even on internal addresses (exact, case-insensitive). */
  allowHosts: string[];
  /** DNS resolution (all addresses); the system resolver unless a test injects one. */
  resolve: (host: string) => Promise<ResolvedAddress[]>;
}

export const DEFAULT_RESOURCE_LIMITS: ResourceLimits = {
  maxBytes: 16 * 1024 * 1024,
  timeoutMs: 20_000,
  maxRedirects: 3,
  allowHosts: [],
  resolve: async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 })),
};

export type ResourceErrorCode =
  | 'no_audio'
  | 'not_audio'
  | 'not_xml'
  | 'bad_base64'
  | 'bad_uri'
  | 'forbidden_address'
  | 'dns_failed'
  | 'too_many_redirects'
  | 'http_status'
  | 'too_large'
  | 'timeout'
  | 'network'
  | 'digest_mismatch';

export interface ResourceError { code: ResourceErrorCode; reason: string; params: Record<string, string | number> }

/** Fetched or decoded bytes (audio, or XML from fetchXml). */
export type AudioResult =
  | { ok: true; bytes: Buffer; mimeType: string; from: 'derefUri' | 'uri'; url?: string }
  | { ok: false; error: ResourceError };

const fail = (code: ResourceErrorCode, reason: string, params: Record<string, string | number> = {}): { ok: false; error: ResourceError } => ({ ok: false, error: { code, reason, params } });

const isAudioType = (t: string) => /^audio\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(t.split(';')[0].trim());

/** The first audio resource of a CAP info block, or undefined when it has none. */
export function findAudioResource(resources: CapResource[]): CapResource | undefined {
  return resources.find((r) => isAudioType(r.mimeType) && (r.derefUri !== undefined || r.uri !== undefined));
}

/** The audio bytes of a resource: the embedded derefUri when present, else the uri fetched. */
export async function loadResourceAudio(resource: CapResource, limits: Partial<ResourceLimits> = {}): Promise<AudioResult> {
  const l = { ...DEFAULT_RESOURCE_LIMITS, ...limits };
  if (!isAudioType(resource.mimeType)) return fail('not_audio', `The resource is “${resource.mimeType}”, not audio/*.`, { type: resource.mimeType });
  let result: AudioResult;
  if (resource.derefUri !== undefined) result = decodeDerefUri(resource.derefUri, resource.mimeType, l.maxBytes);
  else if (resource.uri !== undefined) result = await fetchAudio(resource.uri, l);
  else return fail('no_audio', 'The resource has neither a uri nor a derefUri.');
  if (result.ok && resource.digest !== undefined) {
    const mismatch = digestMismatch(result.bytes, resource.digest);
    if (mismatch) return fail('digest_mismatch', mismatch, { digest: resource.digest });
  }
  return result;
}

export function decodeDerefUri(derefUri: string, mimeType: string, maxBytes: number): AudioResult {
  const b64 = derefUri.replace(/\s+/g, '');
  // Checked before decoding, from the length alone: 4 characters carry 3 bytes.
  const size = (b64.length / 4) * 3 - (b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0);
  if (size > maxBytes) return fail('too_large', `The embedded audio is ${Math.round(size)} bytes; at most ${maxBytes} are accepted.`, { size: Math.round(size), limit: maxBytes });
  if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return fail('bad_base64', 'derefUri is not base64 data.');
  return { ok: true, bytes: Buffer.from(b64, 'base64'), mimeType, from: 'derefUri' };
}

/** CAP 1.2's digest is SHA-1; senders write it in hex (sometimes base64). */
function digestMismatch(bytes: Buffer, digest: string): string | undefined {
  const sha1 = createHash('sha1').update(bytes).digest();
  const d = digest.trim();
  if (/^[0-9a-f]{40}$/i.test(d)) return d.toLowerCase() === sha1.toString('hex') ? undefined : `The audio's SHA-1 is ${sha1.toString('hex')}, the alert's digest says ${d}.`;
  if (Buffer.from(d, 'base64').length === 20) return d === sha1.toString('base64') ? undefined : `The audio's SHA-1 is ${sha1.toString('base64')}, the alert's digest says ${d}.`;
  return `The digest “${d}” is not a SHA-1 (40 hex digits).`;
}

export async function fetchAudio(uri: string, limits: Partial<ResourceLimits> = {}): Promise<AudioResult> {
  return fetchLimited(uri, limits, { test: isAudioType, code: 'not_audio', expected: 'audio/*' });
}

/** XML for CAP documents and feeds (Atom, RSS). */
export const isXmlType = (t: string) => /^(application\/(cap\+xml|atom\+xml|rss\+xml|xml)|text\/xml)$/i.test(t.split(';')[0].trim());

/** A CAP document or feed from a configured URL, under the same limits and address checks. */
export async function fetchXml(uri: string, limits: Partial<ResourceLimits> = {}): Promise<AudioResult> {
  return fetchLimited(uri, limits, { test: isXmlType, code: 'not_xml', expected: 'application/cap+xml, Atom, RSS or XML' });
}

interface TypeRule { test: (contentType: string) => boolean; code: ResourceErrorCode; expected: string }

async function fetchLimited(uri: string, limits: Partial<ResourceLimits>, accept: TypeRule): Promise<AudioResult> {
  const l = { ...DEFAULT_RESOURCE_LIMITS, ...limits };
  const allowed = new Set(l.allowHosts.map((h) => h.toLowerCase().replace(/^\[|\]$/g, '')));
  let current: { abort(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<AudioResult>((resolve) => {
    timer = setTimeout(() => {
      current?.abort();
      resolve(fail('timeout', `The audio was not fetched within ${l.timeoutMs} ms.`, { limit: l.timeoutMs, uri }));
    }, l.timeoutMs);
  });
  const attempt = async (): Promise<AudioResult> => {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return fail('bad_uri', `“${uri}” is not an absolute URL.`, { uri });
    }
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail('bad_uri', `Only http and https are fetched, not “${url.protocol}”.`, { uri: url.href });
      if (url.username || url.password) return fail('bad_uri', 'A URL with credentials is not fetched.', { uri: url.origin });
      const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
      let addresses: ResolvedAddress[];
      if (isIP(host)) addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
      else {
        try {
          addresses = await l.resolve(host);
        } catch (err) {
          return fail('dns_failed', `The host “${host}” could not be resolved: ${(err as Error).message}`, { host });
        }
        if (addresses.length === 0) return fail('dns_failed', `The host “${host}” has no address.`, { host });
      }
      if (!allowed.has(host)) {
        for (const a of addresses) {
          const why = forbiddenAddressReason(a.address);
          if (why) return fail('forbidden_address', `“${host}” resolves to ${a.address}, a ${why} address; an admin must allow this host first.`, { host, address: a.address, detail: why });
        }
      }
      const response = await get(url, addresses, (r) => (current = r));
      if ('error' in response) return fail('network', `Fetching ${url.href} failed: ${response.error}`, { uri: url.href, detail: response.error });
      const res = response.res;
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (hop >= l.maxRedirects) return fail('too_many_redirects', `More than ${l.maxRedirects} redirects.`, { limit: l.maxRedirects, uri });
        url = new URL(res.headers.location, url);
        continue;
      }
      if (status !== 200) {
        res.resume();
        return fail('http_status', `${url.href} answered HTTP ${status}.`, { status, uri: url.href });
      }
      const type = String(res.headers['content-type'] ?? '');
      if (!accept.test(type)) {
        res.destroy();
        return fail(accept.code, `${url.href} is “${type || 'of no type'}”, not ${accept.expected}.`, { type: type || '-', uri: url.href });
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > l.maxBytes) {
        res.destroy();
        return fail('too_large', `${url.href} is ${declared} bytes; at most ${l.maxBytes} are accepted.`, { size: declared, limit: l.maxBytes });
      }
      const body = await readCapped(res, l.maxBytes);
      if (body === 'too_large') return fail('too_large', `${url.href} sent more than ${l.maxBytes} bytes.`, { size: l.maxBytes + 1, limit: l.maxBytes });
      if (typeof body === 'string') return fail('network', `Reading ${url.href} failed: ${body}`, { uri: url.href, detail: body });
      return { ok: true, bytes: body, mimeType: type.split(';')[0].trim().toLowerCase(), from: 'uri', url: url.href };
    }
  };
  try {
    return await Promise.race([attempt(), timedOut]);
  } finally {
    clearTimeout(timer);
    current?.abort();
  }
}

/** One GET, connected only to the addresses already checked. */
function get(url: URL, addresses: ResolvedAddress[], onRequest: (r: { abort(): void }) => void): Promise<{ res: IncomingMessage } | { error: string }> {
  const pinned: LookupFunction = (_host, options, callback) => {
    const opts = options as { all?: boolean; family?: number };
    const usable = addresses.filter((a) => !opts.family || a.family === opts.family);
    const list = usable.length > 0 ? usable : addresses;
    if (opts.all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, list);
    else callback(null, list[0].address, list[0].family);
  };
  return new Promise((resolve) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      lookup: pinned,
      headers: { 'accept': 'audio/*', 'accept-encoding': 'identity', 'user-agent': 'Loa CAP resource fetch' },
    });
    onRequest({ abort: () => req.destroy() });
    req.on('response', (res) => resolve({ res }));
    req.on('error', (err) => resolve({ error: err.message }));
    req.end();
  });
}

function readCapped(res: IncomingMessage, maxBytes: number): Promise<Buffer | 'too_large' | string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        resolve('too_large'); // before destroy(), which reports the cut synchronously
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (err) => resolve(err.message));
    res.on('aborted', () => resolve('the connection was cut'));
  });
}
