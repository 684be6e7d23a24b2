// Login, logout, "who am I", and API tokens for clients (OBS scripts, integrations).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from '../app.js';
import { ApiError, notFound } from '../errors.js';
import { verifyDecoy, verifySecret } from '../auth/password.js';
import { issueToken } from '../auth/tokens.js';
import { GrantSchema, IdParams, Iso, Nullable, errors } from './schemas.js';

const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 1000 }) },
  { additionalProperties: false },
);
const Me = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(GrantSchema),
});
const TokenInfo = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  name: Nullable(Type.String()),
  expiresAt: Nullable(Iso),
  createdAt: Iso,
  lastUsedAt: Nullable(Iso),
});
const NewToken = Type.Object({ id: Type.String(), token: Type.String({ description: 'shown once; keep it' }), expiresAt: Nullable(Iso) });

const authRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database }) => {
  const { db } = database;

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        security: [],
        body: LoginBody,
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Nullable(Iso), user: Me }), ...errors(400, 401) },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const user = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      const ok = user && !user.disabled ? await verifySecret(password, user.password_hash) : await verifyDecoy(password);
      if (!ok || !user) throw new ApiError(401, 'login_failed', 'login_failed');
      const issued = await issueToken(db, user.id, 'session');
      const roles = await db.selectFrom('role_assignments').select(['id', 'role', 'zone_id']).where('user_id', '=', user.id).execute();
      request.log.info({ userId: user.id }, 'login');
      return {
        token: issued.token,
        expiresAt: issued.expiresAt?.toISOString() ?? null,
        user: {
          id: user.id,
          username: user.username,
          displayName: user.display_name,
          roles: roles.map((r) => ({ id: r.id, role: r.role, zoneId: r.zone_id })),
        },
      };
    },
  );

  app.post('/auth/logout', { schema: { tags: ['auth'], response: { 204: Type.Null(), ...errors(401) } } }, async (request, reply) => {
    await db.deleteFrom('tokens').where('id', '=', request.auth.tokenId).execute();
    return reply.status(204).send(null);
  });

  app.get('/auth/me', { schema: { tags: ['auth'], response: { 200: Me, ...errors(401) } } }, async (request) => {
    const { user, grants } = request.auth;
    return { ...user, roles: grants.map((g) => ({ id: g.id, role: g.role, zoneId: g.zoneId })) };
  });

  app.get('/auth/tokens', { schema: { tags: ['auth'], response: { 200: Type.Array(TokenInfo), ...errors(401) } } }, async (request) => {
    const rows = await db.selectFrom('tokens').selectAll().where('user_id', '=', request.auth.user.id).orderBy('created_at').execute();
    return rows.map((t) => ({
      id: t.id,
      kind: t.kind,
      name: t.name,
      expiresAt: t.expires_at?.toISOString() ?? null,
      createdAt: t.created_at.toISOString(),
      lastUsedAt: t.last_used_at?.toISOString() ?? null,
    }));
  });

  app.post(
    '/auth/tokens',
    {
      schema: {
        tags: ['auth'],
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100 }), expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) },
          { additionalProperties: false },
        ),
        response: { 201: NewToken, ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      const { name, expiresInDays } = request.body;
      const expiresAt = expiresInDays ? new Date(Date.now() + expiresInDays * 86400_000) : null;
      const issued = await issueToken(db, request.auth.user.id, 'api', { name, expiresAt });
      return reply.status(201).send({ id: issued.id, token: issued.token, expiresAt: issued.expiresAt?.toISOString() ?? null });
    },
  );

  app.delete(
    '/auth/tokens/:id',
    { schema: { tags: ['auth'], params: IdParams, response: { 204: Type.Null(), ...errors(401, 404) } } },
    async (request, reply) => {
      const res = await db
        .deleteFrom('tokens')
        .where('id', '=', request.params.id)
        .where('user_id', '=', request.auth.user.id)
        .executeTakeFirst();
      if (Number(res.numDeletedRows) === 0) throw notFound('token', request.params.id);
      return reply.status(204).send(null);
    },
  );
};
export default authRoutes;
