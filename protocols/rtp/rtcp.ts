/**
 * RTCP (RFC 3550 §6): sender and receiver reports, SDES, BYE, APP, and
 * compound packets. Builders write into a caller's buffer when given one (no
 * allocation on the periodic report path); the parser rejects malformed input
 * with RtcpParseError and a reason code.
 */
import { ntpToMs, msToNtp } from './ntp.js';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_APP = 204;

export const SDES_END = 0;
export const SDES_CNAME = 1;

const REPORT_BLOCK_BYTES = 24;
const MAX_COUNT = 31;

/** One reception report block (RFC 3550 §6.4.1). */
export interface ReportBlock {
  /** SSRC of the source this block reports on. */
  ssrc: number;
  /** Fraction of packets lost since the previous report, 8-bit fixed point (0-255 = 0-255/256). */
  fractionLost: number;
  /** Packets lost since the beginning, 24-bit signed (duplicates can make it negative). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | seq), 32 bits. */
  extendedHighestSeq: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received, 0 if none. */
  lsr: number;
  /** Delay since that SR was received, in 1/65536 s, 0 if none. */
  dlsr: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  /** The NTP timestamp as Unix milliseconds. */
  ntpMs: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
}

export interface SdesItem {
  /** 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC, 6 TOOL, 7 NOTE, 8 PRIV. */
  type: number;
  value: string;
}

export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
  /** The CNAME item's value, when present. */
  cname?: string;
}

export interface SourceDescription {
  type: 'sdes';
  chunks: SdesChunk[];
}

export interface Goodbye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

export interface AppPacket {
  type: 'app';
  subtype: number;
  ssrc: number;
  name: string;
  data: Buffer;
}

