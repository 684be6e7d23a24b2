/**
 * The UDP keepalive a speaker agent sends to the server's media port every few
 * seconds, from the same socket it receives RTP on. It keeps NAT/4G/CGNAT
 * bindings open and tells the media worker the agent's public address: the
 * worker sends RTP to wherever the keepalive carrying a session's mediaToken
 * came from.
 *
 * Layout (5 + N bytes):
 *   0..2  magic 'l' 'o' 'a' (0x6C 0x6F 0x61)
 *   3     version (1)
 *   4     N = token length (1..64)
 *   5..   token, ASCII [A-Za-z0-9_-]
 *
 * Demux rule for one UDP port shared by RTP, RTCP and keepalives (after RFC 7983):
 *   first byte 128..191 → RTP or RTCP (then second byte 192..223 → RTCP, RFC 5761)
 *   first byte 0x6C     → Loa media keepalive (0x6C lies in 80..127, unassigned by
 *                          RFC 7983, so it never collides with STUN 0..3, ZRTP 16..19,
 *                          DTLS 20..63, TURN channels 64..79 or RTP)
 *   anything else       → drop (count it)
 */
export const KEEPALIVE_MAGIC_0 = 0x6c;
export const KEEPALIVE_VERSION = 1;
export const KEEPALIVE_HEADER_BYTES = 5;
export const MAX_MEDIA_TOKEN_LENGTH = 64;
export const MAX_KEEPALIVE_BYTES = KEEPALIVE_HEADER_BYTES + MAX_MEDIA_TOKEN_LENGTH;

export type DatagramKind = 'rtp' | 'rtcp' | 'keepalive' | 'unknown';

/** Classifies one datagram received on a shared media port by its first bytes only. */
export function classifyDatagram(buf: Uint8Array): DatagramKind {
  if (buf.length < 2) return 'unknown';
  const b0 = buf[0];
  if (b0 >= 128 && b0 <= 191) {
    const pt = buf[1];
    return pt >= 192 && pt <= 223 ? 'rtcp' : 'rtp';
  }
  if (b0 === KEEPALIVE_MAGIC_0) return 'keepalive';
  return 'unknown';
}

function isTokenChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x5f
  );
}

/** Writes a keepalive into `out` (at least MAX_KEEPALIVE_BYTES long); returns its length. */
export function writeMediaKeepalive(out: Buffer, mediaToken: string): number {
  const n = mediaToken.length;
  if (n < 1 || n > MAX_MEDIA_TOKEN_LENGTH) throw new RangeError(`media token length ${n} not in 1..${MAX_MEDIA_TOKEN_LENGTH}`);
  out[0] = 0x6c;
  out[1] = 0x6f;
  out[2] = 0x61;
  out[3] = KEEPALIVE_VERSION;
  out[4] = n;
  for (let i = 0; i < n; i++) {
    const c = mediaToken.charCodeAt(i);
    if (!isTokenChar(c)) throw new RangeError('media token must be [A-Za-z0-9_-]');
    out[KEEPALIVE_HEADER_BYTES + i] = c;
  }
  return KEEPALIVE_HEADER_BYTES + n;
}

export function buildMediaKeepalive(mediaToken: string): Buffer {
  const out = Buffer.allocUnsafe(KEEPALIVE_HEADER_BYTES + mediaToken.length);
  writeMediaKeepalive(out, mediaToken);
  return out;
}

export type KeepaliveParseResult = { ok: true; mediaToken: string } | { ok: false; reason: string };

/** Parses a keepalive; never throws. */
export function parseMediaKeepalive(buf: Uint8Array): KeepaliveParseResult {
  if (buf.length < KEEPALIVE_HEADER_BYTES) return { ok: false, reason: 'truncated' };
  if (buf[0] !== 0x6c || buf[1] !== 0x6f || buf[2] !== 0x61) return { ok: false, reason: 'bad-magic' };
  if (buf[3] !== KEEPALIVE_VERSION) return { ok: false, reason: `unsupported-version: ${buf[3]}` };
  const n = buf[4];
  if (n < 1 || n > MAX_MEDIA_TOKEN_LENGTH) return { ok: false, reason: 'bad-token-length' };
  if (buf.length !== KEEPALIVE_HEADER_BYTES + n) return { ok: false, reason: 'length-mismatch' };
  for (let i = 0; i < n; i++) if (!isTokenChar(buf[KEEPALIVE_HEADER_BYTES + i])) return { ok: false, reason: 'bad-token-char' };
  return { ok: true, mediaToken: Buffer.from(buf.buffer, buf.byteOffset + KEEPALIVE_HEADER_BYTES, n).toString('latin1') };
}
