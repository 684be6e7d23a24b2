// Authentication for the /api/v1 scope: every route needs a bearer token unless its route
// config says `public: true`. Sets `request.auth` (an AuthContext) for the handlers.
// Tokens, users, grants and zone paths come from memory (auth-cache.ts): a successful change
// through the users, zones or auth routes reloads it before that route's answer is sent.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import { unauthorized } from '../errors.js';
import type { FastifyBaseLogger } from 'fastify';
import { resolveToken } from './tokens.js';
import { AuthContext, loadGrants } from './context.js';
import { AuthCache, REFRESH_INTERVAL_MS } from './auth-cache.js';

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

/** Routes (below the scope's prefix) whose successful changes can change who may do what where. */
const CHANGES_AUTH = /^\/(users|zones|auth)(\/|$)/;
const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface InstallAuthOptions {
  logger?: FastifyBaseLogger;
  /** Safety-net reload period of the auth cache (default 60 s; 0 = only on changes). */
  refreshIntervalMs?: number;
}

/** Installs the token check on `app` (the /api/v1 scope); runs before body parsing and validation. */
export function installAuth(app: FastifyInstance, db: Kysely<DB>, opts: InstallAuthOptions = {}): AuthCache {
  const cache = new AuthCache(db, opts.logger ?? app.log);
  // Loaded before the server listens; until then (and for unknown tokens) the database answers.
  app.addHook('onReady', () => cache.start(opts.refreshIntervalMs ?? REFRESH_INTERVAL_MS));
  app.addHook('onClose', () => cache.close());
  app.addHook('onSend', async (request, reply, payload) => {
    if (READ_ONLY.has(request.method) || reply.statusCode >= 400) return payload;
    const url = request.routeOptions.url ?? '';
    if (CHANGES_AUTH.test(url.slice(app.prefix.length))) await cache.refresh();
    return payload;
  });
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
    const who = token ? await cache.authenticate(token) : undefined;
    if (!who) throw unauthorized();
    (request as WithAuth).loaAuth = new AuthContext(who.user, who.grants, who.tokenId, db, cache);
  });
  return cache;
}