/** Any packet type we do not interpret (RTPFB, PSFB, XR...): kept raw. */
export interface OtherRtcp {
  type: 'other';
  packetType: number;
  count: number;
  /** Body after the 4-byte common header, padding removed (a view). */
  body: Buffer;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | AppPacket | OtherRtcp;

export type RtcpParseReason =
  | 'too-short'
  | 'bad-version'
  | 'bad-length'
  | 'bad-padding'
  | 'bad-count'
  | 'bad-sdes'
  | 'bad-bye'
  | 'bad-app';

export class RtcpParseError extends Error {
  override readonly name = 'RtcpParseError';
  constructor(
    readonly reason: RtcpParseReason,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- building

export interface SenderReportInput {
  ssrc: number;
  /** Wall-clock time (Unix ms) that corresponds to rtpTimestamp. */
  ntpMs: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports?: ReportBlock[];
  /** When given, an SDES CNAME chunk follows the SR in the same compound packet. */
  cname?: string;
}

export interface ReceiverReportInput {
  ssrc: number;
  reports: ReportBlock[];
  cname?: string;
}

export interface SdesChunkInput {
  ssrc: number;
  cname?: string;
  /** Further items (NAME, TOOL...), written after the CNAME. */
  items?: SdesItem[];
}

export interface ByeInput {
  ssrcs: number[];
  reason?: string;
}

/** Builds SR [+ SDES CNAME] as one compound packet, into out when it is given. */
export function buildSenderReport(input: SenderReportInput, out?: Buffer): Buffer {
  const reports = input.reports ?? [];
  checkCount(reports.length, 'report blocks');
  const srBytes = 28 + REPORT_BLOCK_BYTES * reports.length;
  const sdes = input.cname === undefined ? undefined : [{ ssrc: input.ssrc, cname: input.cname }];
  const total = srBytes + (sdes ? sdesBytes(sdes) : 0);
  const buf = target(out, total);
  writeCommonHeader(buf, 0, reports.length, RTCP_SR, srBytes);
  buf.writeUInt32BE(input.ssrc >>> 0, 4);
  const ntp = msToNtp(input.ntpMs);
  buf.writeUInt32BE(ntp.seconds, 8);
  buf.writeUInt32BE(ntp.fraction, 12);
  buf.writeUInt32BE(input.rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(input.packetCount >>> 0, 20);
  buf.writeUInt32BE(input.octetCount >>> 0, 24);
  let offset = 28;
  for (const r of reports) offset = writeReportBlock(buf, offset, r);
  if (sdes) writeSdes(buf, offset, sdes);
  return buf;
}

/** Builds RR [+ SDES CNAME] as one compound packet, into out when it is given. */
export function buildReceiverReport(input: ReceiverReportInput, out?: Buffer): Buffer {
  checkCount(input.reports.length, 'report blocks');
  const rrBytes = 8 + REPORT_BLOCK_BYTES * input.reports.length;
  const sdes = input.cname === undefined ? undefined : [{ ssrc: input.ssrc, cname: input.cname }];
  const total = rrBytes + (sdes ? sdesBytes(sdes) : 0);
  const buf = target(out, total);
  writeCommonHeader(buf, 0, input.reports.length, RTCP_RR, rrBytes);
  buf.writeUInt32BE(input.ssrc >>> 0, 4);
  let offset = 8;
  for (const r of input.reports) offset = writeReportBlock(buf, offset, r);
  if (sdes) writeSdes(buf, offset, sdes);
  return buf;
}

/** Builds one SDES packet. */
export function buildSdes(chunks: SdesChunkInput[], out?: Buffer): Buffer {
  checkCount(chunks.length, 'SDES chunks');
  const buf = target(out, sdesBytes(chunks));
  writeSdes(buf, 0, chunks);
  return buf;
}

/** Builds one BYE packet. */
export function buildBye(input: ByeInput, out?: Buffer): Buffer {
  checkCount(input.ssrcs.length, 'BYE sources');
  const reason = input.reason === undefined ? undefined : Buffer.from(input.reason, 'utf8');
  if (reason && reason.length > 255) throw new RangeError('BYE reason longer than 255 bytes');
  const bytes = 4 + 4 * input.ssrcs.length + (reason ? pad4(1 + reason.length) : 0);
  const buf = target(out, bytes);
  writeCommonHeader(buf, 0, input.ssrcs.length, RTCP_BYE, bytes);
  let offset = 4;
  for (const s of input.ssrcs) {
    buf.writeUInt32BE(s >>> 0, offset);
    offset += 4;
  }
  if (reason) {
    buf[offset] = reason.length;
    reason.copy(buf, offset + 1);
    buf.fill(0, offset + 1 + reason.length, bytes);
  }
  return buf;
}

/** Concatenates RTCP packets into one compound packet (first one should be SR or RR). */
export function buildCompound(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

function target(out: Buffer | undefined, bytes: number): Buffer {
  if (!out) return Buffer.alloc(bytes);
  if (out.length < bytes) throw new RangeError(`RTCP packet needs ${bytes} bytes, buffer has ${out.length}`);
  return out.subarray(0, bytes);
}

function checkCount(n: number, what: string): void {
  if (n > MAX_COUNT) throw new RangeError(`at most ${MAX_COUNT} ${what} fit in one RTCP packet, got ${n}`);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

function writeCommonHeader(buf: Buffer, offset: number, count: number, packetType: number, bytes: number): void {
  buf[offset] = 0x80 | (count & 0x1f);
  buf[offset + 1] = packetType;
  buf.writeUInt16BE(bytes / 4 - 1, offset + 2);
}

function writeReportBlock(buf: Buffer, offset: number, r: ReportBlock): number {
  buf.writeUInt32BE(r.ssrc >>> 0, offset);
  buf[offset + 4] = Math.max(0, Math.min(255, Math.floor(r.fractionLost)));
  const lost = Math.max(-0x80_0000, Math.min(0x7f_ffff, Math.trunc(r.cumulativeLost)));
  buf.writeUIntBE(lost & 0xff_ffff, offset + 5, 3);
  buf.writeUInt32BE(r.extendedHighestSeq >>> 0, offset + 8);
  buf.writeUInt32BE(Math.max(0, Math.min(0xffff_ffff, Math.floor(r.jitter))), offset + 12);
  buf.writeUInt32BE(r.lsr >>> 0, offset + 16);
  buf.writeUInt32BE(r.dlsr >>> 0, offset + 20);
  return offset + REPORT_BLOCK_BYTES;
}

function sdesItems(chunk: SdesChunkInput): SdesItem[] {
  const items: SdesItem[] = [];
  if (chunk.cname !== undefined) items.push({ type: SDES_CNAME, value: chunk.cname });
  if (chunk.items) items.push(...chunk.items);
  return items;
}

function chunkBytes(chunk: SdesChunkInput): number {
  let n = 4;
  for (const item of sdesItems(chunk)) {
    const len = Buffer.byteLength(item.value, 'utf8');
    if (len > 255) throw new RangeError(`SDES item of ${len} bytes is longer than 255`);
    if (item.type < 1 || item.type > 255) throw new RangeError(`SDES item type ${item.type} is invalid`);
    n += 2 + len;
  }
  return pad4(n + 1); // at least one null octet ends the item list
}

function sdesBytes(chunks: SdesChunkInput[]): number {
  let n = 4;
  for (const c of chunks) n += chunkBytes(c);
  return n;
}

function writeSdes(buf: Buffer, offset: number, chunks: SdesChunkInput[]): number {
  const bytes = sdesBytes(chunks);
  writeCommonHeader(buf, offset, chunks.length, RTCP_SDES, bytes);
  let o = offset + 4;
  for (const c of chunks) {
    const end = o + chunkBytes(c);
    buf.writeUInt32BE(c.ssrc >>> 0, o);
    o += 4;
    for (const item of sdesItems(c)) {
      buf[o] = item.type;
      const len = buf.write(item.value, o + 2, 'utf8');
      buf[o + 1] = len;
      o += 2 + len;
    }
    buf.fill(0, o, end);
    o = end;
  }
  return o;
}

// ----------------------------------------------------------------- parsing

/**
 * Parses a compound (or single) RTCP packet. Checks (RFC 3550 A.2): version 2
 * everywhere, lengths that add up to exactly the datagram, padding only on
 * the last packet, counts that fit their packet. Does not insist on SR/RR
 * first, so reduced-size RTCP (RFC 5506) parses too.
 */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  if (buf.length < 4) throw new RtcpParseError('too-short', `RTCP datagram of ${buf.length} bytes`);
  const packets: RtcpPacket[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (buf.length - offset < 4) throw new RtcpParseError('bad-length', 'trailing bytes after the last RTCP packet');
    const b0 = buf[offset];
    if (b0 >> 6 !== 2) throw new RtcpParseError('bad-version', `RTCP version ${b0 >> 6}, expected 2`);
    const count = b0 & 0x1f;
    const packetType = buf[offset + 1];
    const bytes = (buf.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + bytes > buf.length) {
      throw new RtcpParseError('bad-length', `RTCP packet of ${bytes} bytes overruns the ${buf.length}-byte datagram`);
    }
    let end = offset + bytes;
    if (b0 & 0x20) {
      if (end !== buf.length) throw new RtcpParseError('bad-padding', 'padding on an RTCP packet that is not the last');
      const padding = buf[end - 1];
      if (padding === 0 || padding > bytes - 4) throw new RtcpParseError('bad-padding', `RTCP padding count ${padding} is invalid`);
      end -= padding;
    }
    packets.push(parseOne(buf.subarray(offset, end), count, packetType));
    offset += bytes;
  }
  return packets;
}

function parseOne(p: Buffer, count: number, packetType: number): RtcpPacket {
  switch (packetType) {
    case RTCP_SR: {
      if (p.length < 28 + REPORT_BLOCK_BYTES * count) {
        throw new RtcpParseError('bad-count', `SR with ${count} report blocks does not fit in ${p.length} bytes`);
      }
      const ntpSeconds = p.readUInt32BE(8);
      const ntpFraction = p.readUInt32BE(12);
      return {
        type: 'sr',
        ssrc: p.readUInt32BE(4),
        ntpSeconds,
        ntpFraction,
        ntpMs: ntpToMs(ntpSeconds, ntpFraction),
        rtpTimestamp: p.readUInt32BE(16),
        packetCount: p.readUInt32BE(20),
        octetCount: p.readUInt32BE(24),
        reports: readReportBlocks(p, 28, count),
      };
    }
    case RTCP_RR: {
      if (p.length < 8 + REPORT_BLOCK_BYTES * count) {
        throw new RtcpParseError('bad-count', `RR with ${count} report blocks does not fit in ${p.length} bytes`);
      }
      return { type: 'rr', ssrc: p.readUInt32BE(4), reports: readReportBlocks(p, 8, count) };
    }
    case RTCP_SDES:
      return { type: 'sdes', chunks: readSdesChunks(p, count) };
    case RTCP_BYE: {
      if (p.length < 4 + 4 * count) throw new RtcpParseError('bad-bye', `BYE with ${count} sources does not fit`);
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(p.readUInt32BE(4 + 4 * i));
      let reason: string | undefined;
      const o = 4 + 4 * count;
      if (o < p.length) {
        const len = p[o];
        if (o + 1 + len > p.length) throw new RtcpParseError('bad-bye', 'BYE reason overruns the packet');
        reason = p.toString('utf8', o + 1, o + 1 + len);
      }
      return { type: 'bye', ssrcs, reason };
    }
    case RTCP_APP: {
      if (p.length < 12) throw new RtcpParseError('bad-app', 'APP packet shorter than 12 bytes');
      return { type: 'app', subtype: count, ssrc: p.readUInt32BE(4), name: p.toString('latin1', 8, 12), data: p.subarray(12) };
    }
    default:
      return { type: 'other', packetType, count, body: p.subarray(4) };
  }
}

function readReportBlocks(p: Buffer, offset: number, count: number): ReportBlock[] {
  const blocks: ReportBlock[] = [];
  for (let i = 0; i < count; i++, offset += REPORT_BLOCK_BYTES) {
    blocks.push({
      ssrc: p.readUInt32BE(offset),
      fractionLost: p[offset + 4],
      cumulativeLost: (p.readUIntBE(offset + 5, 3) << 8) >> 8,
      extendedHighestSeq: p.readUInt32BE(offset + 8),
      jitter: p.readUInt32BE(offset + 12),
      lsr: p.readUInt32BE(offset + 16),
      dlsr: p.readUInt32BE(offset + 20),
    });
  }
  return blocks;
}

function readSdesChunks(p: Buffer, count: number): SdesChunk[] {
  const chunks: SdesChunk[] = [];
  let o = 4;
  for (let c = 0; c < count; c++) {
    if (o + 4 > p.length) throw new RtcpParseError('bad-sdes', `SDES chunk ${c} is truncated`);
    const chunk: SdesChunk = { ssrc: p.readUInt32BE(o), items: [] };
    o += 4;
    for (;;) {
      if (o >= p.length) throw new RtcpParseError('bad-sdes', 'SDES item list has no terminating null octet');
      const type = p[o];
      if (type === SDES_END) {
        o = (o + 4) & ~3; // the null octet(s) pad the chunk to a 32-bit boundary
        break;
      }
      if (o + 2 > p.length || o + 2 + p[o + 1] > p.length) throw new RtcpParseError('bad-sdes', 'SDES item overruns the packet');
      const value = p.toString('utf8', o + 2, o + 2 + p[o + 1]);
      chunk.items.push({ type, value });
      if (type === SDES_CNAME && chunk.cname === undefined) chunk.cname = value;
      o += 2 + p[o + 1];
    }
    if (o > p.length) throw new RtcpParseError('bad-sdes', 'SDES chunk padding overruns the packet');
    chunks.push(chunk);
  }
  return chunks;
}

export { ReceptionStats } from './reception-stats.js';
export type { ReceptionStatsSnapshot } from './reception-stats.js';
