// Timetable entries in the database: rows ↔ scheduler TimetableEntry, and the queries the API
// and the service need. Every write is one transaction over the entry and its zones, so an
// entry is never half-saved.
import { sql, type Kysely, type SqlBool } from 'kysely';
import { firstOccurrenceUtcMs } from '../../scheduler/recurrence.js';
import type { TimetableEntry } from '../../scheduler/timetable-entry.js';
import type { DB } from '../db/types.js';
import { inSubtrees } from '../zone-tree.js';
import { timetableDb, type EntryRow, type LoaDB, type LoaTx } from './tables.js';

/** An entry as stored: the scheduler's entry plus what only people read. */
export interface StoredEntry {
  entry: TimetableEntry;
  title: string | null;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

function parseJson<T>(v: unknown): T {
  // pg and PGlite both parse jsonb; a text value would come from a hand-edited row.
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function rowToStored(row: EntryRow, zoneIds: string[]): StoredEntry {
  const exdates = parseJson<string[]>(row.exdates) ?? [];
  const rdates = parseJson<string[]>(row.rdates) ?? [];
  const entry: TimetableEntry = {
    id: row.id,
    zoneIds,
    programme: parseJson<TimetableEntry['programme']>(row.programme),
    priority: row.priority,
    timeZone: row.time_zone,
    start: row.start_local,
    recurrence: row.rrule === null ? null : { rrule: row.rrule, exdates, rdates },
    durationMs: row.duration_ms,
    end: row.end_local,
    maxDurationMs: row.max_duration_ms,
    repeat: row.repeat === null ? null : parseJson<TimetableEntry['repeat']>(row.repeat),
    validFrom: row.valid_from,
    validUntil: row.valid_until,
    enabled: row.enabled,
    policy: row.policy,
    createdBy: row.created_by,
  };
  return { entry, title: row.title, createdAt: row.created_at, updatedAt: row.updated_at, version: row.version };
}

function entryColumns(entry: TimetableEntry, title: string | null) {
  const first = firstOccurrenceUtcMs(entry);
  return {
    title,
    programme: JSON.stringify(entry.programme),
    priority: entry.priority,
    time_zone: entry.timeZone,
    start_local: entry.start,
    first_start_at: first === null ? null : new Date(first),
    rrule: entry.recurrence?.rrule ?? null,
    exdates: JSON.stringify(entry.recurrence?.exdates ?? []),
    rdates: JSON.stringify(entry.recurrence?.rdates ?? []),
    duration_ms: entry.durationMs,
    end_local: entry.end,
    max_duration_ms: entry.maxDurationMs,
    repeat: entry.repeat === null ? null : JSON.stringify(entry.repeat),
    valid_from: entry.validFrom,
    valid_until: entry.validUntil,
    enabled: entry.enabled,
    policy: entry.policy,
  };
}

export class EntryStore {
  readonly db: Kysely<LoaDB>;

  constructor(db: Kysely<DB>) {
    this.db = timetableDb(db);
  }

  async #withZones(db: Kysely<LoaDB> | LoaTx, rows: EntryRow[]): Promise<StoredEntry[]> {
    if (rows.length === 0) return [];
    const links = await db
      .selectFrom('timetable_entry_zones')
      .select(['entry_id', 'zone_id'])
      .where('entry_id', 'in', rows.map((r) => r.id))
      .orderBy('zone_id')
      .execute();
    const byEntry = new Map<string, string[]>();
    for (const l of links) {
      let list = byEntry.get(l.entry_id);
      if (!list) byEntry.set(l.entry_id, (list = []));
      list.push(l.zone_id);
    }
    return rows.map((r) => rowToStored(r, byEntry.get(r.id) ?? []));
  }

  /** Every entry (the service's startup load). */
  async all(): Promise<StoredEntry[]> {
    const rows = await this.db.selectFrom('timetable_entries').selectAll().orderBy('first_start_at').orderBy('id').execute();
    return this.#withZones(this.db, rows);
  }

  async get(id: string, db: Kysely<LoaDB> | LoaTx = this.db): Promise<StoredEntry | undefined> {
    const row = await db.selectFrom('timetable_entries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.#withZones(db, [row]))[0] : undefined;
  }

  /**
   * Entries that target at least one zone inside these subtrees (by path), or every entry
   * for 'all'. `zoneId` narrows to entries that reach that zone (targets at it, above it, or below it).
   */
  async visible(roots: 'all' | string[], opts: { zonePath?: string } = {}): Promise<StoredEntry[]> {
    let q = this.db.selectFrom('timetable_entries').selectAll('timetable_entries');
    if (roots !== 'all' || opts.zonePath !== undefined) {
      q = q.where('timetable_entries.id', 'in', (eb) => {
        let s = eb
          .selectFrom('timetable_entry_zones')
          .innerJoin('zones', 'zones.id', 'timetable_entry_zones.zone_id')
          .select('timetable_entry_zones.entry_id');
        if (roots !== 'all') s = s.where(inSubtrees('zones.path', roots));
        if (opts.zonePath !== undefined) {
          const p = opts.zonePath;
          // The entry's zone lies in the zone's subtree, or is one of its ancestors (it reaches the zone).
          s = s.where(sql<SqlBool>`(${inSubtrees('zones.path', [p])} or ${p} like zones.path || '%')`);
        }
        return s;
      });
    }
    const rows = await q.orderBy('first_start_at').orderBy('id').execute();
    return this.#withZones(this.db, rows);
  }

  async insert(tx: LoaTx, entry: TimetableEntry, title: string | null): Promise<StoredEntry> {
    await tx
      .insertInto('timetable_entries')
      .values({ id: entry.id, ...entryColumns(entry, title), created_by: entry.createdBy, updated_at: new Date(), version: 1 })
      .execute();
    await tx.insertInto('timetable_entry_zones').values(entry.zoneIds.map((zone_id) => ({ entry_id: entry.id, zone_id }))).execute();
    return (await this.get(entry.id, tx))!;
  }

  /** Replaces the entry; returns undefined when `expectedVersion` is given and no longer current. */
  async update(tx: LoaTx, entry: TimetableEntry, title: string | null, expectedVersion?: number): Promise<StoredEntry | undefined> {
    let q = tx
      .updateTable('timetable_entries')
      .set((eb) => ({ ...entryColumns(entry, title), updated_at: new Date(), version: eb('version', '+', 1) }))
      .where('id', '=', entry.id);
    if (expectedVersion !== undefined) q = q.where('version', '=', expectedVersion);
    const r = await q.executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return undefined;
    await tx.deleteFrom('timetable_entry_zones').where('entry_id', '=', entry.id).execute();
    await tx.insertInto('timetable_entry_zones').values(entry.zoneIds.map((zone_id) => ({ entry_id: entry.id, zone_id }))).execute();
    return this.get(entry.id, tx);
  }

  async delete(tx: LoaTx, id: string): Promise<boolean> {
    const r = await tx.deleteFrom('timetable_entries').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
