// Timetables (entries and the zones they target) and the as-run log (what really played).
// Entry times are local wall-clock text in the entry's time zone (a recurrence is a rule
// about wall-clock time); the one instant of an entry, its first airing, is stored UTC.
// As-run rows are keyed (journal_id, seq): the durable journal replays rows after a crash
// and the database ignores the ones it already has.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('timetable_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text')
    .addColumn('programme', 'jsonb', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('start_local', 'text', (c) => c.notNull())
    .addColumn('first_start_at', 'timestamptz')
    .addColumn('rrule', 'text')
    .addColumn('exdates', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('rdates', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('duration_ms', 'integer')
    .addColumn('end_local', 'text')
    .addColumn('max_duration_ms', 'integer')
    .addColumn('repeat', 'jsonb')
    .addColumn('valid_from', 'text')
    .addColumn('valid_until', 'text')
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('policy', 'text', (c) => c.notNull().check(sql`policy in ('cut-in', 'wait')`))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();

  // A join table rather than an array column: "entries of this commune's subtree" is an indexed join.
  await db.schema
    .createTable('timetable_entry_zones')
    .addColumn('entry_id', 'text', (c) => c.notNull().references('timetable_entries.id').onDelete('cascade'))
    .addColumn('zone_id', 'text', (c) => c.notNull().references('zones.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('timetable_entry_zones_pk', ['entry_id', 'zone_id'])
    .execute();
  await db.schema.createIndex('timetable_entry_zones_zone_idx').on('timetable_entry_zones').column('zone_id').execute();

  // No foreign keys: the proof of broadcast outlives the zones, entries and programmes it names.
  await db.schema
    .createTable('as_run')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('journal_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('zone_id', 'text', (c) => c.notNull())
    .addColumn('programme_id', 'text')
    .addColumn('programme', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('entry_id', 'text')
    .addColumn('airing_id', 'text')
    .addColumn('event', 'text', (c) => c.notNull().check(sql`event in ('start', 'preempted', 'resumed', 'end')`))
    .addColumn('reason', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('media_position_ms', 'integer')
    .addColumn('by', 'text', (c) => c.notNull())
    .addUniqueConstraint('as_run_journal_seq_unique', ['journal_id', 'seq'])
    .execute();
  await db.schema.createIndex('as_run_zone_at_idx').on('as_run').columns(['zone_id', 'at']).execute();
  await db.schema.createIndex('as_run_at_idx').on('as_run').columns(['at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['as_run', 'timetable_entry_zones', 'timetable_entries']) await db.schema.dropTable(t).execute();
}
