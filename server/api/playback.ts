// Manual playback and what is on air (contract: the schemas below, served at /api/v1/openapi.json). Every target
// zone is checked against the caller's grants (404 outside their subtree, 403 inside without
// the right); emergency priority needs playback.emergency (authority, admin). Programmes are
// registered in the ProgrammeCatalog and handed to the media engine; GET /on-air reads the
// OnAirBoard kept from engine events, never the worker.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { PRIORITY, PRIORITY_NAMES, MAX_PRIORITY, MIN_PRIORITY, type PriorityName } from '../../domain/priority.js';
import type { SourceSpec } from '../../engine/protocol.js';
import type { ApiDeps } from '../app.js';
import type { AuthContext } from '../auth/context.js';
import { ApiError, notFound } from '../errors.js';
import type { BroadcastHost, HostedProgramme } from '../broadcast/engine-host.js';
import type { ProgrammeKind } from '../broadcast/programme-catalog.js';
import { mediaFileSpec, sirenSpec, toneSpec } from '../broadcast/sources.js';
import { Iso, Nullable, errors } from './schemas.js';

export interface PlaybackDeps extends ApiDeps {
  broadcast: BroadcastHost;
}

/** Endless tones and sirens stop by themselves after this long unless maxDurationMs says otherwise. */
export const DEFAULT_GENERATOR_MAX_MS = 10 * 60_000;

const PriorityNameSchema = Type.Union([
  Type.Literal('background'),
  Type.Literal('normal'),
  Type.Literal('priority'),
  Type.Literal('live'),
  Type.Literal('emergency'),
]);
const PrioritySchema = Type.Union([PriorityNameSchema, Type.Integer({ minimum: MIN_PRIORITY, maximum: MAX_PRIORITY })], {
  description: `a name (${PRIORITY_NAMES.join(', ')}) or a number ${MIN_PRIORITY}–${MAX_PRIORITY} (bigger wins)`,
});
const DurationMs = Type.Integer({ minimum: 1, maximum: 24 * 3600_000 });

