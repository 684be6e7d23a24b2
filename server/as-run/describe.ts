// From an engine event about one programme on one zone to the as-run row that proves it,
// described from the programme catalog (title, kind, who asked for it).
import type { AsRunEvent, AsRunRow } from '../../scheduler/as-run.js';
import type { ProgrammeZoneEvent } from '../../engine/protocol.js';
import type { ProgrammeInfo } from '../broadcast/programme-catalog.js';

const EVENT_OF: Record<ProgrammeZoneEvent['state'], AsRunEvent> = {
  'on-air': 'start',
  preempted: 'preempted',
  resumed: 'resumed',
  ended: 'end',
};

/** The reason of the 'start' row of a programme put back on air after the worker or the server died. */
export const RESUMED_REASON = 'resumed after interruption';

const END_REASON: Record<string, string> = {
  completed: 'completed',
  stopped: 'stopped',
  'max-duration': 'max duration',
  error: 'error',
  'zone-removed': 'zone removed',
};

function reasonOf(e: ProgrammeZoneEvent, info: ProgrammeInfo | undefined, titleOf: (id: string) => string | undefined): string | undefined {
  switch (e.state) {
    case 'on-air':
      if (info?.resumption) return RESUMED_REASON;
      return info?.by === 'timetable' ? 'scheduled' : undefined;
    case 'preempted': {
      if (e.by === undefined) return 'preempted';
      const title = titleOf(e.by);
      return title !== undefined ? `preempted by ${title} (${e.by})` : `preempted by ${e.by}`;
    }
    case 'resumed':
      return undefined;
    case 'ended': {
      const base = e.reason !== undefined ? (END_REASON[e.reason] ?? e.reason) : undefined;
      return e.message !== undefined && base !== undefined ? `${base}: ${e.message}` : base;
    }
  }
}

/** The row for this event. A programme the catalog does not know is still logged, by its id. */
export function describeProgrammeEvent(e: ProgrammeZoneEvent, info: ProgrammeInfo | undefined, titleOf: (id: string) => string | undefined): AsRunRow {
  const row: AsRunRow = {
    zoneId: e.zoneId,
    programme: info?.title ?? e.programmeId,
    programmeKind: info?.kind ?? 'unknown',
    event: EVENT_OF[e.state],
    atUtcMs: e.atMs,
    mediaPositionMs: Math.round(e.positionMs),
    by: info?.by ?? 'unknown',
  };
  if (info?.entryId !== undefined) row.entryId = info.entryId;
  if (info?.airingId !== undefined) row.airingId = info.airingId;
  else row.manualProgrammeId = e.programmeId;
  const reason = reasonOf(e, info, titleOf);
  if (reason !== undefined) row.reason = reason;
  return row;
}
