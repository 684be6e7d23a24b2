// Users and their role grants. An admin sees the users holding a grant inside its subtree(s),
// may create users and grant roles only inside them, and may change or remove a user only
// when every grant of that user lies inside them. A global admin (grant at zone null) sees all.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { ApiDeps } from '../app.js';
import { ApiError, forbidden, forbiddenGlobal, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { DB, Role, User } from '../db/types.js';
import type { AuthContext } from '../auth/context.js';
import { loadGrants } from '../auth/context.js';
import type { Grant } from '../auth/permissions.js';
import { hashSecret } from '../auth/password.js';
import { GrantSchema, IdParams, Nullable, RoleSchema, UserSchema, errors, type UserDto } from './schemas.js';

const Password = Type.String({ minLength: 8, maxLength: 1000 });
const GrantBody = Type.Object({ role: RoleSchema, zoneId: Nullable(Type.String({ minLength: 1 })) }, { additionalProperties: false });

const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === '23505';

function userDto(u: User, grants: readonly Grant[]): UserDto {
  return {
    id: u.id,
    username: u.username,
    displayName: u.display_name,
    disabled: u.disabled,
    roles: grants.map((g) => ({ id: g.id, role: g.role, zoneId: g.zoneId })),
    createdAt: u.created_at.toISOString(),
  };
}

function visible(auth: AuthContext, userId: string, grants: readonly Grant[]): boolean {
  return auth.isGlobal('users.manage') || userId === auth.user.id || grants.some((g) => g.zonePath !== null && auth.can('users.manage', g.zonePath));
}

function manageable(auth: AuthContext, grants: readonly Grant[]): boolean {
  if (auth.isGlobal('users.manage')) return true;
  return grants.length > 0 && grants.every((g) => g.zonePath !== null && auth.can('users.manage', g.zonePath));
}

/** Zone-scoped grant check: 404 for an unreadable zone, 403 when the caller may not grant there. */
async function requireGrantable(auth: AuthContext, zoneId: string | null): Promise<void> {
  if (zoneId === null) {
    if (!auth.can('users.manage', null)) throw forbiddenGlobal();
  } else {
    await auth.requireZone('users.manage', zoneId);
  }
}

async function loadUser(db: Kysely<DB>, auth: AuthContext, id: string): Promise<{ user: User; grants: Grant[] }> {
  const user = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!user) throw notFound('user', id);
  const grants = await loadGrants(db, user.id);
  if (!visible(auth, user.id, grants)) throw notFound('user', id);
  return { user, grants };
}

const userRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database }) => {
  const { db } = database;

  app.get('/users', { schema: { tags: ['users'], response: { 200: Type.Array(UserSchema), ...errors(401) } } }, async (request) => {
    const auth = request.auth;
    let q = db.selectFrom('users').selectAll().orderBy('username');
    if (!auth.isGlobal('users.manage')) {
      const inScope = db
        .selectFrom('role_assignments')
        .innerJoin('zones', 'zones.id', 'role_assignments.zone_id')
        .select('role_assignments.user_id')
        .where(auth.zoneFilter('users.manage'));
      q = q.where((eb) => eb.or([eb('users.id', 'in', inScope), eb('users.id', '=', auth.user.id)]));
    }
    const users = await q.execute();
    return Promise.all(users.map(async (u) => userDto(u, await loadGrants(db, u.id))));
  });

  app.get(
    '/users/:id',
    { schema: { tags: ['users'], params: IdParams, response: { 200: UserSchema, ...errors(401, 404) } } },
    async (request) => {
      const { user, grants } = await loadUser(db, request.auth, request.params.id);
      return userDto(user, grants);
    },
  );

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }),
            displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            password: Password,
            roles: Type.Optional(Type.Array(GrantBody, { maxItems: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      const { username, displayName, password, roles = [] } = request.body;
      // A user without a grant would be out of a zone admin's sight at once: only a global admin makes one.
      if (roles.length === 0 && !auth.isGlobal('users.manage')) throw auth.grants.some((g) => g.role === 'admin') ? forbiddenGlobal() : forbidden();
      for (const r of roles) await requireGrantable(auth, r.zoneId);
      const id = newId('user');
      const passwordHash = await hashSecret(password);
      try {
        await db.transaction().execute(async (tx) => {
          await tx.insertInto('users').values({ id, username, display_name: displayName ?? username, password_hash: passwordHash }).execute();
          const unique = [...new Map(roles.map((r) => [`${r.role}|${r.zoneId}`, r])).values()];
          for (const r of unique) {
            await tx.insertInto('role_assignments').values({ id: newId('role'), user_id: id, role: r.role, zone_id: r.zoneId }).execute();
          }
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApiError(409, 'conflict', 'conflict_username', { username });
        throw err;
      }
      const user = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      return reply.status(201).send(userDto(user, await loadGrants(db, id)));
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        params: IdParams,
        body: Type.Object(
          { displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), password: Type.Optional(Password), disabled: Type.Optional(Type.Boolean()) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: UserSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const { user, grants } = await loadUser(db, auth, request.params.id);
      const b = request.body;
      const self = user.id === auth.user.id;
      // Anyone may change their own name and password; the rest needs authority over all their grants.
      if (!manageable(auth, grants) && !(self && b.disabled === undefined)) throw forbidden();
      await db
        .updateTable('users')
        .set({
          ...(b.displayName !== undefined && { display_name: b.displayName }),
          ...(b.password !== undefined && { password_hash: await hashSecret(b.password) }),
          ...(b.disabled !== undefined && { disabled: b.disabled }),
        })
        .where('id', '=', user.id)
        .execute();
      // A disabled user or a new password ends the user's sessions.
      if (b.disabled || b.password !== undefined) {
        await db.deleteFrom('tokens').where('user_id', '=', user.id).where('kind', '=', 'session').where('id', '!=', self ? auth.tokenId : '').execute();
      }
      const updated = await db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
      return userDto(updated, grants);
    },
  );

  app.delete(
    '/users/:id',
    { schema: { tags: ['users'], params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404, 409) } } },
    async (request, reply) => {
      const auth = request.auth;
      const { user, grants } = await loadUser(db, auth, request.params.id);
      if (user.id === auth.user.id) throw new ApiError(409, 'conflict', 'self_delete');
      if (!manageable(auth, grants)) throw forbidden();
      await db.deleteFrom('users').where('id', '=', user.id).execute();
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/users/:id/roles',
    { schema: { tags: ['users'], params: IdParams, body: GrantBody, response: { 201: GrantSchema, ...errors(400, 401, 403, 404, 409) } } },
    async (request, reply) => {
      const auth = request.auth;
      const { user } = await loadUser(db, auth, request.params.id);
      const { role, zoneId } = request.body;
      await requireGrantable(auth, zoneId);
      const id = newId('role');
      try {
        await db.insertInto('role_assignments').values({ id, user_id: user.id, role: role as Role, zone_id: zoneId }).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApiError(409, 'conflict', 'conflict_role');
        throw err;
      }
      return reply.status(201).send({ id, role, zoneId });
    },
  );

  app.delete(
    '/users/:id/roles/:roleId',
    {
      schema: {
        tags: ['users'],
        params: Type.Object({ id: Type.String({ minLength: 1 }), roleId: Type.String({ minLength: 1 }) }),
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      const { grants } = await loadUser(db, auth, request.params.id);
      const grant = grants.find((g) => g.id === request.params.roleId);
      if (!grant || (grant.zonePath !== null && !auth.can('read', grant.zonePath))) throw notFound('role', request.params.roleId);
      if (!auth.can('users.manage', grant.zonePath)) throw grant.zonePath === null ? forbiddenGlobal() : forbidden();
      await db.deleteFrom('role_assignments').where('id', '=', grant.id).execute();
      return reply.status(204).send(null);
    },
  );
};
export default userRoutes;
