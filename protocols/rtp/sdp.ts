/**
 * SDP (RFC 8866, formerly 4566) for Loa's RTP streams: buildStreamSdp writes
 * the description of one zone stream that ffmpeg, GStreamer and VLC receive
 * from (unicast or multicast); parseSdp reads back what we write and the
 * offers of SIP phones (media lines, rtpmap, fmtp, ptime, direction,
 * connection addresses), refusing malformed text with SdpParseError.
 */
import type { CodecInfo } from '../../codecs/codec.js';

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface StreamSdpOptions {
  sessionName: string;
  /** Address of the sending host, for the o= line. */
  originAddress: string;
  /** Unicast receiver address or multicast group (IPv4 or IPv6). */
  connectionAddress: string;
  /** Multicast TTL (IPv4 multicast only; default 16). */
  ttl?: number;
  port: number;
  codec: CodecInfo;
  /** Packet duration in ms; Loa sends 20 ms frames. */
  ptime: number;
  ssrc?: number;
  cname?: string;
  /** Source-specific multicast: the sender's address (RFC 4570 a=source-filter). */
  multicastSource?: string;
  /**
   * How the reader of this SDP should use it. Default 'recvonly': a
   * description handed to receivers (an .sdp file, SAP) tells them to only
   * receive. Use 'sendonly' in an offer/answer where the SDP is Loa's own side.
   */
  direction?: SdpDirection;
  /** a=fmtp parameters, e.g. 'stereo=0;sprop-stereo=0' for Opus. */
  fmtp?: string;
  /** RFC 7273 reference clock, e.g. 'ntp=/traceable/' or 'ptp=IEEE1588-2008:...'. */
  tsRefclk?: string;
  /** RFC 7273 media clock, e.g. 'direct=0'. */
  mediaclk?: string;
  /** o= session id and version; default derived from the current time. */
  sessionId?: number | string;
  sessionVersion?: number | string;
}

