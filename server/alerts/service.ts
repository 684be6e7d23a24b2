/**
 * Alerts on air: creation, update (the new version replaces the old one on air at once),
 * cancel (stopped everywhere on the next frame, and an optional audible notice), the cadence
 * (every N minutes and/or N times, until expiry) and the delivery report.
 *
 * Time comes from an injectable clock, and the next airing of an alert is computed from its
 * airings stored in the database (cadence.ts), so a restart in the middle of a cadence
 * continues it. An airing in progress survives a crash like any emergency programme: it is
 * durable in the programme ledger (broadcast/programme-ledger.ts) and resumed by main.ts.
 *
 * Every change goes through one queue, so the cadence tick, the API and expiry never
 * interleave on one alert.
 */
import type { Kysely } from 'kysely';
import { PRIORITY } from '../../domain/priority.js';
import { newProgrammeId, type BroadcastHost } from '../broadcast/engine-host.js';
import type { Database } from '../db/types.js';
import { randomBase32 } from '../ids.js';
import type { Logger } from '../logger.js';
import { AlertAudioBuilder, type AudioUrlFetcher, type SpeechSynth } from './audio.js';
import { isExpired, nextAiringAt } from './cadence.js';
import { DeliveryTracker } from './delivery.js';
import { alertSpokenText, cancelledSpokenText } from './spoken-text.js';
import { GAP_MS } from './audio.js';
import { alertDb, type AlertAudio, type AlertCadence, type AlertDB, type AlertMsgType, type AlertRow, type AlertStatus } from './tables.js';

export interface AlertClock {
  now(): number;
}
export const systemClock: AlertClock = { now: () => Date.now() };

export interface AlertServiceOptions {
  database: Database;
  host: BroadcastHost;
  logger: Logger;
  dataDir: string;
  /** Time zone the time of issue is spoken in (the server's). */
  timeZone: string;
  clock?: AlertClock;
  /** How often the cadence is checked (default 1000 ms; 0: never by itself, tests call tick()). */
  tickMs?: number;
  speech?: SpeechSynth;
  fetchUrl?: AudioUrlFetcher;
  /** Exercises and tests only in zones flagged as drill zones (default false). */
  drillZonesOnly?: boolean;
  /** Longest an airing may run (default 30 min): a stuck file never holds the air for good. */
  maxAiringMs?: number;
}

/** Who acts: a user id or `cap:<sender>`, and from which address. */
export interface AlertActor {
  by: string;
  from: string | null;
}

/** An alert as the API (or CAP ingest) hands it over: zones resolved, rights checked. */
export interface AlertInput {
  zoneIds: string[];
  status: AlertStatus;
  msgType?: AlertMsgType;
  event: string;
  category: string;
  severity: string;
  urgency: string;
  certainty: string;
  headline: string;
  description?: string;
  instruction?: string;
  language?: string;
  audio: AlertAudio;
  cadence: AlertCadence;
  /** Epoch ms; default now. */
  issuedAtMs?: number;
  expiresAtMs?: number | null;
  /** Default: from the severity (alertPriority). */
  priority?: number;
  cap?: { identifier: string; sender: string; sentMs: number };
}

/**
 * Extreme and Severe air at emergency priority (they cut in over everything, a live
 * announcement included); Moderate, Minor and Unknown at 'priority': above the timetable,
 * under a live announcement by a commune official, which may be about the same danger.
 */
export function alertPriority(severity: string): number {
  return severity === 'Extreme' || severity === 'Severe' ? PRIORITY.emergency : PRIORITY.priority;
}

interface Active {
  row: AlertRow;
  airings: number;
  lastStartedAtMs: number | null;
}

