// The as_run table: batches from the journal written idempotently (a replay after a crash
// between commit and acknowledge inserts nothing twice), and the rows back for queries.
import type { Kysely } from 'kysely';
import type { AsRunRow } from '../../scheduler/as-run.js';
import type { JournalRecord } from '../../scheduler/as-run-journal.js';
import type { DB } from '../db/types.js';
import { timetableDb } from '../timetable/tables.js';
import type { AsRunDbRow } from './table.js';

/** Inserts the journal records; rows already there (same journal id and seq) are skipped. */
export async function writeAsRunRecords(db: Kysely<DB>, journalId: string, records: readonly JournalRecord[]): Promise<void> {
  if (records.length === 0) return;
  await timetableDb(db)
    .insertInto('as_run')
    .values(
      records.map(({ seq, row }) => ({
        journal_id: journalId,
        seq,
        zone_id: row.zoneId,
        programme_id: row.manualProgrammeId ?? row.airingId ?? null,
        programme: row.programme,
        kind: row.programmeKind,
        entry_id: row.entryId ?? null,
        airing_id: row.airingId ?? null,
        event: row.event,
        reason: row.reason ?? null,
        at: new Date(row.atUtcMs),
        media_position_ms: row.mediaPositionMs ?? null,
        by: row.by,
      })),
    )
    .onConflict((oc) => oc.columns(['journal_id', 'seq']).doNothing())
    .execute();
}

export function dbRowToAsRun(r: AsRunDbRow): AsRunRow {
  const row: AsRunRow = {
    zoneId: r.zone_id,
    programme: r.programme,
    programmeKind: r.kind,
    event: r.event,
    atUtcMs: r.at.getTime(),
    by: r.by,
  };
  if (r.entry_id !== null) row.entryId = r.entry_id;
  if (r.airing_id !== null) row.airingId = r.airing_id;
  else if (r.programme_id !== null) row.manualProgrammeId = r.programme_id;
  if (r.reason !== null) row.reason = r.reason;
  if (r.media_position_ms !== null) row.mediaPositionMs = r.media_position_ms;
  return row;
}
