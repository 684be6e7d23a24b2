/**
 * What the control plane knows about each programme it handed to the media
 * engine: the engine only knows ids, zones, priority and audio; the as-run log
 * needs a title, a kind and who asked for it. Manual playback, the timetable
 * and (later) alerts register here before they call engine.play; the as-run
 * recorder reads it when engine events arrive.
 */
export type ProgrammeKind = 'media' | 'playlist' | 'relay' | 'tone' | 'siren' | 'live' | 'tts' | 'alert';

export interface ProgrammeInfo {
  programmeId: string;
  title: string;
  kind: ProgrammeKind;
  priority: number;
  zoneIds: string[];
  /** A user id, 'timetable' or 'alert'. */
  by: string;
  /** Where the programme came from, when it came from the timetable. */
  entryId?: string;
  airingId?: string;
  /** Wall-clock ms it was asked to start (startAt, or the request time). */
  requestedAtMs: number;
  /** Put back on air after the media worker or the server died (its as-run 'start' rows say so). */
  resumption?: boolean;
  /** Set when the engine reports it is over everywhere. */
  endedAtMs?: number;
}

export class ProgrammeCatalog {
  private readonly items = new Map<string, ProgrammeInfo>();
  /** Ended programmes are kept a while so late engine events still find their metadata. */
  private readonly retainEndedMs: number;

  constructor(opts: { retainEndedMs?: number } = {}) {
    this.retainEndedMs = opts.retainEndedMs ?? 10 * 60_000;
  }

  register(info: ProgrammeInfo): void {
    this.items.set(info.programmeId, info);
  }

  get(programmeId: string): ProgrammeInfo | undefined {
    return this.items.get(programmeId);
  }

  markEnded(programmeId: string, atMs: number): void {
    const info = this.items.get(programmeId);
    if (info) info.endedAtMs = atMs;
    this.prune(atMs);
  }

  /** Programmes not yet ended. */
  active(): ProgrammeInfo[] {
    return [...this.items.values()].filter((p) => p.endedAtMs === undefined);
  }

  private prune(nowMs: number): void {
    for (const [id, p] of this.items) {
      if (p.endedAtMs !== undefined && nowMs - p.endedAtMs > this.retainEndedMs) this.items.delete(id);
    }
  }
}
