// Alerts as a resource (contract: the schemas below, served at /api/v1/openapi.json).
// Creating, updating and cancelling need alerts.push (authority, admin) on every target zone:
// 404 outside the caller's subtree, 403 inside without the right, as everywhere else. Zones
// are given by id or by administrative code (mã đơn vị hành chính). Reading an alert needs
// read on one of its zones. The delivery report is JSON, CSV, or a live stream (server-sent
// events: one-way, plain HTTP with the same bearer token, resumable by the browser's
// EventSource; the WebSocket of this server is the endpoints' control channel).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { ApiDeps } from '../app.js';
import type { AuthContext } from '../auth/context.js';
import { ApiError } from '../errors.js';
import type { AlertActor, AlertInput, AlertService } from '../alerts/service.js';
import { alertSpokenText } from '../alerts/spoken-text.js';
import { nextAiringAt } from '../alerts/cadence.js';
import { deliveryDto, type DeliveryUpdate } from '../alerts/delivery.js';
import type { Kysely } from 'kysely';
import { alertDb, type AlertDB, type AlertRow } from '../alerts/tables.js';
import { priorityOut } from './playback.js';
import { Iso, Nullable, errors } from './schemas.js';

export interface AlertRouteDeps extends ApiDeps {
  alerts: AlertService;
}

const Status = Type.Union([Type.Literal('Actual'), Type.Literal('Exercise'), Type.Literal('Test')]);
const Category = Type.Union([Type.Literal('Geo'), Type.Literal('Met'), Type.Literal('Safety'), Type.Literal('Security'), Type.Literal('Rescue'), Type.Literal('Fire'), Type.Literal('Health'), Type.Literal('Env'), Type.Literal('Transport'), Type.Literal('Infra'), Type.Literal('CBRNE'), Type.Literal('Other')]);
const Severity = Type.Union([Type.Literal('Extreme'), Type.Literal('Severe'), Type.Literal('Moderate'), Type.Literal('Minor'), Type.Literal('Unknown')]);
const Urgency = Type.Union([Type.Literal('Immediate'), Type.Literal('Expected'), Type.Literal('Future'), Type.Literal('Past'), Type.Literal('Unknown')]);
const Certainty = Type.Union([Type.Literal('Observed'), Type.Literal('Likely'), Type.Literal('Possible'), Type.Literal('Unlikely'), Type.Literal('Unknown')]);
const ZoneId = Type.String({ minLength: 1, maxLength: 64 });
const Text = (max: number) => Type.String({ maxLength: max });

const Attention = Nullable(
  Type.Object(
    { shape: Type.Optional(Type.Union([Type.Literal('wail'), Type.Literal('yelp'), Type.Literal('hilo')])), durationMs: Type.Optional(Type.Integer({ minimum: 500, maximum: 120_000 })) },
    { additionalProperties: false, description: 'siren before the message (default wail, 10 s); null for none' },
  ),
);
const Message = Type.Union([
  Type.Object({ kind: Type.Literal('speech') }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('media'), mediaId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('url'), url: Type.String({ minLength: 1, maxLength: 2000, pattern: '^https?://' }) }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false }),
]);
const Cadence = Type.Object(
  {
    everyMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 60 })),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false, description: 'repeat every N minutes, N times and/or until expiresAt; absent: once' },
);

