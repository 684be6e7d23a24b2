// CAP 1.2 ingest: `POST /api/v1/alerts/cap` with a CAP document (application/cap+xml). The
// sender is an authenticated user (a disaster committee's account, or the account of the system
// that forwards its feed) with alerts.push on the zones the alert's areas reach; areas are only
// matched against zones the sender can see, so a document cannot probe the rest of the tree.
// Every refusal says where and why (`details`, one entry per reason), is logged (at most one
// line per reason a minute) and counted; nothing from a refused document airs or is stored.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { findAudioResource, loadResourceAudio } from '../../cap/fetch-resource.js';
import { parseCap, type CapAlert, type CapError } from '../../cap/parse.js';
import { mapAlertToZones, type ZoneGeography } from '../../cap/areas.js';
import type { LatLon } from '../../cap/syntax.js';
import { listSetting } from '../config.js';
import { ApiError, type ApiErrorDetail } from '../errors.js';
import type { MessageKey } from '../i18n.js';
import type { AuthContext } from '../auth/context.js';
import { capNoAirReason, capToInput, pickInfo, referencedAlerts } from '../alerts/cap-ingest.js';
import type { AlertInput } from '../alerts/service.js';
import { storeAlertAudio } from '../alerts/stored-audio.js';
import { alertDb, type AlertRow } from '../alerts/tables.js';
import type { AlertRouteDeps } from './alerts.js';
import { errors } from './schemas.js';

/** Largest CAP document accepted (bytes): text alerts are a few KB; embedded audio makes them larger. */
export const MAX_CAP_BYTES = 8 * 1024 * 1024;
const CAP_TYPES = ['application/cap+xml', 'application/xml', 'text/xml'];

const Outcome = Type.Object({
  action: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('cancelled'), Type.Literal('acknowledged')]),
  alertId: Type.Union([Type.String(), Type.Null()]),
  zoneIds: Type.Array(Type.String()),
  /** Area parts that reached no zone (reported, not silently dropped). */
  unmatched: Type.Array(Type.Object({ area: Type.String(), kind: Type.String(), value: Type.String(), reason: Type.String() })),
  reason: Type.Optional(Type.String()),
});

/** Refusals by reason, logged at most once a minute per reason. */
class RefusalLog {
  readonly counts = new Map<string, number>();
  private readonly lastLogged = new Map<string, number>();
  constructor(private readonly log: (fields: object, line: string) => void) {}
  refused(code: string, fields: object): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    const now = Date.now();
    if (now - (this.lastLogged.get(code) ?? -Infinity) < 60_000) return;
    this.lastLogged.set(code, now);
    this.log({ ...fields, code, refusedSoFar: this.counts.get(code) }, 'CAP document refused');
  }
}

/** Who acts: the CAP sender, through the account that posted its document (both kept in the audit and the as-run log). */
const capActor = (alert: CapAlert, auth: AuthContext, ip: string) => ({ by: `cap:${alert.sender} (${auth.user.username})`, from: ip });

const capDetail = (e: CapError): ApiErrorDetail => ({ path: e.path, code: e.code, messageKey: `cap_${e.code}` as MessageKey, params: e.params });

