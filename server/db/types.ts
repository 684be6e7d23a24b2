// Table shapes as kysely sees them. Times are timestamptz (UTC) and come back as Date.
import type { DatabaseAvailability } from './availability.js';
import type { ColumnType, Generated, Insertable, Selectable, Kysely } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type Role = 'admin' | 'operator' | 'authority' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'operator', 'authority', 'viewer'];
export type EndpointKind = 'rtp' | 'sip' | 'webrtc' | 'http';
export const ENDPOINT_KINDS: readonly EndpointKind[] = ['rtp', 'sip', 'webrtc', 'http'];
export type TokenKind = 'session' | 'api';

export interface ZonesTable {
  id: string;
  parent_id: string | null;
  kind: string;
  name: string;
  code: string | null;
  time_zone: string;
  /** Materialized ancestor path including the zone itself: `/zon_root/zon_child/`. */
  path: string;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  disabled: Generated<boolean>;
  created_at: CreatedAt;
}

export interface RoleAssignmentsTable {
  id: string;
  user_id: string;
  role: Role;
  /** null = every zone, present and future (only a global admin holds such a grant in practice). */
  zone_id: string | null;
  created_at: CreatedAt;
}

export interface TokensTable {
  id: string;
  user_id: string;
  /** sha256 (hex) of the bearer token; the token itself is never stored. */
  hash: string;
  kind: TokenKind;
  name: string | null;
  expires_at: Timestamp | null;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
}

export interface EndpointStats {
  [key: string]: unknown;
}

export interface EndpointsTable {
  id: string;
  name: string;
  zone_id: string;
  kind: EndpointKind;
  /** JSON array of codec names in preference order. */
  codecs: string;
  credential_hash: string;
  address: string | null;
  port: number | null;
  multicast: Generated<boolean>;
  enabled: Generated<boolean>;
  last_seen_at: Timestamp | null;
  online: Generated<boolean>;
  stats: Json<EndpointStats | null> | null;
  created_at: CreatedAt;
}

export interface MediaTable {
  id: string;
  sha256: string;
  zone_id: string;
  title: string;
  filename: string;
  format: string;
  codec: string;
  duration_ms: number;
  size_bytes: number;
  sample_rate: number;
  channels: number;
  created_by: string | null;
  created_at: CreatedAt;
}

export interface DB {
  zones: ZonesTable;
  users: UsersTable;
  role_assignments: RoleAssignmentsTable;
  tokens: TokensTable;
  endpoints: EndpointsTable;
  media: MediaTable;
}

export type Zone = Selectable<ZonesTable>;
export type NewZone = Insertable<ZonesTable>;
export type User = Selectable<UsersTable>;
export type RoleAssignment = Selectable<RoleAssignmentsTable>;
export type Endpoint = Selectable<EndpointsTable>;
export type Media = Selectable<MediaTable>;

export type DbDialect = 'pglite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: DbDialect;
  /** Whether the database answers, as last seen (db/availability.ts); absent on hand-made handles. */
  availability?: DatabaseAvailability;
  close(): Promise<void>;
}
