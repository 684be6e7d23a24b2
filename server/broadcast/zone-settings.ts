/**
 * A zone's broadcast settings (migrations 0002_broadcast, 0004_multicast_ttl):
 * the playout delay its receivers play at, and an optional RTP multicast group
 * with the IP TTL of its packets. The columns are
 * typed here, next to the only code that reads them.
 */
import type { Kysely } from 'kysely';
import type { CodecName } from '../../codecs/codec.js';
import type { DB, ZonesTable } from '../db/types.js';

/** Receivers play each frame this long after its server time unless the zone says otherwise. */
export const DEFAULT_PLAYOUT_DELAY_MS = 150;

export interface ZoneBroadcastColumns {
  playout_delay_ms: number | null;
  multicast_address: string | null;
  multicast_port: number | null;
  multicast_codec: CodecName | null;
  /** 1–255, default 1 (the local segment); kept when the group is removed. */
  multicast_ttl: number;
}

/** Multicast packets stay on the local segment unless the zone says otherwise. */
export const DEFAULT_MULTICAST_TTL = 1;

/** The database as seen by broadcast/: zones with their broadcast columns. */
export type BroadcastDB = Omit<DB, 'zones'> & { zones: ZonesTable & ZoneBroadcastColumns };

export function broadcastDb(db: Kysely<DB>): Kysely<BroadcastDB> {
  return db as unknown as Kysely<BroadcastDB>;
}

export interface MulticastGroup {
  address: string;
  port: number;
  codec: CodecName;
  /** IP TTL of the group's packets. */
  ttl: number;
}

export interface ZoneBroadcastSettings {
  zoneId: string;
  /** null: DEFAULT_PLAYOUT_DELAY_MS (or the host's configured default). */
  playoutDelayMs: number | null;
  multicast: MulticastGroup | null;
}

export function settingsOf(row: Pick<ZonesTable, 'id'> & ZoneBroadcastColumns): ZoneBroadcastSettings {
  return {
    zoneId: row.id,
    playoutDelayMs: row.playout_delay_ms,
    multicast:
      row.multicast_address !== null && row.multicast_port !== null && row.multicast_codec !== null
        ? { address: row.multicast_address, port: row.multicast_port, codec: row.multicast_codec, ttl: row.multicast_ttl }
        : null,
  };
}

export async function loadZoneSettings(db: Kysely<DB>, zoneId: string): Promise<ZoneBroadcastSettings | undefined> {
  const row = await broadcastDb(db)
    .selectFrom('zones')
    .select(['id', 'playout_delay_ms', 'multicast_address', 'multicast_port', 'multicast_codec', 'multicast_ttl'])
    .where('id', '=', zoneId)
    .executeTakeFirst();
  return row ? settingsOf(row) : undefined;
}

export async function saveZoneSettings(
  db: Kysely<DB>,
  zoneId: string,
  change: { playoutDelayMs?: number | null; multicast?: (Omit<MulticastGroup, 'ttl'> & { ttl?: number }) | null },
): Promise<ZoneBroadcastSettings> {
  const set: Partial<ZoneBroadcastColumns> = {};
  if (change.playoutDelayMs !== undefined) set.playout_delay_ms = change.playoutDelayMs;
  if (change.multicast !== undefined) {
    set.multicast_address = change.multicast?.address ?? null;
    set.multicast_port = change.multicast?.port ?? null;
    set.multicast_codec = change.multicast?.codec ?? null;
    if (change.multicast) set.multicast_ttl = change.multicast.ttl ?? DEFAULT_MULTICAST_TTL;
  }
  const bdb = broadcastDb(db);
  if (Object.keys(set).length) await bdb.updateTable('zones').set(set).where('id', '=', zoneId).execute();
  return (await loadZoneSettings(db, zoneId))!;
}

/**
 * The playout delay that applies to a zone: its own, else the nearest ancestor's, else the
 * default — a district can set one delay for all its villages.
 */
export async function effectivePlayoutDelay(db: Kysely<DB>, zonePath: string, fallbackMs: number): Promise<number> {
  const ids = zonePath.split('/').filter(Boolean);
  if (ids.length === 0) return fallbackMs;
  const rows = await broadcastDb(db).selectFrom('zones').select(['id', 'playout_delay_ms']).where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id, r.playout_delay_ms]));
  for (let i = ids.length - 1; i >= 0; i--) {
    const v = byId.get(ids[i]);
    if (v !== null && v !== undefined) return v;
  }
  return fallbackMs;
}