const capRoutes: FastifyPluginAsyncTypebox<AlertRouteDeps> = async (app, { database, alerts, config }) => {
  const db = alertDb(database.db);
  const refusals = new RefusalLog((fields, line) => app.log.warn(fields, line));
  const valueNames = listSetting(config.capGeocodeNames);
  const allowHosts = listSetting(config.capAllowHosts);

  app.addContentTypeParser(CAP_TYPES, { parseAs: 'buffer', bodyLimit: MAX_CAP_BYTES }, (_request, body, done) => done(null, body));

  const refuse = (status: number, code: string, key: MessageKey, params: Record<string, string | number>, details: ApiErrorDetail[], sender: string | null, ip: string) => {
    refusals.refused(code, { sender, from: ip, reasons: details.map((d) => `${d.path} ${d.code}`).slice(0, 5) });
    return new ApiError(status, code, key, params, details);
  };

  /** The zones the caller can see, with what CAP areas are matched against. */
  async function geography(auth: AuthContext): Promise<ZoneGeography[]> {
    const rows = await db.selectFrom('zones').select(['id', 'path', 'admin_code', 'latitude', 'longitude', 'polygon']).execute();
    return rows
      .filter((z) => auth.can('read', z.path))
      .map((z) => ({
        id: z.id,
        adminCodes: z.admin_code ? [z.admin_code] : undefined,
        point: z.latitude !== null && z.longitude !== null ? ([z.latitude, z.longitude] as LatLon) : undefined,
        polygon: (z.polygon as LatLon[] | null) ?? undefined,
      }));
  }

  /** The alert a reference names (the newest version made from it), if the caller may act on it. */
  async function referenced(auth: AuthContext, alert: CapAlert): Promise<AlertRow | undefined> {
    for (const ref of referencedAlerts(alert)) {
      const rows = await db
        .selectFrom('alerts')
        .selectAll()
        .where('cap_sender', '=', ref.sender)
        .where('cap_identifier', '=', ref.identifier)
        .orderBy('version', 'desc')
        .execute();
      // The version on air now: an Update replaced the one referenced, so follow the chain.
      let row: AlertRow | undefined = rows[0];
      while (row?.superseded_by) row = await alerts.get(row.superseded_by);
      if (row) {
        for (const z of row.zone_ids) if (await auth.zoneScope(z)) await auth.requireZoneScope('alerts.push', z);
        return row;
      }
    }
    return undefined;
  }

  app.post(
    '/alerts/cap',
    {
      bodyLimit: MAX_CAP_BYTES,
      schema: {
        tags: ['alerts'],
        description:
          'A CAP 1.2 document (application/cap+xml): msgType Alert issues an alert in the zones its areas reach (geocode MA_DVHC = a zone’s administrative code; polygon or circle = zones with coordinates inside), Update replaces and Cancel stops the alert its <references> name. Refusals list every reason in `details`.',
        response: { 200: Outcome, 201: Outcome, ...errors(400, 401, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      const bytes = request.body as Buffer;
      const parsed = parseCap(bytes, { maxBytes: MAX_CAP_BYTES });
      if (!parsed.ok) {
        const first = parsed.errors[0];
        throw refuse(400, 'cap_invalid', `cap_${first.code}` as MessageKey, first.params, parsed.errors.map(capDetail), null, request.ip);
      }
      const alert = parsed.alert;
      const noAir = capNoAirReason(alert);
      if (noAir) return reply.status(200).send({ action: 'acknowledged', alertId: null, zoneIds: [], unmatched: [], reason: noAir });

      if (alert.msgType === 'Cancel') {
        const row = await referenced(auth, alert);
        if (!row) throw refuse(404, 'cap_reference_unknown', 'cap_reference_unknown', { references: alert.references.map((r) => r.identifier).join(', ') }, [], alert.sender, request.ip);
        const r = await alerts.cancel(row.id, capActor(alert, auth, request.ip), { notice: alert.info.length > 0 });
        if (!r) throw new ApiError(409, 'alert_not_active', 'alert_not_active', { id: row.id, state: row.state });
        return { action: 'cancelled' as const, alertId: row.id, zoneIds: row.zone_ids, unmatched: [] };
      }

      const info = pickInfo(alert);
      if (!info) throw refuse(422, 'cap_no_info', 'cap_no_info', {}, [], alert.sender, request.ip);
      const match = mapAlertToZones({ ...alert, info: [info] }, await geography(auth), { valueNames });
      const unmatched = match.unmatched.map((u) => ({ area: u.areaDesc, kind: u.kind, value: u.value, reason: u.reason }));
      if (match.zoneIds.length === 0) {
        throw refuse(422, 'cap_no_zones', 'cap_no_zones', { areas: info.area.map((a) => a.areaDesc).join('; ') }, [], alert.sender, request.ip);
      }
      for (const z of match.zoneIds) await auth.requireZoneScope('alerts.push', z);

      let message: AlertInput['audio']['message'] = { kind: 'speech' };
      const resource = findAudioResource(info.resource);
      if (resource) {
        const audio = await loadResourceAudio(resource, { allowHosts });
        if (!audio.ok) {
          const e = audio.error;
          throw refuse(422, 'cap_resource', `cap_resource_${e.code}` as MessageKey, e.params, [{ path: '/alert/info/resource', code: e.code, messageKey: `cap_resource_${e.code}` as MessageKey, params: e.params }], alert.sender, request.ip);
        }
        try {
          const stored = await storeAlertAudio(config.dataDir, config.ffmpegPath, audio.bytes);
          message = { kind: 'stored', sha256: stored.sha256, mimeType: audio.mimeType };
        } catch (err) {
          throw refuse(422, 'cap_resource', 'cap_resource_not_audio', { type: audio.mimeType, detail: (err as Error).message }, [], alert.sender, request.ip);
        }
      }
      const input = capToInput(alert, info, match.zoneIds, message);
      if (input.expiresAtMs !== null && input.expiresAtMs !== undefined && input.expiresAtMs <= alerts.clock.now()) {
        throw refuse(422, 'alert_expired', 'alert_expired', { expiresAt: info.expires! }, [], alert.sender, request.ip);
      }
      const actor = capActor(alert, auth, request.ip);

      if (alert.msgType === 'Update') {
        const old = await referenced(auth, alert);
        if (!old) throw refuse(404, 'cap_reference_unknown', 'cap_reference_unknown', { references: alert.references.map((r) => r.identifier).join(', ') }, [], alert.sender, request.ip);
        const row = await alerts.update(old.id, input, actor);
        if (!row) throw new ApiError(409, 'alert_not_active', 'alert_not_active', { id: old.id, state: old.state });
        return { action: 'updated' as const, alertId: row.id, zoneIds: match.zoneIds, unmatched };
      }
      // The same document again (a feed polled twice, a sender's retry): the alert it made stands.
      const same = await db.selectFrom('alerts').select('id').where('cap_sender', '=', alert.sender).where('cap_identifier', '=', alert.identifier).executeTakeFirst();
      if (same) return reply.status(200).send({ action: 'acknowledged', alertId: same.id, zoneIds: match.zoneIds, unmatched, reason: 'duplicate' });
      const row = await alerts.create(input, actor);
      return reply.status(201).send({ action: 'created', alertId: row.id, zoneIds: match.zoneIds, unmatched });
    },
  );
};

export default capRoutes;