const SOURCE_BRANCHES = {
  media: Type.Object({ kind: Type.Literal('media'), mediaId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  tone: Type.Object(
    { kind: Type.Literal('tone'), freqHz: Type.Number({ minimum: 20, maximum: 20_000 }), durationMs: Type.Optional(DurationMs) },
    { additionalProperties: false },
  ),
  siren: Type.Object(
    {
      kind: Type.Literal('siren'),
      shape: Type.Optional(Type.Union([Type.Literal('wail'), Type.Literal('yelp'), Type.Literal('hilo')])),
      durationMs: Type.Optional(DurationMs),
    },
    { additionalProperties: false },
  ),
};
const SourceSchema = Type.Union([SOURCE_BRANCHES.media, SOURCE_BRANCHES.tone, SOURCE_BRANCHES.siren]);
const sourceCheckers: Record<string, TypeCheck<TSchema>> = Object.fromEntries(
  Object.entries(SOURCE_BRANCHES).map(([k, v]) => [k, TypeCompiler.Compile(v as TSchema)]),
);

/**
 * A union's validation error names whichever branch failed first ("mediaId is required" for a
 * bad tone): check the branch the `kind` names first, so the message is about what was meant.
 */
function checkSourceByKind(body: unknown): void {
  const source = (body as { source?: unknown } | null)?.source;
  if (typeof source !== 'object' || source === null) return; // the schema says what is missing
  const kind = (source as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.hasOwn(sourceCheckers, kind)) {
    throw new ApiError(400, 'validation', 'validation', { field: 'body.source.kind', detail: `must be one of ${Object.keys(SOURCE_BRANCHES).join(', ')}` });
  }
  const first = sourceCheckers[kind].Errors(source).First();
  if (first) throw new ApiError(400, 'validation', 'validation', { field: `body.source${first.path.replace(/\//g, '.')}`, detail: first.message });
}
type ApiSource = Static<typeof SourceSchema>;

const PlayBody = Type.Object(
  {
    zoneIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 1000, uniqueItems: true }),
    source: SourceSchema,
    priority: PrioritySchema,
    maxDurationMs: Type.Optional(DurationMs),
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

const ProgrammeBase = {
  id: Type.String(),
  zoneIds: Type.Array(Type.String()),
  priority: PrioritySchema,
  priorityValue: Type.Integer({ description: 'the number behind `priority`' }),
  kind: Type.String({ description: 'media, tone, siren, playlist, live, alert…' }),
  source: Nullable(Type.Unknown({ description: 'the source as it was asked for (null for programmes not started through this API)' })),
  title: Type.String(),
  startedAt: Iso,
};
const StartedSchema = Type.Object({ ...ProgrammeBase, state: Type.Union([Type.Literal('on-air'), Type.Literal('waiting')]) });
const ListedSchema = Type.Object({
  ...ProgrammeBase,
  createdBy: Type.String({ description: "a user id, 'timetable' or 'alert'" }),
  onAirZoneIds: Type.Array(Type.String(), { description: 'zones (with a bus: leaves and zones with endpoints) hearing it now' }),
});
const OnAirSchema = Type.Object({
  zones: Type.Array(
    Type.Object({
      zoneId: Type.String(),
      zoneName: Type.String(),
      programmeId: Nullable(Type.String()),
      title: Nullable(Type.String()),
      priority: Nullable(PrioritySchema),
      since: Nullable(Iso),
      positionMs: Nullable(Type.Integer()),
    }),
  ),
});

/** A name when the number is a named level, else the number (the form the API accepts). */
export function priorityOut(value: number): PriorityName | number {
  return PRIORITY_NAMES.find((n) => PRIORITY[n] === value) ?? value;
}

export function priorityIn(p: PriorityName | number): number {
  return typeof p === 'number' ? p : PRIORITY[p];
}

const programmeNotFound = (id: string) => new ApiError(404, 'not_found', 'not_found', { what: 'what_programme', id });

const playbackRoutes: FastifyPluginAsyncTypebox<PlaybackDeps> = async (app, { database, config, broadcast }) => {
  const { db } = database;

  /** Paths of these zones, for the ones that exist (from the auth cache's memory, not the database). */
  async function zonePaths(auth: AuthContext, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of ids) {
      const z = await auth.zoneScope(id);
      if (z) out.set(id, z.path);
    }
    return out;
  }

  /**
   * The right to start (or stop) a programme at this priority on these zones; throws 404/403.
   * Answered from memory (server/auth/auth-cache.ts): no database round trip before an alert
   * reaches the engine.
   */
  async function requirePlayRights(auth: AuthContext, zoneIds: readonly string[], priority: number): Promise<void> {
    const emergency = priority >= PRIORITY.emergency;
    for (const id of zoneIds) {
      const zone = await auth.requireZoneScope('playback.push', id);
      if (emergency && !auth.can('playback.emergency', zone)) {
        throw new ApiError(403, 'forbidden', 'forbidden_priority', { priority, limit: PRIORITY.emergency });
      }
    }
  }

  async function resolveSource(auth: AuthContext, source: ApiSource): Promise<{ spec: SourceSpec; kind: ProgrammeKind; title: string; endless: boolean }> {
    switch (source.kind) {
      case 'media': {
        const row = await db
          .selectFrom('media')
          .innerJoin('zones', 'zones.id', 'media.zone_id')
          .selectAll('media')
          .select('zones.path as zone_path')
          .where('media.id', '=', source.mediaId)
          .executeTakeFirst();
        // A media item outside the caller's subtree does not exist for them.
        if (!row || !auth.can('read', row.zone_path)) throw notFound('media', source.mediaId);
        const spec = await mediaFileSpec(config, row);
        if (!spec) throw new ApiError(404, 'not_found', 'media_file_missing', { id: row.id });
        return { spec, kind: 'media', title: row.title, endless: false };
      }
      case 'tone':
        return { spec: toneSpec(source.freqHz, source.durationMs), kind: 'tone', title: `${source.freqHz} Hz`, endless: source.durationMs === undefined };
      case 'siren':
        return { spec: sirenSpec(source.shape, source.durationMs), kind: 'siren', title: `siren (${source.shape ?? 'wail'})`, endless: source.durationMs === undefined };
    }
  }

  function describe(p: HostedProgramme, zoneIds: string[]) {
    return {
      id: p.programmeId,
      zoneIds,
      priority: priorityOut(p.priority),
      priorityValue: p.priority,
      kind: p.kind,
      source: p.request ?? null,
      title: p.title,
      startedAt: new Date(p.requestedAtMs).toISOString(),
    };
  }

  app.post(
    '/playback',
    {
      schema: {
        tags: ['playback'],
        description: 'Starts a programme on zones (and their subtrees) now. Emergency priority needs the authority or admin role.',
        body: PlayBody,
        response: { 201: StartedSchema, ...errors(400, 401, 403, 404, 422) },
      },
      preValidation: async (request) => checkSourceByKind(request.body),
    },
    async (request, reply) => {
      const auth = request.auth;
      const b = request.body;
      const priority = priorityIn(b.priority);
      await requirePlayRights(auth, b.zoneIds, priority);
      const source = await resolveSource(auth, b.source);
      const info = broadcast.play({
        zoneIds: b.zoneIds,
        priority,
        source: source.spec,
        maxDurationMs: b.maxDurationMs ?? (source.endless ? DEFAULT_GENERATOR_MAX_MS : undefined),
        title: b.title ?? source.title,
        kind: source.kind,
        by: auth.user.id,
        request: b.source,
      });
      const outcome = await broadcast.waitForStart(info.programmeId);
      if (outcome.state === 'failed') {
        request.log.warn({ programmeId: info.programmeId, code: outcome.code, reason: outcome.message }, 'programme did not start');
        throw new ApiError(422, 'playback_failed', 'playback_failed', { detail: outcome.message });
      }
      return reply.status(201).send({ ...describe(info, info.zoneIds), state: outcome.state });
    },
  );

  app.get(
    '/playback',
    { schema: { tags: ['playback'], description: 'Programmes running now on zones the caller can see.', response: { 200: Type.Object({ items: Type.Array(ListedSchema) }), ...errors(401) } } },
    async (request) => {
      const auth = request.auth;
      const active = broadcast.activeProgrammes().map((p) => ({ p, onAirZones: broadcast.onAir.zonesOf(p.programmeId) }));
      const paths = await zonePaths(auth, [...new Set(active.flatMap(({ p, onAirZones }) => [...p.zoneIds, ...onAirZones]))]);
      const readable = (z: string) => paths.has(z) && auth.can('read', paths.get(z)!);
      const items = [];
      for (const { p, onAirZones } of active.sort((a, b) => a.p.requestedAtMs - b.p.requestedAtMs)) {
        const visible = p.zoneIds.filter(readable);
        if (visible.length === 0) continue;
        items.push({ ...describe(p, visible), createdBy: p.by, onAirZoneIds: onAirZones.filter(readable) });
      }
      return { items };
    },
  );

  app.delete(
    '/playback/:id',
    {
      schema: {
        tags: ['playback'],
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      const p = broadcast.catalog.get(request.params.id);
      if (!p || p.endedAtMs !== undefined) throw programmeNotFound(request.params.id);
      const paths = await zonePaths(auth, p.zoneIds);
      if (!p.zoneIds.some((z) => paths.has(z) && auth.can('read', paths.get(z)!))) throw programmeNotFound(p.programmeId);
      // Stopping takes the same rights as starting, on every zone it covers.
      await requirePlayRights(auth, p.zoneIds.filter((z) => paths.has(z)), p.priority);
      broadcast.stop(p.programmeId);
      request.log.info({ programmeId: p.programmeId, by: auth.user.id }, 'programme stopped');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/on-air',
    {
      schema: {
        tags: ['playback'],
        description: 'What each zone with endpoints (among those the caller can see) is airing now.',
        response: { 200: OnAirSchema, ...errors(401) },
      },
    },
    async (request) => {
      const rows = await db
        .selectFrom('zones')
        .select(['zones.id', 'zones.name', 'zones.path'])
        .where(request.auth.zoneFilter('read'))
        .where((eb) => eb.exists(eb.selectFrom('endpoints').select('endpoints.id').whereRef('endpoints.zone_id', '=', 'zones.id')))
        .orderBy('zones.path')
        .execute();
      const now = Date.now();
      return {
        zones: rows.map((z) => {
          const air = broadcast.onAir.get(z.id, now);
          const p = air ? broadcast.catalog.get(air.programmeId) : undefined;
          return {
            zoneId: z.id,
            zoneName: z.name,
            programmeId: air?.programmeId ?? null,
            title: p?.title ?? null,
            priority: p ? priorityOut(p.priority) : null,
            since: air ? new Date(air.sinceMs).toISOString() : null,
            positionMs: air?.positionMs ?? null,
          };
        }),
      };
    },
  );
};
export default playbackRoutes;
