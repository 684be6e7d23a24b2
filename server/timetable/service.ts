// The timetable at work: entries from the database into a Planner, each due airing handed to
// the media engine `leadMs` early with startAt = its start (the engine starts it exactly on
// that frame), edits from the API applied at once, and — at startup — whatever should be on
// air right now put back on air at the right offset (after a restart, even after kill -9).
//
// Policy 'wait' is played at the airing's own priority: the arbiter keeps the air for the
// programme already on it at equal priority, so the waiting airing starts when that one ends.
// Against a lower-priority incumbent it cuts in, as 'cut-in' would (the conflict report says so).
//
// An edit changes only the airings it touches (the planner diffs per airing): an airing that is
// in the engine and was removed is stopped; one that was changed is stopped and handed over
// again, at its offset, under a new programme id (`<airingId>~<n>`).
import type { Kysely } from 'kysely';
import { Planner, type Airing, type PlanChange, type PlannerOptions } from '../../scheduler/planner.js';
import type { TimetableEntry } from '../../scheduler/timetable-entry.js';
import type { ProgrammeEndedEvent } from '../../engine/protocol.js';
import type { PlayRequest } from '../broadcast/engine-host.js';
import type { PlayOptions } from '../../engine/engine.js';
import type { LoaConfig } from '../config.js';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';
import { airingPlay } from './airing-source.js';
import { timetableChanges } from './changes.js';
import { EntryStore, type StoredEntry } from './entry-store.js';
import { MediaFiles } from './media-catalog.js';

/** What the timetable needs from the broadcast host (server/broadcast/engine-host.ts BroadcastHost). */
export interface TimetableBroadcast {
  readonly engine: {
    on(event: 'programmeEnded', listener: (e: ProgrammeEndedEvent) => void): unknown;
    off(event: 'programmeEnded', listener: (e: ProgrammeEndedEvent) => void): unknown;
  };
  /** Registers the programme in the catalog and hands it to the engine. */
  play(req: PlayRequest): unknown;
  stop(programmeId: string): unknown;
  /**
   * At startup: an airing that should be on air now may already be, put back from the
   * programme ledger before the database opened (BroadcastHost.adoptAiring).
   */
  adoptAiring?(airingId: string, expected: PlayOptions | undefined): { state: 'adopted'; programmeId: string } | { state: 'replaced' | 'none' };
}

export interface TimetableServiceOptions {
  database: { db: Kysely<DB> };
  config: Pick<LoaConfig, 'dataDir'>;
  logger: Logger;
  broadcast: TimetableBroadcast;
  /** Planner tuning and the clock (tests); default lead 3 s. */
  planner?: PlannerOptions;
}

/**
 * What is put back on air at startup resumes on the frame due this long after the timetable is
 * loaded, at the offset of that instant, so the decoder's seek and prefetch do not put the
 * programme behind its schedule.
 */
export const RECOVERY_MARGIN_MS = 750;

interface InEngine {
  airing: Airing;
  programmeId: string;
}

function mediaIdsOf(entry: TimetableEntry): string[] {
  const p = entry.programme;
  return p.kind === 'media' ? [p.mediaId] : p.kind === 'playlist' ? p.mediaIds : [];
}

export class TimetableService {
  readonly planner: Planner;
  readonly #opts: TimetableServiceOptions;
  readonly #log: Logger;
  readonly #media: MediaFiles;
  readonly #store: EntryStore;
  /** Airings handed to the engine and not reported over yet, by airing id. */
  readonly #inEngine = new Map<string, InEngine>();
  readonly #airingOfProgramme = new Map<string, string>();
  #replacements = 0;
  #closed = false;

  readonly #onUpsert = (stored: StoredEntry): void => void this.apply(stored.entry);
  readonly #onRemove = (entryId: string): void => void this.remove(entryId);
  readonly #onEnded = (e: ProgrammeEndedEvent): void => {
    const airingId = this.#airingOfProgramme.get(e.programmeId);
    if (airingId === undefined) return;
    this.#airingOfProgramme.delete(e.programmeId);
    if (this.#inEngine.get(airingId)?.programmeId === e.programmeId) this.#inEngine.delete(airingId);
  };

