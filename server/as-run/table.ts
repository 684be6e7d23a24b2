// The as_run table as kysely sees it (migration 0003).
import type { ColumnType, Generated, Selectable } from 'kysely';

export interface AsRunTable {
  /** bigserial: parsed as a number by the int8 parser of db/database.ts. */
  id: Generated<number>;
  journal_id: string;
  seq: number;
  zone_id: string;
  /** The engine's programme id: the airing id for the timetable, the playback id for manual play. */
  programme_id: string | null;
  programme: string;
  kind: string;
  entry_id: string | null;
  airing_id: string | null;
  event: 'start' | 'preempted' | 'resumed' | 'end';
  reason: string | null;
  at: ColumnType<Date, Date | string, Date | string>;
  media_position_ms: number | null;
  by: string;
}
export type AsRunDbRow = Selectable<AsRunTable>;
