/**
 * The delivery report of alert airings: every endpoint in the alert's zones, per airing,
 * reached / not reached / offline, and when.
 *
 *  - Speaker agents: when the engine says the airing took the air in a zone, the agents
 *    connected there are sent a 'watch' (control channel); each answers 'played' with the
 *    playout time of the first frame of it that reached its loudspeaker → reached, then.
 *  - Fixed RTP receivers (no agent): their first RTCP receiver report after the airing took
 *    the air in their zone → reached at that report (a report proves packets arrive, not that
 *    sound came out: the best a plain RTP device can say).
 *  - Endpoints with neither link at airing time: offline, with their last contact.
 *
 * Rows are written when the airing starts (all 'not-reached' or 'offline') and updated as
 * reports come; every change is emitted as 'update' for the live stream.
 */
import { EventEmitter } from 'node:events';
import type { Kysely } from 'kysely';
import type { EndpointStatsEvent, ProgrammeZoneEvent } from '../../engine/protocol.js';
import type { BroadcastHost } from '../broadcast/engine-host.js';
import type { Logger } from '../logger.js';
import { inSubtrees } from '../zone-tree.js';
import type { AlertDB, DeliveryRow, DeliveryStatus } from './tables.js';

export interface DeliveryUpdate {
  alertId: string;
  airing: number;
  endpointId: string;
  endpointName: string;
  zoneId: string;
  status: DeliveryStatus;
  at: string | null;
  lastContact: string | null;
  via: string | null;
}

export function deliveryDto(r: DeliveryRow): DeliveryUpdate {
  return {
    alertId: r.alert_id,
    airing: r.airing,
    endpointId: r.endpoint_id,
    endpointName: r.endpoint_name,
    zoneId: r.zone_id,
    status: r.status,
    at: r.at ? r.at.toISOString() : null,
    lastContact: r.last_contact ? r.last_contact.toISOString() : null,
    via: r.via,
  };
}

interface Watched {
  alertId: string;
  airing: number;
  /** Zone → epoch ms the airing took the air there (engine frame time). */
  onAir: Map<string, number>;
  /** Reports that came before the rows were written. */
  early: Map<string, { atMs: number; via: string }>;
  /** Endpoint → how it is reached, once the rows are written. */
  rows: Map<string, { zoneId: string; via: 'agent' | 'rtcp' | null; reached: boolean }> | null;
}

/** Airings followed at once; the oldest is forgotten beyond this (its rows stay as they are). */
const MAX_WATCHED = 256;

export class DeliveryTracker extends EventEmitter<{ update: [DeliveryUpdate] }> {
  private readonly watched = new Map<string, Watched>();
  private readonly offProgramme: () => void;
  private readonly offStats: () => void;
  private readonly offPlayed: () => void;

  constructor(
    private readonly db: Kysely<AlertDB>,
    private readonly host: BroadcastHost,
    private readonly logger: Logger,
  ) {
    super();
    const onProgramme = (e: ProgrammeZoneEvent) => this.onProgramme(e);
    const onStats = (e: EndpointStatsEvent) => this.onRtcp(e);
    const onPlayed = (endpointId: string, programmeId: string, atMs: number) => this.reached(programmeId, endpointId, atMs, 'agent');
    host.engine.on('programme', onProgramme);
    host.engine.on('endpointStats', onStats);
    host.agentReports.on('played', onPlayed);
    this.offProgramme = () => host.engine.off('programme', onProgramme);
    this.offStats = () => host.engine.off('endpointStats', onStats);
    this.offPlayed = () => host.agentReports.off('played', onPlayed);
  }

  /** Call before the airing is played, so its first on-air event is not missed. */
  expect(programmeId: string, alertId: string, airing: number): void {
    this.watched.set(programmeId, { alertId, airing, onAir: new Map(), early: new Map(), rows: null });
    while (this.watched.size > MAX_WATCHED) this.watched.delete(this.watched.keys().next().value!);
  }

