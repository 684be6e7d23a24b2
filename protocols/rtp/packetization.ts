/**
 * How many RTP packets carry one 20 ms frame, so that no datagram is larger
 * than an Ethernet MTU: 1500 bytes of IPv4 (20) + UDP (8) + RTP (12) +
 * payload. Fragmented UDP loses the whole packet when one fragment is lost,
 * and many loudspeaker networks (4G, VPN) carry less than 1500.
 *
 * Sample codecs (L16, G.711) split at sample boundaries; Opus frames are at
 * most 1275 bytes (RFC 6716 §3.4) and always fit. L16 at 48 kHz mono is 1920
 * bytes per 20 ms (a 1960-byte IP packet): it goes as 2 packets of 10 ms
 * (960 bytes, a 1000-byte IP packet), and its SDP says a=ptime:10.
 *
 * The packets of one frame carry consecutive sequence numbers and the first
 * one's is a multiple of the count (the sender starts on a multiple and every
 * frame sends the same count; 65536 is a multiple of any power of two), so a
 * receiver that plays whole frames knows from any single packet which frame
 * and which part it is — across sequence wrap, loss and reordering.
 */
import type { CodecInfo } from '../../codecs/codec.js';
import { RTP_HEADER_BYTES } from './packet.js';

export const MAX_IP_PACKET_BYTES = 1500;
export const IPV4_UDP_HEADER_BYTES = 28;
/** The largest RTP payload that fits one IPv4 packet of MAX_IP_PACKET_BYTES: 1460. */
export const MAX_RTP_PAYLOAD_BYTES = MAX_IP_PACKET_BYTES - IPV4_UDP_HEADER_BYTES - RTP_HEADER_BYTES;
/** Loa's frame: every codec is encoded in 20 ms frames. */
export const FRAME_PTIME_MS = 20;

/** Bytes per sample per channel of codecs whose payload can be cut anywhere between samples. */
const SAMPLE_BYTES: Partial<Record<CodecInfo['name'], number>> = { l16: 2, pcmu: 1, pcma: 1 };

/** Payload bytes of one 20 ms frame of a sample codec; undefined for frame codecs (Opus). */
export function frameBytes(codec: CodecInfo): number | undefined {
  const b = SAMPLE_BYTES[codec.name];
  return b === undefined ? undefined : codec.timestampStep * b * codec.sdpChannels;
}

/** RTP packets per 20 ms frame: the smallest power of two whose parts each fit MAX_RTP_PAYLOAD_BYTES. */
export function packetsPerFrame(codec: CodecInfo): number {
  const bytes = frameBytes(codec);
  if (bytes === undefined) return 1;
  let n = 1;
  while (Math.ceil(bytes / n) > MAX_RTP_PAYLOAD_BYTES && codec.timestampStep % (n * 2) === 0) n *= 2;
  return n;
}

/** Packet duration in ms, for a=ptime. */
export function packetPtimeMs(codec: CodecInfo): number {
  return FRAME_PTIME_MS / packetsPerFrame(codec);
}
