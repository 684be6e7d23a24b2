import type { Frame } from './pcm.js';

/** Codecs a zone stream can be encoded in. Names are the lower-case SDP names (Opus, G.711 μ/A-law, L16). */
export type CodecName = 'opus' | 'pcmu' | 'pcma' | 'l16';
export const CODEC_NAMES: readonly CodecName[] = ['opus', 'pcmu', 'pcma', 'l16'];

/** What an RTP stream needs to know about a codec. */
export interface CodecInfo {
  readonly name: CodecName;
  /** SDP encoding name as it appears in a=rtpmap (upper case where RFCs use it). */
  readonly encodingName: string;
  /** RTP clock rate (8000 for G.711, 48000 for Opus/L16 here). */
  readonly clockRate: number;
  /** Static or dynamic RTP payload type used by Loa. */
  readonly payloadType: number;
  /** RTP timestamp increment per 20 ms frame. */
  readonly timestampStep: number;
  /** Channels announced in SDP (Opus is always announced as /2 per RFC 7587). */
  readonly sdpChannels: number;
}

/**
 * Encodes 48 kHz mono frames. One instance per zone stream and codec: the
 * output is shared by every endpoint of that stream, never re-encoded per endpoint.
 * The returned buffer may be a view into an internal buffer that is only valid
 * until the next call (no allocation on the hot path).
 */
export interface AudioEncoder extends CodecInfo {
  encode(frame: Frame): Buffer;
  close(): void;
}

/** Decodes one RTP payload back to a 48 kHz mono frame (960 samples). */
export interface AudioDecoder extends CodecInfo {
  decode(payload: Buffer): Frame;
  /** A frame to play in place of a lost packet (PLC for Opus, fade-to-silence otherwise). */
  conceal(): Frame;
  close(): void;
}
