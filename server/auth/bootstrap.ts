// First start: with no user at all, create `admin` holding a global admin grant (zone null =
// every zone). The password is LOA_ADMIN_PASSWORD or a random one; the caller prints it once.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import { newId } from '../ids.js';
import { hashSecret } from './password.js';

export interface BootstrapResult {
  username: string;
  password: string;
  /** True when the password was generated (and must be shown to the operator). */
  generated: boolean;
}

/** Creates the first admin when the users table is empty; undefined when users exist. */
export async function bootstrapAdmin(db: Kysely<DB>, adminPassword?: string): Promise<BootstrapResult | undefined> {
  const any = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  const generated = !adminPassword;
  const password = adminPassword ?? randomBytes(12).toString('base64url');
  const userId = newId('user');
  const created = await db.transaction().execute(async (tx) => {
    const inserted = await tx
      .insertInto('users')
      .values({ id: userId, username: 'admin', display_name: 'Quản trị viên', password_hash: await hashSecret(password) })
      .onConflict((oc) => oc.column('username').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
    await tx.insertInto('role_assignments').values({ id: newId('role'), user_id: userId, role: 'admin', zone_id: null }).execute();
    return true;
  });
  return created ? { username: 'admin', password, generated } : undefined;
}
