/**
 * The as-run log record: what really played, where, when — the proof of
 * broadcast. One row per event on one zone.
 */

export type AsRunEvent = 'start' | 'preempted' | 'resumed' | 'end';
export const AS_RUN_EVENTS: readonly AsRunEvent[] = ['start', 'preempted', 'resumed', 'end'];

export interface AsRunRow {
  zoneId: string;
  /** Human description shown in reports, e.g. 'Bản tin sáng — thời sự'. */
  programme: string;
  /** 'media' | 'playlist' | 'relay' | 'live' | 'tts' | 'alert' …: the basis of the monthly statistics. */
  programmeKind: string;
  /** For a timetable airing. */
  entryId?: string;
  airingId?: string;
  /** For a programme started by hand (live, manual play, alert). */
  manualProgrammeId?: string;
  event: AsRunEvent;
  /** Why: 'scheduled', 'preempted by alert …', 'max duration', 'stopped by user' … */
  reason?: string;
  /** When the event happened, UTC milliseconds. */
  atUtcMs: number;
  /** Position in the media when the event happened (files), if known. */
  mediaPositionMs?: number;
  /** A user id, 'timetable' or 'alert'. */
  by: string;
}

function isOptString(v: unknown): boolean {
  return v === undefined || typeof v === 'string';
}

/** Why the row is not an as-run row, or null when it is one. */
export function asRunRowProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Record<string, unknown>;
  if (typeof r.zoneId !== 'string' || r.zoneId === '') return 'zoneId missing';
  if (typeof r.programme !== 'string') return 'programme missing';
  if (typeof r.programmeKind !== 'string' || r.programmeKind === '') return 'programmeKind missing';
  if (!AS_RUN_EVENTS.includes(r.event as AsRunEvent)) return `event must be one of ${AS_RUN_EVENTS.join(', ')}`;
  if (typeof r.atUtcMs !== 'number' || !Number.isFinite(r.atUtcMs)) return 'atUtcMs must be a number';
  if (typeof r.by !== 'string' || r.by === '') return 'by missing';
  if (!isOptString(r.entryId) || !isOptString(r.airingId) || !isOptString(r.manualProgrammeId) || !isOptString(r.reason)) {
    return 'entryId, airingId, manualProgrammeId and reason must be strings when present';
  }
  if (r.mediaPositionMs !== undefined && (typeof r.mediaPositionMs !== 'number' || !Number.isFinite(r.mediaPositionMs))) {
    return 'mediaPositionMs must be a number when present';
  }
  return null;
}

/** The identity of "one programme on one zone" that start/preempted/resumed/end rows pair on. */
export function asRunProgrammeKey(r: AsRunRow): string {
  return `${r.zoneId}\u0000${r.airingId ?? r.manualProgrammeId ?? r.entryId ?? r.programme}`;
}
