// The zone tree: list (flat, with parent ids, only what the caller may read), get, create,
// update, move (no cycles; the subtree's paths rewritten in one transaction) and delete
// (refused when not empty unless ?cascade=true).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from '../app.js';
import { ApiError, forbiddenGlobal } from '../errors.js';
import { isValidTimeZone } from '../config.js';
import { newId } from '../ids.js';
import { childPath, deleteSubtree, moveZone, subtreeContents, ZoneCycleError } from '../zone-tree.js';
import { removeUnreferencedFiles } from '../media/store.js';
import { alertDb } from '../alerts/tables.js';
import { BoolQuery, IdParams, Nullable, ZoneSchema, errors, isTrue, zoneDto } from './schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Kind = Type.String({ minLength: 1, maxLength: 50, description: 'free text: province, district, commune, village, cluster…' });
const Code = Nullable(Type.String({ minLength: 1, maxLength: 50, description: 'administrative code' }));
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone' });
const AdminCode = Nullable(Type.String({ minLength: 1, maxLength: 32, description: 'administrative unit code (mã đơn vị hành chính, CAP geocode MA_DVHC)' }));
const Location = Nullable(
  Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) }, { additionalProperties: false }),
);
const Drill = Type.Boolean({ description: 'exercises and tests may air here' });
/** The alert columns (migration 0005) from an API body. */
function alertColumns(b: { adminCode?: string | null; location?: { lat: number; lon: number } | null; drill?: boolean }) {
  return {
    ...(b.adminCode !== undefined && { admin_code: b.adminCode }),
    ...(b.location !== undefined && { latitude: b.location?.lat ?? null, longitude: b.location?.lon ?? null }),
    ...(b.drill !== undefined && { drill: b.drill }),
  };
}

function checkTimeZone(tz: string | undefined): void {
  if (tz !== undefined && !isValidTimeZone(tz)) throw new ApiError(400, 'validation', 'bad_time_zone', { value: tz });
}

const zoneRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database, config, broadcast }) => {
  const { db } = database;

  app.get('/zones', { schema: { tags: ['zones'], response: { 200: Type.Array(ZoneSchema), ...errors(401) } } }, async (request) => {
    const rows = await db.selectFrom('zones').selectAll().where(request.auth.zoneFilter('read')).orderBy('path').execute();
    return rows.map(zoneDto);
  });

  app.get(
    '/zones/:id',
    { schema: { tags: ['zones'], params: IdParams, response: { 200: ZoneSchema, ...errors(401, 404) } } },
    async (request) => zoneDto(await request.auth.requireZone('read', request.params.id)),
  );

  app.post(
    '/zones',
    {
      schema: {
        tags: ['zones'],
        body: Type.Object(
          {
            parentId: Nullable(Type.String({ minLength: 1 })),
            kind: Kind,
            name: Name,
            code: Type.Optional(Code),
            timeZone: Type.Optional(TimeZone),
            adminCode: Type.Optional(AdminCode),
            location: Type.Optional(Location),
            drill: Type.Optional(Drill),
          },
          { additionalProperties: false },
        ),
        response: { 201: ZoneSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { parentId, kind, name, code, timeZone } = request.body;
      checkTimeZone(timeZone);
      let parentPath: string | null = null;
      let inheritedTz = config.timezone;
      if (parentId === null) {
        if (!request.auth.can('zones.manage', null)) throw forbiddenGlobal();
      } else {
        const parent = await request.auth.requireZone('zones.manage', parentId);
        parentPath = parent.path;
        inheritedTz = parent.time_zone;
      }
      const id = newId('zone');
      const row = await alertDb(db)
        .insertInto('zones')
        .values({ id, parent_id: parentId, kind, name, code: code ?? null, time_zone: timeZone ?? inheritedTz, path: childPath(parentPath, id), ...alertColumns(request.body) })
        .returningAll()
        .executeTakeFirstOrThrow();
      await broadcast?.zonesChanged();
      return reply.status(201).send(zoneDto(row));
    },
  );

  app.patch(
    '/zones/:id',
    {
      schema: {
        tags: ['zones'],
        params: IdParams,
        body: Type.Object(
          {
            kind: Type.Optional(Kind),
            name: Type.Optional(Name),
            code: Type.Optional(Code),
            timeZone: Type.Optional(TimeZone),
            adminCode: Type.Optional(AdminCode),
            location: Type.Optional(Location),
            drill: Type.Optional(Drill),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ZoneSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const zone = await request.auth.requireZone('zones.manage', request.params.id);
      const { kind, name, code, timeZone } = request.body;
      checkTimeZone(timeZone);
      const row = await alertDb(db)
        .updateTable('zones')
        .set({
          ...(kind !== undefined && { kind }),
          ...(name !== undefined && { name }),
          ...(code !== undefined && { code }),
          ...(timeZone !== undefined && { time_zone: timeZone }),
          ...alertColumns(request.body),
        })
        .where('id', '=', zone.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return zoneDto(row);
    },
  );

  app.post(
    '/zones/:id/move',
    {
      schema: {
        tags: ['zones'],
        params: IdParams,
        body: Type.Object({ parentId: Nullable(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
        response: { 200: ZoneSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      const zone = await request.auth.requireZone('zones.manage', request.params.id);
      const { parentId } = request.body;
      if (parentId === null) {
        if (!request.auth.can('zones.manage', null)) throw forbiddenGlobal();
      } else {
        await request.auth.requireZone('zones.manage', parentId);
      }
      try {
        const moved = zoneDto(await moveZone(db, zone.id, parentId));
        await broadcast?.zonesChanged();
        return moved;
      } catch (err) {
        if (err instanceof ZoneCycleError) throw new ApiError(409, 'zone_cycle', 'zone_cycle');
        throw err;
      }
    },
  );

  app.delete(
    '/zones/:id',
    {
      schema: {
        tags: ['zones'],
        params: IdParams,
        querystring: Type.Object({ cascade: Type.Optional(BoolQuery) }),
        response: { 204: Type.Null(), ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const zone = await request.auth.requireZone('zones.manage', request.params.id);
      // Like creating, removing a zone is an act on its parent.
      if (!request.auth.can('zones.manage', zone.parent_id === null ? null : zone.path.slice(0, -(zone.id.length + 1)))) {
        throw zone.parent_id === null ? forbiddenGlobal() : new ApiError(403, 'forbidden', 'forbidden');
      }
      if (!isTrue(request.query.cascade)) {
        const contents = await subtreeContents(db, zone);
        if (contents.children + contents.endpoints + contents.media > 0) {
          throw new ApiError(409, 'zone_not_empty', 'zone_not_empty', { name: zone.name, ...contents });
        }
      }
      const { mediaSha256 } = await deleteSubtree(db, zone.id);
      await removeUnreferencedFiles(database, config, mediaSha256);
      await broadcast?.zonesChanged();
      return reply.status(204).send(null);
    },
  );
};
export default zoneRoutes;
