// Endpoints (receivers driving loudspeakers): CRUD and credential regeneration. The device
// credential is returned once, at creation or regeneration, and stored only as a hash.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CODEC_NAMES } from '../../codecs/codec.js';
import type { ApiDeps } from '../app.js';
import { ApiError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import type { Endpoint } from '../db/types.js';
import type { AuthContext } from '../auth/context.js';
import { newEndpointCredential } from '../auth/endpoint-credential.js';
import { inSubtrees } from '../zone-tree.js';
import { EndpointSchema, IdParams, Nullable, endpointDto, errors } from './schemas.js';

const Kind = Type.Union([Type.Literal('rtp'), Type.Literal('sip'), Type.Literal('webrtc'), Type.Literal('http')]);
const Codecs = Type.Array(Type.String({ minLength: 1, maxLength: 20 }), { maxItems: 8, uniqueItems: true, description: 'preference order' });
const Address = Nullable(Type.String({ minLength: 1, maxLength: 255 }));
const Port = Nullable(Type.Integer({ minimum: 1, maximum: 65535 }));
const WithCredential = Type.Object({ endpoint: EndpointSchema, credential: Type.String({ description: 'device token; shown once' }) });

function checkCodecs(codecs: string[] | undefined): void {
  for (const c of codecs ?? []) {
    if (!(CODEC_NAMES as readonly string[]).includes(c)) {
      throw new ApiError(400, 'validation', 'bad_codec', { value: c, allowed: CODEC_NAMES.join(', ') });
    }
  }
}

const endpointRoutes: FastifyPluginAsyncTypebox<ApiDeps> = async (app, { database, broadcast }) => {
  const { db } = database;

  async function requireEndpoint(auth: AuthContext, id: string, action: 'read' | 'endpoints.manage'): Promise<Endpoint> {
    const row = await db
      .selectFrom('endpoints')
      .innerJoin('zones', 'zones.id', 'endpoints.zone_id')
      .selectAll('endpoints')
      .select('zones.path as zone_path')
      .where('endpoints.id', '=', id)
      .executeTakeFirst();
    if (!row || !auth.can('read', row.zone_path)) throw notFound('endpoint', id);
    auth.require(action, row.zone_path);
    const { zone_path: _, ...endpoint } = row;
    return endpoint;
  }

  app.get(
    '/endpoints',
    {
      schema: {
        tags: ['endpoints'],
        querystring: Type.Object({ zoneId: Type.Optional(Type.String({ minLength: 1, description: 'only this zone and its subtree' })) }),
        response: { 200: Type.Array(EndpointSchema), ...errors(401, 404) },
      },
    },
    async (request) => {
      let q = db
        .selectFrom('endpoints')
        .innerJoin('zones', 'zones.id', 'endpoints.zone_id')
        .selectAll('endpoints')
        .where(request.auth.zoneFilter('read'))
        .orderBy('endpoints.name');
      if (request.query.zoneId) {
        const zone = await request.auth.requireZone('read', request.query.zoneId);
        q = q.where(inSubtrees('zones.path', [zone.path]));
      }
      return (await q.execute()).map(endpointDto);
    },
  );

  app.get(
    '/endpoints/:id',
    { schema: { tags: ['endpoints'], params: IdParams, response: { 200: EndpointSchema, ...errors(401, 404) } } },
    async (request) => endpointDto(await requireEndpoint(request.auth, request.params.id, 'read')),
  );

  app.post(
    '/endpoints',
    {
      schema: {
        tags: ['endpoints'],
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            zoneId: Type.String({ minLength: 1 }),
            kind: Kind,
            codecs: Type.Optional(Codecs),
            address: Type.Optional(Address),
            port: Type.Optional(Port),
            multicast: Type.Optional(Type.Boolean()),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: WithCredential, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const b = request.body;
      checkCodecs(b.codecs);
      const zone = await request.auth.requireZone('endpoints.manage', b.zoneId);
      const credential = await newEndpointCredential();
      const row = await db
        .insertInto('endpoints')
        .values({
          id: newId('endpoint'),
          name: b.name,
          zone_id: zone.id,
          kind: b.kind,
          codecs: JSON.stringify(b.codecs ?? ['opus', 'pcmu']),
          credential_hash: credential.hash,
          address: b.address ?? null,
          port: b.port ?? null,
          multicast: b.multicast ?? false,
          enabled: b.enabled ?? true,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await broadcast?.endpointChanged(row.id);
      return reply.status(201).send({ endpoint: endpointDto(row), credential: credential.token });
    },
  );

  app.patch(
    '/endpoints/:id',
    {
      schema: {
        tags: ['endpoints'],
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            zoneId: Type.Optional(Type.String({ minLength: 1 })),
            kind: Type.Optional(Kind),
            codecs: Type.Optional(Codecs),
            address: Type.Optional(Address),
            port: Type.Optional(Port),
            multicast: Type.Optional(Type.Boolean()),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: EndpointSchema, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const current = await requireEndpoint(request.auth, request.params.id, 'endpoints.manage');
      const b = request.body;
      checkCodecs(b.codecs);
      // Moving an endpoint is an act on both zones.
      if (b.zoneId !== undefined && b.zoneId !== current.zone_id) await request.auth.requireZone('endpoints.manage', b.zoneId);
      const row = await db
        .updateTable('endpoints')
        .set({
          ...(b.name !== undefined && { name: b.name }),
          ...(b.zoneId !== undefined && { zone_id: b.zoneId }),
          ...(b.kind !== undefined && { kind: b.kind }),
          ...(b.codecs !== undefined && { codecs: JSON.stringify(b.codecs) }),
          ...(b.address !== undefined && { address: b.address }),
          ...(b.port !== undefined && { port: b.port }),
          ...(b.multicast !== undefined && { multicast: b.multicast }),
          ...(b.enabled !== undefined && { enabled: b.enabled }),
        })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await broadcast?.endpointChanged(row.id);
      return endpointDto(row);
    },
  );

  app.post(
    '/endpoints/:id/credential',
    { schema: { tags: ['endpoints'], params: IdParams, response: { 200: WithCredential, ...errors(401, 403, 404) } } },
    async (request) => {
      const current = await requireEndpoint(request.auth, request.params.id, 'endpoints.manage');
      const credential = await newEndpointCredential();
      const row = await db
        .updateTable('endpoints')
        .set({ credential_hash: credential.hash })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await broadcast?.endpointChanged(row.id, { credentialChanged: true });
      return { endpoint: endpointDto(row), credential: credential.token };
    },
  );

  app.delete(
    '/endpoints/:id',
    { schema: { tags: ['endpoints'], params: IdParams, response: { 204: Type.Null(), ...errors(401, 403, 404) } } },
    async (request, reply) => {
      const current = await requireEndpoint(request.auth, request.params.id, 'endpoints.manage');
      await db.deleteFrom('endpoints').where('id', '=', current.id).execute();
      await broadcast?.endpointChanged(current.id);
      return reply.status(204).send(null);
    },
  );
};
export default endpointRoutes;
