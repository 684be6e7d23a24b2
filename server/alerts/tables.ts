// The alert tables (migration 0005_alerts) as kysely sees them, and the zone columns that
// migration added; typed here, next to the code that reads them.
import type { ColumnType, Generated, Kysely, Selectable } from 'kysely';
import type { DB, ZonesTable } from '../db/types.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type AlertStatus = 'Actual' | 'Exercise' | 'Test';
export type AlertMsgType = 'Alert' | 'Update' | 'Cancel';
export type AlertState = 'active' | 'updated' | 'cancelled' | 'expired' | 'done';
export type SirenShape = 'wail' | 'yelp' | 'hilo';

/** What an airing plays: an attention signal, then the message. */
export interface AlertAudio {
  attention: { shape: SirenShape; durationMs: number } | null;
  message:
    | { kind: 'speech' }
    | { kind: 'media'; mediaId: string }
    | { kind: 'url'; url: string }
    /** Audio that came with a CAP alert (embedded or fetched once at ingest), kept under the data dir by its hash. */
    | { kind: 'stored'; sha256: string; mimeType: string }
    | { kind: 'none' };
}

/** Repeat every `everyMinutes` (if set) until `count` airings (if set) or the alert expires. */
export interface AlertCadence {
  everyMinutes: number | null;
  count: number | null;
}

export interface ZoneAlertColumns {
  admin_code: string | null;
  latitude: number | null;
  longitude: number | null;
  polygon: Json<[number, number][] | null> | null;
  drill: Generated<boolean>;
}

export interface AlertsTable {
  id: string;
  version: number;
  references_id: string | null;
  superseded_by: string | null;
  cap_identifier: string | null;
  cap_sender: string | null;
  cap_sent: Timestamp | null;
  status: AlertStatus;
  msg_type: AlertMsgType;
  event: string;
  category: string;
  severity: string;
  urgency: string;
  certainty: string;
  headline: string;
  description: string;
  instruction: string;
  language: string;
  zone_ids: Json<string[]>;
  priority: number;
  audio: Json<AlertAudio>;
  cadence: Json<AlertCadence>;
  issued_at: Timestamp;
  expires_at: Timestamp | null;
  state: AlertState;
  ended_at: Timestamp | null;
  created_by: string;
  created_from: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface AlertAiringsTable {
  alert_id: string;
  airing: number;
  programme_id: string;
  started_at: Timestamp;
}

export interface AlertAuditTable {
  id: Generated<number>;
  alert_id: string;
  action: string;
  by: string;
  from_address: string | null;
  at: Timestamp;
  detail: Json<Record<string, unknown> | null> | null;
}

export type DeliveryStatus = 'reached' | 'not-reached' | 'offline';

export interface AlertDeliveryTable {
  alert_id: string;
  airing: number;
  endpoint_id: string;
  endpoint_name: string;
  zone_id: string;
  status: DeliveryStatus;
  at: Timestamp | null;
  last_contact: Timestamp | null;
  via: string | null;
}

export type AlertDB = Omit<DB, 'zones'> & {
  zones: ZonesTable & ZoneAlertColumns;
  alerts: AlertsTable;
  alert_airings: AlertAiringsTable;
  alert_audit: AlertAuditTable;
  alert_delivery: AlertDeliveryTable;
};

export function alertDb(db: Kysely<DB> | Kysely<any>): Kysely<AlertDB> {
  return db as unknown as Kysely<AlertDB>;
}

export type AlertRow = Selectable<AlertsTable>;
export type AiringRow = Selectable<AlertAiringsTable>;
export type DeliveryRow = Selectable<AlertDeliveryTable>;
export type AuditRow = Selectable<AlertAuditTable>;
