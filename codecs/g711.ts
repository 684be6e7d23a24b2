/**
 * ITU-T G.711 companding: μ-law (PCMU) and A-law (PCMA), 8 bits per sample.
 *
 * Linear samples are int16. μ-law works on a 14-bit magnitude (int16 / 4),
 * A-law on a 13-bit one (int16 / 8); decoded values are scaled back to int16,
 * so μ-law spans ±32124 and A-law ±32256.
 *
 * The per-sample functions use lookup tables built once at module load
 * (64 KiB per law for encoding, 256 entries for decoding); the buffer
 * functions are plain table loops with no allocation.
 */

const MULAW_BIAS = 0x84; // 33 in the 14-bit domain, scaled to int16 (33 * 4)
const MULAW_CLIP = 32635; // 32767 - 132: the largest magnitude that still fits after the bias

/** Bit-level μ-law encoder, used only to fill the table. */
function computeMulaw(sample: number): number {
  let sign = 0;
  let magnitude = sample;
  if (magnitude < 0) {
    sign = 0x80;
    magnitude = -magnitude;
  }
  if (magnitude > MULAW_CLIP) magnitude = MULAW_CLIP;
  magnitude += MULAW_BIAS;
  // Segment = position of the highest set bit above bit 7 (bias guarantees bit 7 or higher is set).
  let segment = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && segment > 0; mask >>= 1) segment--;
  const step = (magnitude >> (segment + 3)) & 0x0f;
  // G.711 transmits μ-law with all bits inverted: 0xFF is +0, 0x80 is the largest positive value.
  return ~(sign | (segment << 4) | step) & 0xff;
}

function computeMulawDecode(code: number): number {
  const c = ~code & 0xff;
  const segment = (c >> 4) & 0x07;
  const step = c & 0x0f;
  const magnitude = (((step << 3) + MULAW_BIAS) << segment) - MULAW_BIAS;
  return c & 0x80 ? -magnitude : magnitude;
}

/** Bit-level A-law encoder, used only to fill the table. */
function computeAlaw(sample: number): number {
  let sign = 0x80; // A-law: sign bit set means positive
  let magnitude = sample;
  if (magnitude < 0) {
    sign = 0;
    magnitude = -magnitude;
  }
  magnitude >>= 3; // 16-bit → 13-bit (12-bit magnitude, 0..4096)
  if (magnitude > 0x0fff) magnitude = 0x0fff;
  let code: number;
  if (magnitude < 32) {
    code = magnitude >> 1; // segment 0: linear, step 2
  } else {
    let segment = 1;
    while (magnitude >= 64 << (segment - 1) && segment < 7) segment++;
    code = (segment << 4) | ((magnitude >> segment) & 0x0f);
  }
  // G.711 inverts the even bits of A-law (XOR 0x55).
  return (sign | code) ^ 0x55;
}

function computeAlawDecode(code: number): number {
  const c = code ^ 0x55;
  const segment = (c >> 4) & 0x07;
  const step = c & 0x0f;
  let magnitude: number;
  if (segment === 0) magnitude = (step << 1) + 1;
  else magnitude = ((step << 1) + 33) << (segment - 1);
  magnitude <<= 3;
  return c & 0x80 ? magnitude : -magnitude;
}

// Encode tables are indexed by the int16 sample's unsigned 16-bit pattern.
const MULAW_ENCODE = new Uint8Array(65536);
const ALAW_ENCODE = new Uint8Array(65536);
const MULAW_DECODE = new Int16Array(256);
const ALAW_DECODE = new Int16Array(256);

for (let i = 0; i < 65536; i++) {
  const s = (i << 16) >> 16;
  MULAW_ENCODE[i] = computeMulaw(s);
  ALAW_ENCODE[i] = computeAlaw(s);
}
for (let c = 0; c < 256; c++) {
  MULAW_DECODE[c] = computeMulawDecode(c);
  ALAW_DECODE[c] = computeAlawDecode(c);
}

/** One int16 sample → one μ-law byte. */
export function linearToMulaw(sample: number): number {
  return MULAW_ENCODE[sample & 0xffff];
}

/** One μ-law byte → one int16 sample. */
export function mulawToLinear(code: number): number {
  return MULAW_DECODE[code & 0xff];
}

/** One int16 sample → one A-law byte. */
export function linearToAlaw(sample: number): number {
  return ALAW_ENCODE[sample & 0xffff];
}

/** One A-law byte → one int16 sample. */
export function alawToLinear(code: number): number {
  return ALAW_DECODE[code & 0xff];
}

function checkRoom(need: number, have: number): void {
  if (have < need) throw new RangeError(`G.711: output holds ${have} samples, ${need} needed`);
}

/** Encodes every sample of pcm16 into out[0..n). Returns n (bytes written). */
export function encodeMulaw(pcm16: Int16Array, out: Uint8Array): number {
  const n = pcm16.length;
  checkRoom(n, out.length);
  for (let i = 0; i < n; i++) out[i] = MULAW_ENCODE[pcm16[i] & 0xffff];
  return n;
}

/** Decodes every byte of buf into out[0..n). Returns n (samples written). */
export function decodeMulaw(buf: Uint8Array, out: Int16Array): number {
  const n = buf.length;
  checkRoom(n, out.length);
  for (let i = 0; i < n; i++) out[i] = MULAW_DECODE[buf[i]];
  return n;
}

/** Encodes every sample of pcm16 into out[0..n). Returns n (bytes written). */
export function encodeAlaw(pcm16: Int16Array, out: Uint8Array): number {
  const n = pcm16.length;
  checkRoom(n, out.length);
  for (let i = 0; i < n; i++) out[i] = ALAW_ENCODE[pcm16[i] & 0xffff];
  return n;
}

/** Decodes every byte of buf into out[0..n). Returns n (samples written). */
export function decodeAlaw(buf: Uint8Array, out: Int16Array): number {
  const n = buf.length;
  checkRoom(n, out.length);
  for (let i = 0; i < n; i++) out[i] = ALAW_DECODE[buf[i]];
  return n;
}
