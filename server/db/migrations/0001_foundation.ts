// Zones, people, credentials, endpoints and the media library.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('zones')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('parent_id', 'text', (c) => c.references('zones.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('code', 'text')
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('zones_parent_idx').on('zones').column('parent_id').execute();
  // text_pattern_ops lets `path LIKE 'prefix%'` use the index for subtree scans.
  await sql`create index zones_path_prefix_idx on zones (path text_pattern_ops)`.execute(db);

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('role_assignments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'operator', 'authority', 'viewer')`))
    .addColumn('zone_id', 'text', (c) => c.references('zones.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('role_assignments_user_idx').on('role_assignments').column('user_id').execute();
  // One grant per (user, role, zone); the global grant (zone null) counted once too.
  await sql`create unique index role_assignments_unique_idx on role_assignments (user_id, role, coalesce(zone_id, ''))`.execute(db);

  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('hash', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('session', 'api')`))
    .addColumn('name', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_used_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('tokens_user_idx').on('tokens').column('user_id').execute();

  await db.schema
    .createTable('endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('zone_id', 'text', (c) => c.notNull().references('zones.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('rtp', 'sip', 'webrtc', 'http')`))
    .addColumn('codecs', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('credential_hash', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    .addColumn('port', 'integer', (c) => c.check(sql`port between 1 and 65535`))
    .addColumn('multicast', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('enabled', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('last_seen_at', 'timestamptz')
    .addColumn('online', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('stats', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('endpoints_zone_idx').on('endpoints').column('zone_id').execute();

  await db.schema
    .createTable('media')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('zone_id', 'text', (c) => c.notNull().references('zones.id'))
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('codec', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('sample_rate', 'integer', (c) => c.notNull())
    .addColumn('channels', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('media_zone_sha256_unique', ['zone_id', 'sha256'])
    .execute();
  await db.schema.createIndex('media_sha256_idx').on('media').column('sha256').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['media', 'endpoints', 'tokens', 'role_assignments', 'users', 'zones']) {
    await db.schema.dropTable(t).execute();
  }
}