const fields = {
  zoneIds: Type.Optional(Type.Array(ZoneId, { maxItems: 1000, uniqueItems: true })),
  adminCodes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { maxItems: 1000, uniqueItems: true })),
  status: Type.Optional(Status),
  event: Type.String({ minLength: 1, maxLength: 200 }),
  category: Type.Optional(Category),
  severity: Severity,
  urgency: Type.Optional(Urgency),
  certainty: Type.Optional(Certainty),
  headline: Type.String({ minLength: 1, maxLength: 500 }),
  description: Type.Optional(Text(5000)),
  instruction: Type.Optional(Text(2000)),
  language: Type.Optional(Type.String({ minLength: 2, maxLength: 16 })),
  attention: Type.Optional(Attention),
  message: Type.Optional(Message),
  cadence: Type.Optional(Cadence),
  expiresAt: Type.Optional(Nullable(Iso)),
};
const CreateBody = Type.Object(fields, { additionalProperties: false });
const UpdateBody = Type.Partial(Type.Object(fields), { additionalProperties: false });
type CreateBody = Static<typeof CreateBody>;
type UpdateBody = Static<typeof UpdateBody>;

const AiringSchema = Type.Object({ airing: Type.Integer(), programmeId: Type.String(), startedAt: Iso });
const AuditSchema = Type.Object({ action: Type.String(), by: Type.String(), from: Nullable(Type.String()), at: Iso, detail: Type.Unknown() });
const AlertSchema = Type.Object({
  id: Type.String(),
  version: Type.Integer(),
  references: Nullable(Type.String({ description: 'the version this one replaced' })),
  supersededBy: Nullable(Type.String()),
  state: Type.Union([Type.Literal('active'), Type.Literal('updated'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('done')]),
  status: Status,
  msgType: Type.Union([Type.Literal('Alert'), Type.Literal('Update'), Type.Literal('Cancel')]),
  event: Type.String(),
  category: Type.String(),
  severity: Type.String(),
  urgency: Type.String(),
  certainty: Type.String(),
  headline: Type.String(),
  description: Type.String(),
  instruction: Type.String(),
  language: Type.String(),
  zoneIds: Type.Array(Type.String()),
  priority: Type.Union([Type.String(), Type.Integer()]),
  audio: Type.Unknown(),
  cadence: Type.Unknown(),
  spokenText: Type.String({ description: 'what every airing says (speech messages)' }),
  issuedAt: Iso,
  expiresAt: Nullable(Iso),
  endedAt: Nullable(Iso),
  createdBy: Type.String(),
  createdFrom: Nullable(Type.String()),
  createdAt: Iso,
  cap: Nullable(Type.Object({ identifier: Nullable(Type.String()), sender: Nullable(Type.String()), sent: Nullable(Iso) })),
  airings: Type.Array(AiringSchema),
  nextAiringAt: Nullable(Iso),
  onAir: Type.Array(Type.String(), { description: 'programme ids of its airing on air now' }),
  audit: Type.Optional(Type.Array(AuditSchema)),
});
const DeliverySchema = Type.Object({
  alertId: Type.String(),
  airing: Type.Integer(),
  endpointId: Type.String(),
  endpointName: Type.String(),
  zoneId: Type.String(),
  status: Type.Union([Type.Literal('reached'), Type.Literal('not-reached'), Type.Literal('offline')]),
  at: Nullable(Iso),
  lastContact: Nullable(Iso),
  via: Nullable(Type.String()),
});
const DeliveryReport = Type.Object({
  alertId: Type.String(),
  airings: Type.Array(
    Type.Object({
      airing: Type.Integer(),
      programmeId: Type.String(),
      startedAt: Iso,
      reached: Type.Integer(),
      notReached: Type.Integer(),
      offline: Type.Integer(),
      endpoints: Type.Array(DeliverySchema),
    }),
  ),
});
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const DeliveryQuery = Type.Object({ airing: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })) });

const alertNotFound = (id: string) => new ApiError(404, 'not_found', 'not_found', { what: 'what_alert', id });
const DEFAULT_ATTENTION = { shape: 'wail' as const, durationMs: 10_000 };

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Target zones given by id and by administrative code, each checked for alerts.push (404
 * unreadable, 403 not allowed); CAP ingest resolves its <geocode> values through this too.
 */
