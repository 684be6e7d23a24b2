/**
 * L16 (RFC 3551 §4.5.11): signed 16-bit linear PCM in network byte order
 * (big-endian). Loa sends it at 48 kHz mono, 960 samples (1920 bytes) per 20 ms.
 */

/** Writes pcm16 big-endian into out[0..2n). Returns the byte count written. */
export function encodeL16(pcm16: Int16Array, out: Uint8Array): number {
  const n = pcm16.length;
  if (out.length < n * 2) throw new RangeError(`L16: output holds ${out.length} bytes, ${n * 2} needed`);
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    const s = pcm16[i];
    out[j] = (s >> 8) & 0xff;
    out[j + 1] = s & 0xff;
  }
  return n * 2;
}

/**
 * Reads big-endian samples from buf into out. An odd trailing byte is ignored
 * (it cannot be half a sample of a well-formed payload). Returns the sample count.
 */
export function decodeL16(buf: Uint8Array, out: Int16Array): number {
  const n = buf.length >> 1;
  if (out.length < n) throw new RangeError(`L16: output holds ${out.length} samples, ${n} needed`);
  for (let i = 0, j = 0; i < n; i++, j += 2) {
    out[i] = ((buf[j] << 24) >> 16) | buf[j + 1];
  }
  return n;
}