  /** Writes the airing's rows: every enabled endpoint under the alert's zones, as linked now. */
  async begin(programmeId: string, zoneIds: readonly string[]): Promise<void> {
    const w = this.watched.get(programmeId);
    if (!w) return;
    const zones = await this.db.selectFrom('zones').select(['path']).where('id', 'in', [...zoneIds]).execute();
    const endpoints = zones.length
      ? await this.db
          .selectFrom('endpoints')
          .innerJoin('zones', 'zones.id', 'endpoints.zone_id')
          .select(['endpoints.id', 'endpoints.name', 'endpoints.zone_id', 'endpoints.last_seen_at'])
          .where('endpoints.enabled', '=', true)
          .where(inSubtrees('zones.path', zones.map((z) => z.path)))
          .execute()
      : [];
    const rows = new Map<string, { zoneId: string; via: 'agent' | 'rtcp' | null; reached: boolean }>();
    const values = endpoints.map((e) => {
      const link = this.host.endpointLink(e.id);
      const via = link === 'agent' ? 'agent' : link === 'fixed' ? 'rtcp' : null;
      const early = w.early.get(e.id);
      rows.set(e.id, { zoneId: e.zone_id, via, reached: early !== undefined });
      return {
        alert_id: w.alertId,
        airing: w.airing,
        endpoint_id: e.id,
        endpoint_name: e.name,
        zone_id: e.zone_id,
        status: (early ? 'reached' : via ? 'not-reached' : 'offline') as DeliveryStatus,
        at: early ? new Date(early.atMs) : null,
        last_contact: e.last_seen_at,
        via: early?.via ?? via,
      };
    });
    if (values.length) {
      const written = await this.db.insertInto('alert_delivery').values(values).onConflict((oc) => oc.doNothing()).returningAll().execute();
      for (const r of written) this.emit('update', deliveryDto(r));
    }
    w.rows = rows;
    w.early.clear();
  }

  /** Stops following an airing (its rows stay as they are). */
  forget(programmeId: string): void {
    this.watched.delete(programmeId);
  }

  close(): void {
    this.offProgramme();
    this.offStats();
    this.offPlayed();
    this.watched.clear();
    this.removeAllListeners();
  }

  private onProgramme(e: ProgrammeZoneEvent): void {
    const w = this.watched.get(e.programmeId);
    if (!w || (e.state !== 'on-air' && e.state !== 'resumed') || w.onAir.has(e.zoneId)) return;
    w.onAir.set(e.zoneId, e.atMs);
    this.host.watchProgramme(e.zoneId, e.programmeId, e.atMs);
  }

  private onRtcp(e: EndpointStatsEvent): void {
    for (const [programmeId, w] of this.watched) {
      const row = w.rows?.get(e.endpointId);
      if (!row || row.reached || row.via !== 'rtcp') continue;
      const since = w.onAir.get(row.zoneId);
      if (since !== undefined && e.atMs > since) this.reached(programmeId, e.endpointId, e.atMs, 'rtcp');
    }
  }

  private reached(programmeId: string, endpointId: string, atMs: number, via: string): void {
    const w = this.watched.get(programmeId);
    if (!w) return;
    if (!w.rows) {
      if (!w.early.has(endpointId)) w.early.set(endpointId, { atMs, via });
      return;
    }
    const row = w.rows.get(endpointId);
    if (!row || row.reached) return;
    row.reached = true;
    void this.db
      .updateTable('alert_delivery')
      .set({ status: 'reached', at: new Date(atMs), via })
      .where('alert_id', '=', w.alertId)
      .where('airing', '=', w.airing)
      .where('endpoint_id', '=', endpointId)
      .returningAll()
      .executeTakeFirst()
      .then(
        (r) => r && this.emit('update', deliveryDto(r)),
        (err) => {
          row.reached = false;
          this.logger.warn({ err, programmeId, endpointId }, 'delivery report could not be written');
        },
      );
  }
}
