// Authentication for the /api/v1 scope: every route needs a bearer token unless its route
// config says `public: true`. Sets `request.auth` (an AuthContext) for the handlers.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import { unauthorized } from '../errors.js';
import { resolveToken } from './tokens.js';
import { AuthContext, loadGrants } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated caller; only set on non-public routes (reading it elsewhere throws 401). */
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    /** The route needs no token (login, health, documentation). */
    public?: boolean;
  }
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+([A-Za-z0-9_\-.~+/]+=*)\s*$/i.exec(header);
  return m?.[1];
}

export async function authenticate(db: Kysely<DB>, token: string): Promise<AuthContext | undefined> {
  const owner = await resolveToken(db, token);
  if (!owner) return undefined;
  const user = await db.selectFrom('users').select(['id', 'username', 'display_name']).where('id', '=', owner.userId).executeTakeFirst();
  if (!user) return undefined;
  const grants = await loadGrants(db, user.id);
  return new AuthContext({ id: user.id, username: user.username, displayName: user.display_name }, grants, owner.tokenId, db);
}

type WithAuth = FastifyRequest & { loaAuth: AuthContext | null };

/** Installs the token check on `app` (the /api/v1 scope); runs before body parsing and validation. */
export function installAuth(app: FastifyInstance, db: Kysely<DB>): void {
  app.decorateRequest('loaAuth', null);
  app.decorateRequest('auth', {
    getter(this: FastifyRequest) {
      const auth = (this as WithAuth).loaAuth;
      if (!auth) throw unauthorized();
      return auth;
    },
  });
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config?.public) return;
    const token = bearerToken(request);
    const auth = token ? await authenticate(db, token) : undefined;
    if (!auth) throw unauthorized();
    (request as WithAuth).loaAuth = auth;
  });
}
