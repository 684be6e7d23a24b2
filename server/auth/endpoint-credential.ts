// Device credentials: each endpoint gets a random token at creation (shown once to the
// installer, stored only as a scrypt hash); the speaker agent presents it on the control channel.
import type { Kysely } from 'kysely';
import type { DB, Endpoint } from '../db/types.js';
import { hashSecret, verifySecret, TOKEN_COST } from './password.js';
import { newBearerToken } from './tokens.js';

export interface NewCredential {
  token: string;
  hash: string;
}

export async function newEndpointCredential(): Promise<NewCredential> {
  const token = newBearerToken();
  return { token, hash: await hashSecret(token, TOKEN_COST) };
}

/**
 * The endpoint when `token` is its current credential and it is enabled; undefined otherwise
 * (unknown endpoint, wrong token, disabled). Safe to call with any untrusted input.
 */
export async function verifyEndpointCredential(db: Kysely<DB>, endpointId: string, token: string): Promise<Endpoint | undefined> {
  if (typeof endpointId !== 'string' || typeof token !== 'string' || token.length === 0 || token.length > 256) return undefined;
  const endpoint = await db.selectFrom('endpoints').selectAll().where('id', '=', endpointId).executeTakeFirst();
  if (!endpoint || !endpoint.enabled) return undefined;
  return (await verifySecret(token, endpoint.credential_hash)) ? endpoint : undefined;
}