export async function resolveAlertZones(
  db: Kysely<AlertDB>,
  auth: AuthContext,
  body: { zoneIds?: readonly string[]; adminCodes?: readonly string[] },
): Promise<string[]> {
  const ids = new Set(body.zoneIds ?? []);
  const codes = body.adminCodes ?? [];
  if (codes.length) {
    const rows = await db.selectFrom('zones').select(['id', 'path', 'admin_code']).where('admin_code', 'in', [...codes]).execute();
    for (const code of codes) {
      const matching = rows.filter((r) => r.admin_code === code && auth.can('read', r.path));
      if (matching.length === 0) throw new ApiError(404, 'not_found', 'not_found', { what: 'what_admin_code', id: code });
      for (const r of matching) ids.add(r.id);
    }
  }
  if (ids.size === 0) throw new ApiError(400, 'validation', 'alert_no_zones');
  for (const id of ids) await auth.requireZoneScope('alerts.push', id);
  return [...ids];
}

const alertRoutes: FastifyPluginAsyncTypebox<AlertRouteDeps> = async (app, { database, alerts, config }) => {
  const db = alertDb(database.db);

  const resolveZones = (auth: AuthContext, body: Pick<CreateBody, 'zoneIds' | 'adminCodes'>) => resolveAlertZones(db, auth, body);

  /** The input for the service, checked beyond the schema. */
  async function toInput(auth: AuthContext, b: CreateBody, zoneIds: string[]): Promise<AlertInput> {
    const now = alerts.clock.now();
    const status = b.status ?? 'Actual';
    const cadence = { everyMinutes: b.cadence?.everyMinutes ?? null, count: b.cadence?.count ?? null };
    const expiresAtMs = b.expiresAt ? Date.parse(b.expiresAt) : null;
    if (expiresAtMs !== null && expiresAtMs <= now) throw new ApiError(400, 'validation', 'alert_expired', { expiresAt: b.expiresAt! });
    if (cadence.count !== null && cadence.count > 1 && cadence.everyMinutes === null) {
      throw new ApiError(400, 'validation', 'alert_cadence', { detail: 'count > 1 needs everyMinutes' });
    }
    if (cadence.everyMinutes !== null && cadence.count === null && expiresAtMs === null) {
      throw new ApiError(400, 'validation', 'alert_cadence', { detail: 'a repeat needs a count or expiresAt' });
    }
    if (status !== 'Actual' && alerts.drillZonesOnly) {
      const rows = await db.selectFrom('zones').select(['name', 'drill']).where('id', 'in', zoneIds).execute();
      const bad = rows.find((r) => !r.drill);
      if (bad) throw new ApiError(422, 'alert_drill_zone', 'alert_drill_zone', { name: bad.name });
    }
    let message: AlertInput['audio']['message'] = b.message ?? { kind: 'speech' as const };
    if (message.kind === 'url') {
      if (!alerts.hasUrlFetcher) throw new ApiError(422, 'alert_url_unavailable', 'alert_url_unavailable');
      const url = message.url;
      try {
        message = await alerts.audio.fetchMessage(url);
      } catch (err) {
        throw new ApiError(422, 'alert_url_failed', 'alert_url_failed', { url, detail: (err as Error).message.replace(/\.$/, '') });
      }
    }
    if (message.kind === 'media') {
      const row = await database.db
        .selectFrom('media')
        .innerJoin('zones', 'zones.id', 'media.zone_id')
        .select(['media.id', 'zones.path'])
        .where('media.id', '=', message.mediaId)
        .executeTakeFirst();
      if (!row || !auth.can('read', row.path)) throw new ApiError(404, 'not_found', 'not_found', { what: 'what_media', id: message.mediaId });
    }
    const attention = b.attention === undefined ? DEFAULT_ATTENTION : b.attention === null ? null : { ...DEFAULT_ATTENTION, ...b.attention };
    return {
      zoneIds,
      status,
      event: b.event,
      category: b.category ?? 'Other',
      severity: b.severity,
      urgency: b.urgency ?? 'Unknown',
      certainty: b.certainty ?? 'Unknown',
      headline: b.headline,
      description: b.description,
      instruction: b.instruction,
      language: b.language,
      audio: { attention, message },
      cadence,
      expiresAtMs,
    };
  }

  /** The alert if the caller may read one of its zones. */
  async function visible(auth: AuthContext, id: string): Promise<AlertRow> {
    const row = await alerts.get(id);
    if (!row) throw alertNotFound(id);
    for (const z of row.zone_ids) {
      const scope = await auth.zoneScope(z);
      if (scope && auth.can('read', scope.path)) return row;
    }
    throw alertNotFound(id);
  }

  async function requireActRights(auth: AuthContext, row: AlertRow): Promise<void> {
    for (const z of row.zone_ids) {
      const scope = await auth.zoneScope(z);
      // A zone deleted since: nothing to check there.
      if (scope) await auth.requireZoneScope('alerts.push', z);
    }
    if (row.state !== 'active' && row.state !== 'done') throw new ApiError(409, 'alert_not_active', 'alert_not_active', { id: row.id, state: row.state });
  }

  const actor = (auth: AuthContext, ip: string): AlertActor => ({ by: auth.user.id, from: ip });

  async function dto(row: AlertRow, withAudit = false) {
    const airings = await db.selectFrom('alert_airings').selectAll().where('alert_id', '=', row.id).orderBy('airing').execute();
    const last = airings.at(-1);
    const next =
      row.state === 'active'
        ? nextAiringAt({ cadence: row.cadence, expiresAtMs: row.expires_at?.getTime() ?? null, airings: airings.length, lastStartedAtMs: last ? last.started_at.getTime() : null })
        : null;
    const audit = withAudit ? await db.selectFrom('alert_audit').selectAll().where('alert_id', '=', row.id).orderBy('id').execute() : undefined;
    return {
      id: row.id,
      version: row.version,
      references: row.references_id,
      supersededBy: row.superseded_by,
      state: row.state,
      status: row.status,
      msgType: row.msg_type,
      event: row.event,
      category: row.category,
      severity: row.severity,
      urgency: row.urgency,
      certainty: row.certainty,
      headline: row.headline,
      description: row.description,
      instruction: row.instruction,
      language: row.language,
      zoneIds: row.zone_ids,
      priority: priorityOut(row.priority),
      audio: row.audio,
      cadence: row.cadence,
      spokenText: alertSpokenText({ status: row.status, headline: row.headline, description: row.description, instruction: row.instruction, issuedAt: row.issued_at }, config.timezone),
      issuedAt: row.issued_at.toISOString(),
      expiresAt: row.expires_at?.toISOString() ?? null,
      endedAt: row.ended_at?.toISOString() ?? null,
      createdBy: row.created_by,
      createdFrom: row.created_from,
      createdAt: row.created_at.toISOString(),
      cap: row.cap_identifier || row.cap_sender ? { identifier: row.cap_identifier, sender: row.cap_sender, sent: row.cap_sent?.toISOString() ?? null } : null,
      airings: airings.map((a) => ({ airing: a.airing, programmeId: a.programme_id, startedAt: a.started_at.toISOString() })),
      nextAiringAt: next === null ? null : new Date(Math.max(next, last?.started_at.getTime() ?? 0)).toISOString(),
      onAir: alerts.programmesOf(row.id),
      ...(audit && { audit: audit.map((a) => ({ action: a.action, by: a.by, from: a.from_address, at: a.at.toISOString(), detail: a.detail })) }),
    };
  }

  app.post(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        description: 'Issues an alert: it airs at once (attention signal, then the message) in its zones, then on its cadence until it expires.',
        body: CreateBody,
        response: { 201: AlertSchema, ...errors(400, 401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      const zoneIds = await resolveZones(auth, request.body);
      const input = await toInput(auth, request.body, zoneIds);
      const row = await alerts.create(input, actor(auth, request.ip));
      return reply.status(201).send(await dto(row, true));
    },
  );

  app.get(
    '/alerts',
    {
      schema: {
        tags: ['alerts'],
        querystring: Type.Object({ state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('updated'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('done')])), limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })) }),
        response: { 200: Type.Object({ items: Type.Array(AlertSchema) }), ...errors(401) },
      },
    },
    async (request) => {
      const auth = request.auth;
      let q = db.selectFrom('alerts').selectAll().orderBy('created_at', 'desc').limit(Math.min(1000, Number(request.query.limit ?? 100)));
      if (request.query.state) q = q.where('state', '=', request.query.state);
      const items = [];
      for (const row of await q.execute()) {
        let ok = false;
        for (const z of row.zone_ids) {
          const scope = await auth.zoneScope(z);
          if (scope && auth.can('read', scope.path)) ok = true;
        }
        if (ok) items.push(await dto(row));
      }
      return { items };
    },
  );

  app.get('/alerts/:id', { schema: { tags: ['alerts'], params: Params, response: { 200: AlertSchema, ...errors(401, 404) } } }, async (request) =>
    dto(await visible(request.auth, request.params.id), true),
  );

  app.post(
    '/alerts/:id/update',
    {
      schema: {
        tags: ['alerts'],
        description: 'A new version of the alert (fields not given are kept): it replaces the old one on air at once.',
        params: Params,
        body: UpdateBody,
        response: { 200: AlertSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const old = await visible(auth, request.params.id);
      await requireActRights(auth, old);
      const b: UpdateBody = request.body;
      const merged: CreateBody = {
        zoneIds: b.zoneIds ?? (b.adminCodes ? undefined : old.zone_ids),
        adminCodes: b.adminCodes,
        status: b.status ?? old.status,
        event: b.event ?? old.event,
        category: (b.category ?? old.category) as CreateBody['category'],
        severity: b.severity ?? (old.severity as CreateBody['severity']),
        urgency: (b.urgency ?? old.urgency) as CreateBody['urgency'],
        certainty: (b.certainty ?? old.certainty) as CreateBody['certainty'],
        headline: b.headline ?? old.headline,
        description: b.description ?? old.description,
        instruction: b.instruction ?? old.instruction,
        language: b.language ?? old.language,
        attention: b.attention !== undefined ? b.attention : old.audio.attention,
        message: (b.message ?? old.audio.message) as CreateBody['message'],
        cadence: b.cadence ?? { ...(old.cadence.everyMinutes !== null && { everyMinutes: old.cadence.everyMinutes }), ...(old.cadence.count !== null && { count: old.cadence.count }) },
        expiresAt: b.expiresAt !== undefined ? b.expiresAt : (old.expires_at?.toISOString() ?? null),
      };
      const zoneIds = await resolveZones(auth, merged);
      const input = await toInput(auth, merged, zoneIds);
      const row = await alerts.update(old.id, input, actor(auth, request.ip));
      if (!row) throw new ApiError(409, 'alert_not_active', 'alert_not_active', { id: old.id, state: (await alerts.get(old.id))?.state ?? 'gone' });
      return dto(row, true);
    },
  );

  app.post(
    '/alerts/:id/cancel',
    {
      schema: {
        tags: ['alerts'],
        description: 'Stops the alert everywhere on the next frame; `notice: true` airs a short "cancelled" notice in its zones.',
        params: Params,
        body: Type.Optional(Type.Object({ notice: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
        response: { 200: Type.Object({ alert: AlertSchema, stopped: Type.Array(Type.String()), noticeProgrammeId: Nullable(Type.String()) }), ...errors(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const auth = request.auth;
      const old = await visible(auth, request.params.id);
      await requireActRights(auth, old);
      const r = await alerts.cancel(old.id, actor(auth, request.ip), { notice: request.body?.notice ?? false });
      if (!r) throw new ApiError(409, 'alert_not_active', 'alert_not_active', { id: old.id, state: (await alerts.get(old.id))?.state ?? 'gone' });
      return { alert: await dto(r.row, true), stopped: r.stopped, noticeProgrammeId: r.noticeProgrammeId };
    },
  );

  async function report(id: string, airing: number | undefined) {
    let aq = db.selectFrom('alert_airings').selectAll().where('alert_id', '=', id).orderBy('airing');
    if (airing !== undefined) aq = aq.where('airing', '=', airing);
    const airings = await aq.execute();
    let dq = db.selectFrom('alert_delivery').selectAll().where('alert_id', '=', id).orderBy('airing').orderBy('endpoint_name').orderBy('endpoint_id');
    if (airing !== undefined) dq = dq.where('airing', '=', airing);
    const rows = (await dq.execute()).map(deliveryDto);
    return {
      alertId: id,
      airings: airings.map((a) => {
        const endpoints = rows.filter((r) => r.airing === a.airing);
        const n = (s: DeliveryUpdate['status']) => endpoints.filter((e) => e.status === s).length;
        return { airing: a.airing, programmeId: a.programme_id, startedAt: a.started_at.toISOString(), reached: n('reached'), notReached: n('not-reached'), offline: n('offline'), endpoints };
      }),
    };
  }

  app.get(
    '/alerts/:id/delivery',
    { schema: { tags: ['alerts'], params: Params, querystring: DeliveryQuery, response: { 200: DeliveryReport, ...errors(401, 404) } } },
    async (request) => {
      const row = await visible(request.auth, request.params.id);
      return report(row.id, request.query.airing === undefined ? undefined : Number(request.query.airing));
    },
  );

  app.get(
    '/alerts/:id/delivery.csv',
    { schema: { tags: ['alerts'], params: Params, querystring: DeliveryQuery, produces: ['text/csv'], response: { 200: Type.String(), ...errors(401, 404) } } },
    async (request, reply) => {
      const row = await visible(request.auth, request.params.id);
      const r = await report(row.id, request.query.airing === undefined ? undefined : Number(request.query.airing));
      const lines = ['alert_id,airing,airing_started_at,endpoint_id,endpoint_name,zone_id,status,at,last_contact,via'];
      for (const a of r.airings) {
        for (const e of a.endpoints) {
          lines.push([e.alertId, e.airing, a.startedAt, e.endpointId, e.endpointName, e.zoneId, e.status, e.at, e.lastContact, e.via].map(csvCell).join(','));
        }
      }
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${row.id}-delivery.csv"`)
        .send(`${lines.join('\r\n')}\r\n`);
    },
  );

  app.get(
    '/alerts/:id/delivery/stream',
    {
      schema: {
        tags: ['alerts'],
        description: 'Server-sent events: one `delivery` event per row as it changes (the current rows first), and a comment every 15 s.',
        params: Params,
        produces: ['text/event-stream'],
        response: { ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const row = await visible(request.auth, request.params.id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (u: DeliveryUpdate) => res.write(`event: delivery\ndata: ${JSON.stringify(u)}\n\n`);
      // Listen first, then send what is there: an update in between is sent twice, never lost.
      const onUpdate = (u: DeliveryUpdate) => {
        if (u.alertId === row.id) send(u);
      };
      alerts.delivery.on('update', onUpdate);
      const keepalive = setInterval(() => res.write(': keepalive\n\n'), 15_000);
      const done = () => {
        clearInterval(keepalive);
        alerts.delivery.off('update', onUpdate);
      };
      res.on('close', done);
      const current = await db.selectFrom('alert_delivery').selectAll().where('alert_id', '=', row.id).orderBy('airing').execute();
      for (const r of current) send(deliveryDto(r));
      res.write('event: ready\ndata: {}\n\n');
    },
  );
};
export default alertRoutes;
