// Opaque identifiers: a short type prefix and 16 random base32 characters (80 bits),
// e.g. `zon_k3v9q2m8x4t7w1ab`. The prefix tells a human what an id points at; code must not parse it.
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export const ID_PREFIX = {
  zone: 'zon',
  user: 'usr',
  role: 'rol',
  token: 'tok',
  endpoint: 'ept',
  media: 'med',
} as const;
export type IdKind = keyof typeof ID_PREFIX;

/** 16 base32 characters from 10 random bytes. */
export function randomBase32(length = 16): string {
  const bytes = randomBytes(Math.ceil((length * 5) / 8));
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  return out;
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIX[kind]}_${randomBase32()}`;
}
