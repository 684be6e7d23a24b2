/**
 * RTP fixed header and packet parsing (RFC 3550 §5.1).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |V=2|P|X|  CC   |M|     PT      |       sequence number         |
 * |                           timestamp                           |
 * |           synchronization source (SSRC) identifier            |
 * |            contributing source (CSRC) identifiers             | x CC
 * | extension profile             | extension length (words)      | if X
 * | payload ... | padding ... | padding count |                     if P
 */

export const RTP_HEADER_BYTES = 12;
export const RTP_VERSION = 2;

/** What a sender writes per packet. */
export interface RtpHeader {
  /** 0-127. */
  payloadType: number;
  /** 16-bit sequence number. */
  sequence: number;
  /** 32-bit media timestamp. */
  timestamp: number;
  /** 32-bit synchronization source. */
  ssrc: number;
  marker: boolean;
}

export interface RtpHeaderExtension {
  /** The 16-bit "defined by profile" field (0xBEDE for RFC 8285 one-byte headers). */
  profile: number;
  /** Extension body (a view into the packet), length a multiple of 4. */
  data: Buffer;
}

export interface RtpPacket extends RtpHeader {
  version: number;
  padding: boolean;
  extension: boolean;
  csrcCount: number;
  csrc: number[];
  headerExtension?: RtpHeaderExtension;
  /** The payload without padding: a view into the parsed buffer, not a copy. */
  payload: Buffer;
  /** Number of padding octets removed from the end (0 when no padding). */
  paddingBytes: number;
}

export type RtpParseReason =
  | 'too-short'
  | 'bad-version'
  | 'bad-padding'
  | 'bad-csrc'
  | 'bad-extension';

/** Thrown by parseRtp for malformed, truncated or hostile input. */
export class RtpParseError extends Error {
  override readonly name = 'RtpParseError';
  constructor(
    readonly reason: RtpParseReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Writes the 12-byte fixed header (V=2, no padding, no extension, no CSRC)
 * into buf at offset. Returns the number of bytes written. Allocates nothing.
 */
export function writeRtpHeader(buf: Buffer, offset: number, h: RtpHeader): number {
  if (offset < 0 || offset + RTP_HEADER_BYTES > buf.length) {
    throw new RangeError(`RTP header does not fit at offset ${offset} of a ${buf.length}-byte buffer`);
  }
  buf[offset] = RTP_VERSION << 6;
  buf[offset + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequence & 0xffff, offset + 2);
  buf.writeUInt32BE(h.timestamp >>> 0, offset + 4);
  buf.writeUInt32BE(h.ssrc >>> 0, offset + 8);
  return RTP_HEADER_BYTES;
}

/** Parses one RTP packet. The payload (and extension data) are views into buf. */
export function parseRtp(buf: Buffer): RtpPacket {
  const len = buf.length;
  if (len < RTP_HEADER_BYTES) {
    throw new RtpParseError('too-short', `RTP packet of ${len} bytes is shorter than the 12-byte header`);
  }
  const b0 = buf[0];
  const version = b0 >> 6;
  if (version !== RTP_VERSION) throw new RtpParseError('bad-version', `RTP version ${version}, expected 2`);
  const padding = (b0 & 0x20) !== 0;
  const extension = (b0 & 0x10) !== 0;
  const csrcCount = b0 & 0x0f;
  const b1 = buf[1];

  let offset = RTP_HEADER_BYTES;
  if (offset + csrcCount * 4 > len) {
    throw new RtpParseError('bad-csrc', `${csrcCount} CSRCs do not fit in ${len} bytes`);
  }
  const csrc: number[] = [];
  for (let i = 0; i < csrcCount; i++, offset += 4) csrc.push(buf.readUInt32BE(offset));

  let headerExtension: RtpHeaderExtension | undefined;
  if (extension) {
    if (offset + 4 > len) throw new RtpParseError('bad-extension', 'RTP header extension header is truncated');
    const profile = buf.readUInt16BE(offset);
    const bytes = buf.readUInt16BE(offset + 2) * 4;
    offset += 4;
    if (offset + bytes > len) {
      throw new RtpParseError('bad-extension', `RTP header extension of ${bytes} bytes does not fit`);
    }
    headerExtension = { profile, data: buf.subarray(offset, offset + bytes) };
    offset += bytes;
  }

  let end = len;
  let paddingBytes = 0;
  if (padding) {
    paddingBytes = buf[len - 1];
    // The count includes itself, so 0 is invalid; it may not eat into the header.
    if (paddingBytes === 0 || offset + paddingBytes > len) {
      throw new RtpParseError('bad-padding', `RTP padding count ${paddingBytes} is invalid for ${len - offset} bytes after the header`);
    }
    end = len - paddingBytes;
  }

  return {
    version,
    padding,
    extension,
    csrcCount,
    marker: (b1 & 0x80) !== 0,
    payloadType: b1 & 0x7f,
    sequence: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrc,
    headerExtension,
    payload: buf.subarray(offset, end),
    paddingBytes,
  };
}

/**
 * RTP/RTCP demultiplexing on one port (RFC 5761 §4): RTCP packet types
 * 192-223 sit where RTP would have marker set and payload type 64-95, a range
 * RTP must not use when multiplexed.
 */
export function isRtcp(buf: Buffer): boolean {
  if (buf.length < 2 || buf[0] >> 6 !== RTP_VERSION) return false;
  const pt = buf[1];
  return pt >= 192 && pt <= 223;
}
