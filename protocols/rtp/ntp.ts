/**
 * NTP 64-bit timestamps (RFC 5905): 32-bit seconds since 1900-01-01 and a
 * 32-bit binary fraction. RTCP sender reports carry them; LSR/DLSR carry the
 * middle 32 bits ("NTP short", 16.16 fixed point).
 */

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;

const TWO_32 = 0x1_0000_0000;

export interface NtpTime {
  /** Seconds since 1900, modulo 2^32 (era 1 starts in February 2036). */
  seconds: number;
  /** Fraction of a second in units of 2^-32 s. */
  fraction: number;
}

/** Unix milliseconds (may be fractional) to NTP seconds and fraction. */
export function msToNtp(ms: number): NtpTime {
  const unixSeconds = Math.floor(ms / 1000);
  const restMs = ms - unixSeconds * 1000;
  // Floor, never round: a fraction of 2^32 would overflow into the seconds.
  const fraction = Math.min(TWO_32 - 1, Math.floor((restMs / 1000) * TWO_32));
  const seconds = (unixSeconds + NTP_UNIX_OFFSET_S) % TWO_32;
  return { seconds: seconds < 0 ? seconds + TWO_32 : seconds, fraction };
}

/**
 * NTP seconds and fraction back to Unix milliseconds. Seconds with the top
 * bit clear are taken as era 1 (2036-2104), as RFC 4330 §3 suggests, so the
 * result is right from 1968 to 2104.
 */
export function ntpToMs(seconds: number, fraction: number): number {
  const s = seconds >>> 0;
  const fullSeconds = s < 0x8000_0000 ? s + TWO_32 : s;
  return (fullSeconds - NTP_UNIX_OFFSET_S) * 1000 + ((fraction >>> 0) / TWO_32) * 1000;
}

/** The middle 32 bits of an NTP timestamp (16.16 seconds), as in LSR. */
export function ntpShort(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/** NTP short of a Unix time in milliseconds. */
export function msToNtpShort(ms: number): number {
  const t = msToNtp(ms);
  return ntpShort(t.seconds, t.fraction);
}

/** A duration in milliseconds as 16.16 seconds (DLSR units, 1/65536 s), saturating. */
export function msToNtpShortDuration(ms: number): number {
  if (!(ms > 0)) return 0;
  return Math.min(0xffff_ffff, Math.round((ms / 1000) * 65536));
}

/** A 16.16 duration (DLSR, or a difference of NTP shorts) in milliseconds. */
export function ntpShortDurationToMs(v: number): number {
  return ((v >>> 0) / 65536) * 1000;
}

/**
 * Round-trip time from a report block (RFC 3550 §6.4.1): arrival time of the
 * report (as NTP short) minus LSR minus DLSR, in milliseconds. Undefined when
 * the block carries no LSR (the peer has not seen our sender report yet).
 */
export function roundTripMs(arrivalNtpShort: number, lsr: number, dlsr: number): number | undefined {
  if (lsr === 0) return undefined;
  const rtt = (arrivalNtpShort - lsr - dlsr) | 0; // wraps like every 16.16 value
  return rtt < 0 ? 0 : ntpShortDurationToMs(rtt);
}