export function buildStreamSdp(o: StreamSdpOptions): string {
  checkToken(o.sessionName, 'sessionName', true);
  checkToken(o.originAddress, 'originAddress');
  checkToken(o.connectionAddress, 'connectionAddress');
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new RangeError(`invalid port ${o.port}`);
  const pt = o.codec.payloadType;
  if (!Number.isInteger(pt) || pt < 0 || pt > 127) throw new RangeError(`invalid payload type ${pt}`);
  const family = (a: string) => (a.includes(':') ? 'IP6' : 'IP4');
  const sessionId = String(o.sessionId ?? Math.floor(Date.now() / 1000));
  const sessionVersion = String(o.sessionVersion ?? sessionId);

  let connection = o.connectionAddress;
  const multicast = isMulticast(o.connectionAddress);
  if (multicast && family(o.connectionAddress) === 'IP4') {
    const ttl = o.ttl ?? 16;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 255) throw new RangeError(`invalid ttl ${ttl}`);
    connection += `/${ttl}`; // RFC 8866 §5.7: mandatory for IPv4 multicast
  }

  const lines = [
    'v=0',
    `o=- ${sessionId} ${sessionVersion} IN ${family(o.originAddress)} ${o.originAddress}`,
    `s=${o.sessionName || '-'}`,
    `c=IN ${family(o.connectionAddress)} ${connection}`,
    't=0 0',
  ];
  if (o.multicastSource !== undefined) {
    if (!multicast) throw new RangeError('multicastSource needs a multicast connectionAddress');
    checkToken(o.multicastSource, 'multicastSource');
    const f = family(o.connectionAddress);
    lines.push(`a=source-filter: incl IN ${f} ${o.connectionAddress} ${o.multicastSource}`);
  }
  if (o.tsRefclk !== undefined) lines.push(`a=ts-refclk:${checkToken(o.tsRefclk, 'tsRefclk')}`);
  lines.push(`m=audio ${o.port} RTP/AVP ${pt}`);
  lines.push(`a=rtpmap:${pt} ${rtpmapValue(o.codec)}`);
  if (o.fmtp !== undefined) lines.push(`a=fmtp:${pt} ${checkToken(o.fmtp, 'fmtp', true)}`);
  lines.push(`a=ptime:${o.ptime}`);
  if (o.mediaclk !== undefined) lines.push(`a=mediaclk:${checkToken(o.mediaclk, 'mediaclk', true)}`);
  lines.push(`a=${o.direction ?? 'recvonly'}`);
  if (o.ssrc !== undefined && o.cname !== undefined) {
    lines.push(`a=ssrc:${o.ssrc >>> 0} cname:${checkToken(o.cname, 'cname')}`);
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * The a=rtpmap value: "PCMU/8000", "opus/48000/2" (RFC 7587 always announces
 * 2 channels), "L16/48000/1". G.711 omits the channel count by convention.
 */
export function rtpmapValue(codec: CodecInfo): string {
  const base = `${codec.encodingName}/${codec.clockRate}`;
  const g711 = codec.name === 'pcmu' || codec.name === 'pcma';
  return g711 && codec.sdpChannels === 1 ? base : `${base}/${codec.sdpChannels}`;
}

export function isMulticast(address: string): boolean {
  if (address.includes(':')) return /^ff/i.test(address);
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

function checkToken(value: string, what: string, spacesAllowed = false): string {
  if (/[\r\n\0]/.test(value) || (!spacesAllowed && /\s/.test(value)) || (!spacesAllowed && value === '')) {
    throw new RangeError(`invalid ${what} for SDP: ${JSON.stringify(value)}`);
  }
  return value;
}

// ----------------------------------------------------------------- parsing

export class SdpParseError extends Error {
  override readonly name = 'SdpParseError';
  constructor(
    message: string,
    /** 1-based line number, 0 when the problem is with the whole text. */
    readonly line: number,
  ) {
    super(line ? `SDP line ${line}: ${message}` : `SDP: ${message}`);
  }
}

export interface SdpConnection {
  netType: string;
  addrType: 'IP4' | 'IP6';
  address: string;
  ttl?: number;
  numAddresses?: number;
}

export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

export interface SdpAttribute {
  name: string;
  /** undefined for property attributes like a=recvonly. */
  value?: string;
}

export interface SdpRtpMap {
  payloadType: number;
  encodingName: string;
  clockRate: number;
  /** Encoding parameters (channels for audio); undefined when absent. */
  channels?: number;
}

export interface SdpMedia {
  type: string;
  port: number;
  numPorts?: number;
  protocol: string;
  /** Format list as written (payload types for RTP profiles). */
  formats: string[];
  connection?: SdpConnection;
  attributes: SdpAttribute[];
  /** Keyed by payload type. */
  rtpmap: Map<number, SdpRtpMap>;
  fmtp: Map<number, string>;
  ptime?: number;
  direction?: SdpDirection;
}

export interface SessionDescription {
  version: number;
  origin: SdpOrigin;
  sessionName: string;
  connection?: SdpConnection;
  attributes: SdpAttribute[];
  direction?: SdpDirection;
  media: SdpMedia[];
}

const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

export function parseSdp(text: string): SessionDescription {
  if (typeof text !== 'string' || text.trim() === '') throw new SdpParseError('empty description', 0);
  if (text.length > 65536) throw new SdpParseError('description longer than 64 KiB', 0);
  const rawLines = text.split(/\r?\n/);
  while (rawLines.length && rawLines[rawLines.length - 1] === '') rawLines.pop();

  let origin: SdpOrigin | undefined;
  let sessionName: string | undefined;
  let version: number | undefined;
  let sessionConnection: SdpConnection | undefined;
  const sessionAttributes: SdpAttribute[] = [];
  let sessionDirection: SdpDirection | undefined;
  const media: SdpMedia[] = [];
  let current: SdpMedia | undefined;

  rawLines.forEach((line, index) => {
    const n = index + 1;
    const m = /^([a-z])=(.*)$/.exec(line);
    if (!m) throw new SdpParseError(`expected "<letter>=<value>", got ${JSON.stringify(line.slice(0, 40))}`, n);
    const [, key, value] = m;
    if (n === 1 && key !== 'v') throw new SdpParseError('description must start with v=', n);
    switch (key) {
      case 'v':
        if (n !== 1) throw new SdpParseError('v= only allowed on the first line', n);
        if (value !== '0') throw new SdpParseError(`unsupported version ${value}`, n);
        version = 0;
        break;
      case 'o': {
        const f = value.split(' ');
        if (f.length !== 6 || f.some((x) => x === '')) throw new SdpParseError('o= needs 6 fields', n);
        origin = { username: f[0], sessionId: f[1], sessionVersion: f[2], netType: f[3], addrType: f[4], address: f[5] };
        break;
      }
      case 's':
        sessionName = value;
        break;
      case 'c': {
        const c = parseConnection(value, n);
        if (current) current.connection = c;
        else sessionConnection = c;
        break;
      }
      case 'm': {
        current = parseMediaLine(value, n);
        media.push(current);
        break;
      }
      case 'a': {
        const colon = value.indexOf(':');
        const attr: SdpAttribute = colon < 0 ? { name: value } : { name: value.slice(0, colon), value: value.slice(colon + 1) };
        if (attr.name === '') throw new SdpParseError('attribute without a name', n);
        if (current) {
          current.attributes.push(attr);
          applyMediaAttribute(current, attr, n);
        } else {
          sessionAttributes.push(attr);
          if (attr.value === undefined && DIRECTIONS.has(attr.name)) sessionDirection = attr.name as SdpDirection;
        }
        break;
      }
      default:
        // i=, u=, e=, p=, b=, t=, r=, z=, k=: valid, nothing we use.
        break;
    }
  });

  if (version === undefined) throw new SdpParseError('missing v=', 0);
  if (!origin) throw new SdpParseError('missing o=', 0);
  if (sessionName === undefined) throw new SdpParseError('missing s=', 0);
  for (const m of media) {
    if (!m.connection && !sessionConnection && m.port !== 0) {
      throw new SdpParseError(`m=${m.type} has no connection address (no c= at session or media level)`, 0);
    }
  }
  return { version, origin, sessionName, connection: sessionConnection, attributes: sessionAttributes, direction: sessionDirection, media };
}

/** The address a media stream is sent to: its own c= or the session's. */
export function mediaConnection(sdp: SessionDescription, m: SdpMedia): SdpConnection | undefined {
  return m.connection ?? sdp.connection;
}

/** The media's direction, falling back to the session's, then sendrecv (RFC 3264 default). */
export function mediaDirection(sdp: SessionDescription, m: SdpMedia): SdpDirection {
  return m.direction ?? sdp.direction ?? 'sendrecv';
}

function parseConnection(value: string, n: number): SdpConnection {
  const f = value.split(' ');
  if (f.length !== 3) throw new SdpParseError('c= needs 3 fields', n);
  const [netType, addrType, spec] = f;
  if (netType !== 'IN') throw new SdpParseError(`unsupported network type ${netType}`, n);
  if (addrType !== 'IP4' && addrType !== 'IP6') throw new SdpParseError(`unsupported address type ${addrType}`, n);
  const parts = spec.split('/');
  const address = parts[0];
  if (addrType === 'IP4' ? !/^[0-9.]+$|^[A-Za-z0-9.-]+$/.test(address) : !/^[0-9A-Fa-f:.]+$|^[A-Za-z0-9.-]+$/.test(address)) {
    throw new SdpParseError(`invalid address ${JSON.stringify(address)}`, n);
  }
  const c: SdpConnection = { netType, addrType, address };
  const num = (s: string, max: number) => {
    if (!/^\d+$/.test(s) || Number(s) > max) throw new SdpParseError(`invalid number ${JSON.stringify(s)} in c=`, n);
    return Number(s);
  };
  if (addrType === 'IP4') {
    if (parts.length > 3) throw new SdpParseError('too many "/" in c=', n);
    if (parts.length >= 2) c.ttl = num(parts[1], 255);
    if (parts.length === 3) c.numAddresses = num(parts[2], 255);
    if (isMulticast(address) && /^[0-9.]+$/.test(address) && c.ttl === undefined) {
      throw new SdpParseError('IPv4 multicast connection needs a TTL', n);
    }
  } else {
    if (parts.length > 2) throw new SdpParseError('too many "/" in c=', n);
    if (parts.length === 2) c.numAddresses = num(parts[1], 255);
  }
  return c;
}

function parseMediaLine(value: string, n: number): SdpMedia {
  const f = value.split(' ');
  if (f.length < 4 || f.some((x) => x === '')) throw new SdpParseError('m= needs <media> <port> <proto> <fmt>...', n);
  const [type, portSpec, protocol, ...formats] = f;
  const pm = /^(\d+)(?:\/(\d+))?$/.exec(portSpec);
  if (!pm || Number(pm[1]) > 65535) throw new SdpParseError(`invalid port ${JSON.stringify(portSpec)}`, n);
  const rtp = protocol.includes('RTP/');
  if (rtp && formats.some((x) => !/^\d+$/.test(x) || Number(x) > 127)) {
    throw new SdpParseError(`invalid RTP payload type in ${JSON.stringify(formats.join(' '))}`, n);
  }
  return {
    type,
    port: Number(pm[1]),
    numPorts: pm[2] === undefined ? undefined : Number(pm[2]),
    protocol,
    formats,
    attributes: [],
    rtpmap: new Map(),
    fmtp: new Map(),
  };
}

function applyMediaAttribute(m: SdpMedia, a: SdpAttribute, n: number): void {
  if (a.value === undefined) {
    if (DIRECTIONS.has(a.name)) m.direction = a.name as SdpDirection;
    return;
  }
  switch (a.name) {
    case 'rtpmap': {
      const r = /^(\d+) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(a.value.trim());
      if (!r || Number(r[1]) > 127 || Number(r[3]) === 0) throw new SdpParseError(`invalid rtpmap ${JSON.stringify(a.value)}`, n);
      const pt = Number(r[1]);
      m.rtpmap.set(pt, { payloadType: pt, encodingName: r[2], clockRate: Number(r[3]), channels: r[4] === undefined ? undefined : Number(r[4]) });
      break;
    }
    case 'fmtp': {
      const r = /^(\d+) (.*)$/.exec(a.value);
      if (!r || Number(r[1]) > 127) throw new SdpParseError(`invalid fmtp ${JSON.stringify(a.value)}`, n);
      m.fmtp.set(Number(r[1]), r[2].trim());
      break;
    }
    case 'ptime': {
      if (!/^\d+(\.\d+)?$/.test(a.value.trim())) throw new SdpParseError(`invalid ptime ${JSON.stringify(a.value)}`, n);
      m.ptime = Number(a.value.trim());
      break;
    }
    default:
      break;
  }
}

/** RFC 3551 static audio payload types that offers often list without a=rtpmap. */
const STATIC_AUDIO: Readonly<Record<number, readonly [string, number]>> = {
  0: ['PCMU', 8000],
  3: ['GSM', 8000],
  8: ['PCMA', 8000],
  9: ['G722', 8000],
  18: ['G729', 8000],
};

/** The rtpmap of a payload type: the a=rtpmap line, else the static RFC 3551 assignment. */
export function rtpmapFor(m: SdpMedia, payloadType: number): SdpRtpMap | undefined {
  const explicit = m.rtpmap.get(payloadType);
  if (explicit) return explicit;
  const s = STATIC_AUDIO[payloadType];
  return s && m.formats.includes(String(payloadType)) ? { payloadType, encodingName: s[0], clockRate: s[1] } : undefined;
}
