// Schemas shared by the feature plugins, and the mapping from rows to API objects
// (camelCase, ISO 8601 times; never a hash).
import { Type, type Static } from '@sinclair/typebox';
import type { Endpoint, Media, Zone } from '../db/types.js';

export const ErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'stable machine code' }),
    message: Type.String({ description: 'human sentence' }),
    details: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), code: Type.String(), message: Type.String() }), { description: 'every reason, when there are several (a CAP document)' }),
    ),
  },
  { $id: 'Error' },
);
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, ErrorSchema]));

export const Id = Type.String({ minLength: 1, maxLength: 64 });
export const IdParams = Type.Object({ id: Id });
export const Iso = Type.String({ format: 'date-time' });
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const BoolQuery = Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')]);
export const isTrue = (v: string | undefined) => v === 'true' || v === '1';
export const NoContent = Type.Null();

export const ZoneSchema = Type.Object({
  id: Type.String(),
  parentId: Nullable(Type.String()),
  kind: Type.String(),
  name: Type.String(),
  code: Nullable(Type.String()),
  timeZone: Type.String(),
  path: Type.String({ description: 'ancestor ids from the root, e.g. /zon_a/zon_b/' }),
  adminCode: Nullable(Type.String({ description: 'administrative unit code (mã đơn vị hành chính) that alerts target' })),
  location: Nullable(Type.Object({ lat: Type.Number(), lon: Type.Number() })),
  drill: Type.Boolean({ description: 'exercises and tests may air here' }),
  createdAt: Iso,
});
export type ZoneDto = Static<typeof ZoneSchema>;
/** Columns of migration 0005 (server/alerts/tables.ts), absent from rows read before it. */
type ZoneAlertFields = { admin_code?: string | null; latitude?: number | null; longitude?: number | null; drill?: boolean };
export const zoneDto = (z: Zone & ZoneAlertFields): ZoneDto => ({
  id: z.id,
  parentId: z.parent_id,
  kind: z.kind,
  name: z.name,
  code: z.code,
  timeZone: z.time_zone,
  path: z.path,
  adminCode: z.admin_code ?? null,
  location: z.latitude != null && z.longitude != null ? { lat: z.latitude, lon: z.longitude } : null,
  drill: z.drill ?? false,
  createdAt: z.created_at.toISOString(),
});

export const EndpointSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  zoneId: Type.String(),
  kind: Type.String(),
  codecs: Type.Array(Type.String()),
  address: Nullable(Type.String()),
  port: Nullable(Type.Integer()),
  multicast: Type.Boolean(),
  enabled: Type.Boolean(),
  online: Type.Boolean(),
  lastSeenAt: Nullable(Iso),
  stats: Nullable(Type.Record(Type.String(), Type.Unknown())),
  createdAt: Iso,
});
export type EndpointDto = Static<typeof EndpointSchema>;
export const endpointDto = (e: Endpoint): EndpointDto => ({
  id: e.id,
  name: e.name,
  zoneId: e.zone_id,
  kind: e.kind,
  codecs: JSON.parse(e.codecs) as string[],
  address: e.address,
  port: e.port,
  multicast: e.multicast,
  enabled: e.enabled,
  online: e.online,
  lastSeenAt: e.last_seen_at ? e.last_seen_at.toISOString() : null,
  stats: (e.stats as Record<string, unknown> | null) ?? null,
  createdAt: e.created_at.toISOString(),
});

export const MediaSchema = Type.Object({
  id: Type.String(),
  zoneId: Type.String(),
  sha256: Type.String(),
  title: Type.String(),
  filename: Type.String(),
  format: Type.String(),
  codec: Type.String(),
  durationMs: Type.Integer(),
  sizeBytes: Type.Integer(),
  sampleRate: Type.Integer(),
  channels: Type.Integer(),
  createdBy: Nullable(Type.String()),
  createdAt: Iso,
});
export type MediaDto = Static<typeof MediaSchema>;
export const mediaDto = (m: Media): MediaDto => ({
  id: m.id,
  zoneId: m.zone_id,
  sha256: m.sha256,
  title: m.title,
  filename: m.filename,
  format: m.format,
  codec: m.codec,
  durationMs: m.duration_ms,
  sizeBytes: m.size_bytes,
  sampleRate: m.sample_rate,
  channels: m.channels,
  createdBy: m.created_by,
  createdAt: m.created_at.toISOString(),
});

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('authority'), Type.Literal('viewer')]);
export const GrantSchema = Type.Object({ id: Type.String(), role: RoleSchema, zoneId: Nullable(Type.String()) });
export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  displayName: Type.String(),
  disabled: Type.Boolean(),
  roles: Type.Array(GrantSchema),
  createdAt: Iso,
});
export type UserDto = Static<typeof UserSchema>;
