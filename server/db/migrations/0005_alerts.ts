// Emergency alerts (server/alerts/): zones get an administrative unit code (mã đơn vị hành
// chính, what CAP <geocode> values name), an optional point and polygon (what CAP
// <polygon>/<circle> areas are matched against) and a drill flag (exercises and tests may be
// limited to drill zones). An alert is one row per version (an update is a new row that
// references the old one); its airings, its audit trail and its delivery report hang off it.
// No foreign keys from the report and the audit to zones or endpoints: the proof outlives them.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('zones')
    .addColumn('admin_code', 'text')
    .addColumn('latitude', 'double precision', (c) => c.check(sql`latitude between -90 and 90`))
    .addColumn('longitude', 'double precision', (c) => c.check(sql`longitude between -180 and 180`))
    .addColumn('polygon', 'jsonb')
    .addColumn('drill', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema.createIndex('zones_admin_code_idx').on('zones').column('admin_code').execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    /** The version this one replaces (CAP <references>), null for the first. */
    .addColumn('references_id', 'text')
    .addColumn('superseded_by', 'text')
    .addColumn('cap_identifier', 'text')
    .addColumn('cap_sender', 'text')
    .addColumn('cap_sent', 'timestamptz')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('Actual', 'Exercise', 'Test')`))
    .addColumn('msg_type', 'text', (c) => c.notNull().check(sql`msg_type in ('Alert', 'Update', 'Cancel')`))
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('urgency', 'text', (c) => c.notNull())
    .addColumn('certainty', 'text', (c) => c.notNull())
    .addColumn('headline', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('instruction', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('vi-VN'))
    .addColumn('zone_ids', 'jsonb', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('audio', 'jsonb', (c) => c.notNull())
    .addColumn('cadence', 'jsonb', (c) => c.notNull())
    /** The time of issue every airing restates. */
    .addColumn('issued_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('active', 'updated', 'cancelled', 'expired', 'done')`))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_from', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('alerts_state_idx').on('alerts').column('state').execute();
  await db.schema.createIndex('alerts_cap_idx').on('alerts').columns(['cap_sender', 'cap_identifier']).execute();

  await db.schema
    .createTable('alert_airings')
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('airing', 'integer', (c) => c.notNull())
    .addColumn('programme_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('alert_airings_pk', ['alert_id', 'airing'])
    .execute();
  await db.schema.createIndex('alert_airings_programme_idx').on('alert_airings').column('programme_id').execute();

  await db.schema
    .createTable('alert_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    /** A user id, or `cap:<sender>`, or 'system' (expiry). */
    .addColumn('by', 'text', (c) => c.notNull())
    .addColumn('from_address', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('detail', 'jsonb')
    .execute();
  await db.schema.createIndex('alert_audit_alert_idx').on('alert_audit').columns(['alert_id', 'id']).execute();

  await db.schema
    .createTable('alert_delivery')
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('airing', 'integer', (c) => c.notNull())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_name', 'text', (c) => c.notNull())
    .addColumn('zone_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('reached', 'not-reached', 'offline')`))
    /** When it was reached (its playout time), or null. */
    .addColumn('at', 'timestamptz')
    .addColumn('last_contact', 'timestamptz')
    .addColumn('via', 'text')
    .addPrimaryKeyConstraint('alert_delivery_pk', ['alert_id', 'airing', 'endpoint_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['alert_delivery', 'alert_audit', 'alert_airings', 'alerts']) await db.schema.dropTable(t).execute();
  await db.schema.dropIndex('zones_admin_code_idx').execute();
  for (const c of ['drill', 'polygon', 'longitude', 'latitude', 'admin_code']) await db.schema.alterTable('zones').dropColumn(c).execute();
}