  constructor(opts: TimetableServiceOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ component: 'timetable' });
    this.#media = new MediaFiles(opts.database.db, opts.config);
    this.#store = new EntryStore(opts.database.db);
    this.planner = new Planner(opts.planner);
    this.planner.on('due', (airings) => {
      for (const a of airings) this.#handOver(a, 0);
    });
    this.planner.on('change', (change) => this.#onPlanChange(change));
  }

  #now(): number {
    return this.#opts.planner?.clock?.now() ?? Date.now();
  }

  /** Airing ids currently in the engine (for status and tests). */
  get inEngine(): string[] {
    return [...this.#inEngine.keys()];
  }

  /** Loads the timetable, puts back on air what should be on air now, and starts handing airings over. */
  async start(nowMs = this.#now()): Promise<void> {
    const stored = await this.#store.all();
    const entries = stored.map((s) => s.entry).filter((e) => e.zoneIds.length > 0);
    const missing = await this.#media.load(entries.flatMap(mediaIdsOf));
    if (missing.length > 0) this.#log.warn({ mediaIds: missing }, 'timetable entries name media that no longer exist; those airings will be skipped');
    this.#opts.broadcast.engine.on('programmeEnded', this.#onEnded);
    this.planner.setEntries(entries);
    // nowMs should be the planner clock's now: start() below treats airings before its now as
    // started, and those are exactly the ones recovered here.
    const recovered: { airingId: string; offsetMs: number; fromLedger?: true }[] = [];
    const resumeAt = nowMs + RECOVERY_MARGIN_MS;
    for (const { airing, offsetMs } of this.planner.whatShouldBeOnAirAt(resumeAt)) {
      // Airings starting from now on are the planner's to hand over (start() below).
      if (airing.startUtcMs >= nowMs) continue;
      const early = this.#adopt(airing, offsetMs, resumeAt);
      if (early.state === 'adopted') {
        recovered.push({ airingId: airing.airingId, offsetMs, fromLedger: true });
        continue;
      }
      // The ledger's programme (stopped) may still hold the airing's id in the engine: a new one.
      const programmeId = early.state === 'replaced' ? `${airing.airingId}~${++this.#replacements}` : airing.airingId;
      if (this.#handOver(airing, offsetMs, programmeId, resumeAt, true)) recovered.push({ airingId: airing.airingId, offsetMs });
    }
    if (recovered.length > 0) this.#log.info({ recovered }, 'timetable airings put back on air at their offset');
    this.planner.start();
    const feed = timetableChanges(this.#opts.database.db);
    feed.on('upsert', this.#onUpsert);
    feed.on('remove', this.#onRemove);
    this.#log.info({ entries: entries.length, airings: this.planner.airings().length }, 'timetable service started');
  }

  /** Applies a new or edited entry at once (the API calls this through the change feed after commit). */
  async apply(entry: TimetableEntry): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#media.load(mediaIdsOf(entry));
    } catch (err) {
      this.#log.warn({ err, entryId: entry.id }, 'could not load media info for an edited entry');
    }
    if (this.#closed) return;
    if (entry.zoneIds.length === 0) this.planner.removeEntry(entry.id);
    else this.planner.upsertEntry(entry);
  }

  remove(entryId: string): void {
    if (!this.#closed) this.planner.removeEntry(entryId);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const feed = timetableChanges(this.#opts.database.db);
    feed.off('upsert', this.#onUpsert);
    feed.off('remove', this.#onRemove);
    this.#opts.broadcast.engine.off('programmeEnded', this.#onEnded);
    this.planner.close();
  }

  #onPlanChange(change: PlanChange): void {
    for (const a of change.removed) {
      const held = this.#inEngine.get(a.airingId);
      if (!held) continue;
      this.#log.info({ airingId: a.airingId }, 'airing removed by an edit: stopping it');
      this.#inEngine.delete(a.airingId);
      this.#opts.broadcast.stop(held.programmeId);
    }
    for (const { after } of change.changed) {
      const held = this.#inEngine.get(after.airingId);
      if (!held) continue;
      this.#log.info({ airingId: after.airingId }, 'airing changed by an edit: replacing it in the engine');
      this.#inEngine.delete(after.airingId);
      this.#opts.broadcast.stop(held.programmeId);
      const at = Math.max(this.#now() + RECOVERY_MARGIN_MS, after.startUtcMs);
      this.#handOver(after, at - after.startUtcMs, `${after.airingId}~${++this.#replacements}`, at);
    }
  }

  /** Takes over the airing when the programme ledger already put it back on air (before the database opened). */
  #adopt(airing: Airing, offsetMs: number, resumeAt: number): { state: 'adopted' | 'replaced' | 'none' } {
    const adopt = this.#opts.broadcast.adoptAiring;
    if (!adopt) return { state: 'none' };
    const r = airingPlay(airing, offsetMs, (id) => this.#media.get(id), airing.airingId, resumeAt);
    const early = adopt.call(this.#opts.broadcast, airing.airingId, r.ok ? r.value.play : undefined);
    if (early.state === 'adopted') {
      this.#inEngine.set(airing.airingId, { airing, programmeId: early.programmeId });
      this.#airingOfProgramme.set(early.programmeId, airing.airingId);
    }
    return early;
  }

  /** Registers the airing in the catalog and plays it; false when there is nothing to play. */
  #handOver(airing: Airing, offsetMs: number, programmeId = airing.airingId, startAtMs?: number, resumption = false): boolean {
    const r = airingPlay(airing, offsetMs, (id) => this.#media.get(id), programmeId, startAtMs);
    if (!r.ok) {
      this.#log.warn({ airingId: airing.airingId, offsetMs, reason: r.reason }, 'airing not played');
      return false;
    }
    const { play, title } = r.value;
    this.#inEngine.set(airing.airingId, { airing, programmeId });
    this.#airingOfProgramme.set(programmeId, airing.airingId);
    this.#opts.broadcast.play({
      programmeId,
      zoneIds: play.zones,
      priority: play.priority,
      source: play.source,
      ...(play.maxDurationMs !== undefined && { maxDurationMs: play.maxDurationMs }),
      ...(play.startAt !== undefined && { startAt: play.startAt }),
      title,
      kind: airing.programme.kind,
      by: 'timetable',
      entryId: airing.entryId,
      airingId: airing.airingId,
      ...(resumption && { resumption }),
    });
    this.#log.debug({ airingId: airing.airingId, programmeId, startAt: play.startAt, offsetMs }, 'airing handed to the engine');
    return true;
  }
}

/** Starts the timetable service (main.ts): returns it running; close() stops handing airings over. */
export async function startTimetableService(opts: TimetableServiceOptions): Promise<TimetableService> {
  const service = new TimetableService(opts);
  await service.start();
  return service;
}