export class AlertService {
  readonly delivery: DeliveryTracker;
  readonly audio: AlertAudioBuilder;
  readonly clock: AlertClock;
  private readonly db: Kysely<AlertDB>;
  private readonly active = new Map<string, Active>();
  /** Per alert: the speech being synthesised for its current airing (see followWithSpeech). */
  private readonly pendingSpeech = new Map<string, object>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly opts: AlertServiceOptions) {
    this.db = alertDb(opts.database.db);
    this.clock = opts.clock ?? systemClock;
    this.delivery = new DeliveryTracker(this.db, opts.host, opts.logger);
    this.audio = new AlertAudioBuilder({ db: opts.database.db, dataDir: opts.dataDir, speech: opts.speech, fetchUrl: opts.fetchUrl });
  }

  /** Loads the alerts still in effect (with their stored airings) and continues their cadence. */
  static async start(opts: AlertServiceOptions): Promise<AlertService> {
    const s = new AlertService(opts);
    const rows = await s.db.selectFrom('alerts').selectAll().where('state', '=', 'active').execute();
    for (const row of rows) {
      const last = await s.db.selectFrom('alert_airings').select(['airing', 'started_at']).where('alert_id', '=', row.id).orderBy('airing', 'desc').limit(1).executeTakeFirst();
      s.active.set(row.id, { row, airings: last?.airing ?? 0, lastStartedAtMs: last ? last.started_at.getTime() : null });
    }
    if (rows.length) opts.logger.info({ alerts: rows.map((r) => r.id) }, 'alerts in effect resumed their cadence');
    await s.tick();
    const every = opts.tickMs ?? 1000;
    if (every > 0) {
      s.timer = setInterval(() => void s.tick(), every);
      s.timer.unref();
    }
    return s;
  }

  get drillZonesOnly(): boolean {
    return this.opts.drillZonesOnly ?? false;
  }

  get hasSpeech(): boolean {
    return this.audio.hasSpeech;
  }

  get hasUrlFetcher(): boolean {
    return this.audio.hasUrlFetcher;
  }

  /** Creates an alert and airs it at once; resolves with its row once the first airing is handed to the engine. */
  create(input: AlertInput, actor: AlertActor): Promise<AlertRow> {
    return this.serial(async () => {
      const row = await this.insert(input, actor, { version: 1, referencesId: null });
      await this.audit(row.id, 'create', actor, { zoneIds: input.zoneIds, status: input.status, ...(input.cap && { cap: input.cap.identifier }) });
      this.active.set(row.id, { row, airings: 0, lastStartedAtMs: null });
      await this.runDue(row.id);
      return (await this.get(row.id))!;
    });
  }

  /** A new version replacing `id` (taken off air at once, the new one aired at once). */
  update(id: string, input: AlertInput, actor: AlertActor): Promise<AlertRow | undefined> {
    return this.serial(async () => {
      const old = await this.get(id);
      if (!old || (old.state !== 'active' && old.state !== 'done')) return undefined;
      this.stopAiring(id);
      const row = await this.insert(input, actor, { version: old.version + 1, referencesId: old.id });
      await this.db.updateTable('alerts').set({ state: 'updated', superseded_by: row.id, ended_at: new Date(this.clock.now()) }).where('id', '=', old.id).execute();
      this.active.delete(old.id);
      await this.audit(old.id, 'update', actor, { newVersion: row.id });
      await this.audit(row.id, 'create', actor, { references: old.id, zoneIds: input.zoneIds });
      this.active.set(row.id, { row, airings: 0, lastStartedAtMs: null });
      await this.runDue(row.id);
      return (await this.get(row.id))!;
    });
  }

  /** Stops the alert everywhere (next frame) and, if asked, airs a short "cancelled" notice. */
  cancel(id: string, actor: AlertActor, opts: { notice?: boolean } = {}): Promise<{ row: AlertRow; stopped: string[]; noticeProgrammeId: string | null } | undefined> {
    return this.serial(async () => {
      const old = await this.get(id);
      if (!old || (old.state !== 'active' && old.state !== 'done')) return undefined;
      const stopped = this.stopAiring(id);
      this.active.delete(id);
      await this.db.updateTable('alerts').set({ state: 'cancelled', ended_at: new Date(this.clock.now()) }).where('id', '=', id).execute();
      let noticeProgrammeId: string | null = null;
      if (opts.notice) {
        const text = cancelledSpokenText(this.spoken(old), this.opts.timeZone);
        const spec = await this.audio.cancelNotice(text, old.language);
        noticeProgrammeId = this.opts.host.play({
          zoneIds: old.zone_ids,
          priority: old.priority,
          source: spec,
          maxDurationMs: 5 * 60_000,
          title: `Huỷ: ${old.headline}`,
          kind: 'alert',
          by: actor.by,
          request: { kind: 'alert-cancelled', alertId: id },
          durable: true,
        }).programmeId;
      }
      await this.audit(id, 'cancel', actor, { stopped, notice: noticeProgrammeId });
      return { row: (await this.get(id))!, stopped, noticeProgrammeId };
    });
  }

  /** Airs what is due and expires what is over (the timer calls it; tests call it on simulated time). */
  tick(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.serial(async () => {
      for (const id of [...this.active.keys()]) await this.runDue(id);
    });
  }

  async get(id: string): Promise<AlertRow | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The alert's programmes on air now (its airings, not a cancel notice). */
  programmesOf(id: string): string[] {
    return this.opts.host
      .activeProgrammes()
      .filter((p) => (p.request as { kind?: string; alertId?: string } | undefined)?.kind === 'alert' && (p.request as { alertId: string }).alertId === id)
      .map((p) => p.programmeId);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue.catch(() => {});
    this.delivery.close();
  }

  // ---- inside the queue ----------------------------------------------------------------

  private async runDue(id: string): Promise<void> {
    const a = this.active.get(id);
    if (!a) return;
    const now = this.clock.now();
    const expiresAtMs = a.row.expires_at ? a.row.expires_at.getTime() : null;
    if (isExpired(expiresAtMs, now)) {
      const stopped = this.stopAiring(id);
      this.active.delete(id);
      await this.db.updateTable('alerts').set({ state: 'expired', ended_at: new Date(now) }).where('id', '=', id).execute();
      await this.audit(id, 'expire', { by: 'system', from: null }, { stopped });
      this.opts.logger.info({ alertId: id, stopped }, 'alert expired');
      return;
    }
    const next = nextAiringAt({ cadence: a.row.cadence, expiresAtMs, airings: a.airings, lastStartedAtMs: a.lastStartedAtMs });
    if (next === null) {
      // No airing left, no expiry to wait for and its last airing over: it has said all it had to say.
      if (expiresAtMs === null && this.programmesOf(id).length === 0 && !this.pendingSpeech.has(id)) {
        this.active.delete(id);
        await this.db.updateTable('alerts').set({ state: 'done', ended_at: new Date(now) }).where('id', '=', id).execute();
      }
      return;
    }
    if (next > now) return;
    await this.air(a, now);
  }

  private async air(a: Active, now: number): Promise<void> {
    const row = a.row;
    const airing = a.airings + 1;
    const text = alertSpokenText(this.spoken(row), this.opts.timeZone);
    // New speech takes seconds to synthesise (1.6–2.5 s for a 40 s bulletin on the 2-core
    // machine): the siren must not wait for it. It airs at once, and the speech, synthesised
    // while the siren plays, follows it as the airing's second programme.
    const attention = this.audio.attentionSpec(row.audio);
    const split = attention !== null && (await this.audio.speechPending(row.audio, text, row.language));
    const { spec, warnings } = split ? { spec: attention, warnings: [] as string[] } : await this.audio.airing(row.audio, text, row.language);
    const programmeId = newProgrammeId();
    this.delivery.expect(programmeId, row.id, airing);
    // Whatever airs of the previous airing gives way to this one.
    this.stopAiring(row.id);
    const playedAt = Date.now();
    this.opts.host.play({ ...this.airingPlay(row, airing, split ? 'attention' : 'whole'), programmeId, source: spec });
    if (split) this.followWithSpeech(row, airing, text, playedAt + row.audio.attention!.durationMs + GAP_MS);
    a.airings = airing;
    a.lastStartedAtMs = now;
    await this.db.insertInto('alert_airings').values({ alert_id: row.id, airing, programme_id: programmeId, started_at: new Date(now) }).execute();
    if (warnings.length) {
      this.opts.logger.warn({ alertId: row.id, airing, warnings }, 'alert airs without part of its audio');
      await this.audit(row.id, 'audio-warning', { by: 'system', from: null }, { airing, warnings });
    }
    this.opts.logger.info({ alertId: row.id, airing, programmeId, zones: row.zone_ids, priority: row.priority }, 'alert airing');
    await this.delivery.begin(programmeId, row.zone_ids).catch((err) => this.opts.logger.warn({ err, alertId: row.id }, 'delivery report rows could not be written'));
  }

  /** What every programme of an airing has in common. */
  private airingPlay(row: AlertRow, airing: number, part: 'whole' | 'attention' | 'message') {
    return {
      zoneIds: row.zone_ids,
      priority: row.priority,
      maxDurationMs: this.opts.maxAiringMs ?? 30 * 60_000,
      title: `${row.status === 'Actual' ? '' : `[${row.status}] `}${row.headline}`,
      kind: 'alert' as const,
      // The as-run log says who issued it (a user id or cap:<sender>), not just 'alert'.
      by: row.created_by,
      request: { kind: 'alert', alertId: row.id, airing, part },
      durable: true,
    };
  }

  /**
   * Synthesises the airing's speech while its siren plays, then airs it from `startAt` (the end
   * of the siren and its gap; at once if the speech is later). A cancel, an update, an expiry or
   * the next airing in the meantime drops it.
   */
  private followWithSpeech(row: AlertRow, airing: number, text: string, startAt: number): void {
    const token = {};
    this.pendingSpeech.set(row.id, token);
    void this.audio
      .speechMessage(text, row.language)
      .then((source) => {
        if (this.pendingSpeech.get(row.id) !== token || this.closed) return;
        this.pendingSpeech.delete(row.id);
        this.opts.host.play({ ...this.airingPlay(row, airing, 'message'), source, ...(startAt > Date.now() && { startAt }) });
      })
      .catch(async (err: Error) => {
        if (this.pendingSpeech.get(row.id) === token) this.pendingSpeech.delete(row.id);
        this.opts.logger.warn({ alertId: row.id, airing, err }, 'alert airs without its speech');
        await this.audit(row.id, 'audio-warning', { by: 'system', from: null }, { airing, warnings: [`message_failed: ${err.message}`] }).catch(() => {});
      });
  }

  private stopAiring(id: string): string[] {
    this.pendingSpeech.delete(id);
    const ids = this.programmesOf(id);
    for (const p of ids) this.opts.host.stop(p);
    return ids;
  }

  private spoken(row: AlertRow) {
    return { status: row.status, headline: row.headline, description: row.description, instruction: row.instruction, issuedAt: row.issued_at };
  }

  private async insert(input: AlertInput, actor: AlertActor, v: { version: number; referencesId: string | null }): Promise<AlertRow> {
    const now = this.clock.now();
    return this.db
      .insertInto('alerts')
      .values({
        id: `alr_${randomBase32()}`,
        version: v.version,
        references_id: v.referencesId,
        cap_identifier: input.cap?.identifier ?? null,
        cap_sender: input.cap?.sender ?? null,
        cap_sent: input.cap ? new Date(input.cap.sentMs) : null,
        status: input.status,
        msg_type: input.msgType ?? (v.referencesId ? 'Update' : 'Alert'),
        event: input.event,
        category: input.category,
        severity: input.severity,
        urgency: input.urgency,
        certainty: input.certainty,
        headline: input.headline,
        description: input.description ?? '',
        instruction: input.instruction ?? '',
        language: input.language ?? 'vi-VN',
        zone_ids: JSON.stringify(input.zoneIds),
        priority: input.priority ?? alertPriority(input.severity),
        audio: JSON.stringify(input.audio),
        cadence: JSON.stringify(input.cadence),
        issued_at: new Date(input.issuedAtMs ?? now),
        expires_at: input.expiresAtMs == null ? null : new Date(input.expiresAtMs),
        state: 'active',
        created_by: actor.by,
        created_from: actor.from,
        created_at: new Date(now),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  private async audit(alertId: string, action: string, actor: AlertActor, detail: Record<string, unknown>): Promise<void> {
    await this.db
      .insertInto('alert_audit')
      .values({ alert_id: alertId, action, by: actor.by, from_address: actor.from, at: new Date(this.clock.now()), detail: JSON.stringify(detail) })
      .execute();
    this.opts.logger.info({ alertId, action, by: actor.by, from: actor.from, ...detail }, 'alert audit');
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch((err) => this.opts.logger.error({ err }, 'alert service step failed'));
    return run;
  }
}
