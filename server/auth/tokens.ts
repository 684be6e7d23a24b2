// Bearer tokens: 32 random bytes, base64url; the database keeps only their sha256.
// Session tokens come from a login and expire; API tokens are made by a user for a client.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, TokenKind } from '../db/types.js';
import { newId } from '../ids.js';

export const SESSION_TTL_MS = 7 * 24 * 3600 * 1000;
/** last_used_at is refreshed at most this often, so that reads do not each cost a write. */
export const TOUCH_INTERVAL_MS = 60_000;

export function newBearerToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface IssuedToken {
  id: string;
  token: string;
  expiresAt: Date | null;
}

export async function issueToken(
  db: Kysely<DB>,
  userId: string,
  kind: TokenKind,
  options: { name?: string | null; expiresAt?: Date | null } = {},
): Promise<IssuedToken> {
  const token = newBearerToken();
  const id = newId('token');
  const expiresAt = options.expiresAt !== undefined ? options.expiresAt : kind === 'session' ? new Date(Date.now() + SESSION_TTL_MS) : null;
  await db
    .insertInto('tokens')
    .values({ id, user_id: userId, hash: sha256Hex(token), kind, name: options.name ?? null, expires_at: expiresAt })
    .execute();
  return { id, token, expiresAt };
}

export interface TokenOwner {
  tokenId: string;
  userId: string;
  kind: TokenKind;
}

/** The token's owner when the token is known, unexpired and its user enabled; else undefined. */
export async function resolveToken(db: Kysely<DB>, token: string): Promise<TokenOwner | undefined> {
  const row = await db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .select(['tokens.id', 'tokens.user_id', 'tokens.kind', 'tokens.expires_at', 'tokens.last_used_at', 'users.disabled'])
    .where('tokens.hash', '=', sha256Hex(token))
    .executeTakeFirst();
  if (!row || row.disabled) return undefined;
  const now = Date.now();
  if (row.expires_at && row.expires_at.getTime() <= now) return undefined;
  if (!row.last_used_at || now - row.last_used_at.getTime() > TOUCH_INTERVAL_MS) {
    await db.updateTable('tokens').set({ last_used_at: new Date(now) }).where('id', '=', row.id).execute();
  }
  return { tokenId: row.id, userId: row.user_id, kind: row.kind };
}
