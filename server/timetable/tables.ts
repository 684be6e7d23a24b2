// The timetable tables as kysely sees them (migration 0003). The shared DB interface in
// db/types.ts does not list them; `timetableDb()` widens a handle to include them.
import type { ColumnType, Kysely, Selectable, Transaction } from 'kysely';
import type { DB } from '../db/types.js';
import type { AsRunTable } from '../as-run/table.js';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** jsonb: written as JSON text, read back parsed. */
type Json<T> = ColumnType<T, string, string>;

export interface TimetableEntriesTable {
  id: string;
  title: string | null;
  programme: Json<unknown>;
  priority: number;
  time_zone: string;
  start_local: string;
  first_start_at: Timestamp | null;
  rrule: string | null;
  exdates: Json<string[]>;
  rdates: Json<string[]>;
  duration_ms: number | null;
  end_local: string | null;
  max_duration_ms: number | null;
  repeat: Json<unknown> | null;
  valid_from: string | null;
  valid_until: string | null;
  enabled: boolean;
  policy: 'cut-in' | 'wait';
  created_by: string;
  created_at: CreatedAt;
  updated_at: Timestamp;
  version: number;
}

export interface TimetableEntryZonesTable {
  entry_id: string;
  zone_id: string;
}

// A type alias, not an interface: withTables<T> wants an index-compatible record type.
export type TimetableTables = {
  timetable_entries: TimetableEntriesTable;
  timetable_entry_zones: TimetableEntryZonesTable;
  as_run: AsRunTable;
};

export type LoaDB = DB & TimetableTables;
export type EntryRow = Selectable<TimetableEntriesTable>;

export function timetableDb(db: Kysely<DB>): Kysely<LoaDB> {
  return db.withTables<TimetableTables>();
}
export type LoaTx = Transaction<LoaDB>;
