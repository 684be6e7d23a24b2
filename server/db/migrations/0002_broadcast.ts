// Per-zone broadcast settings: the playout delay its receivers play at (null: the server
// default) and an optional RTP multicast group its stream is sent to (LAN loudspeakers).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('zones')
    .addColumn('playout_delay_ms', 'integer', (c) => c.check(sql`playout_delay_ms between 0 and 10000`))
    .addColumn('multicast_address', 'text')
    .addColumn('multicast_port', 'integer', (c) => c.check(sql`multicast_port between 1 and 65535`))
    .addColumn('multicast_codec', 'text', (c) => c.check(sql`multicast_codec in ('opus', 'pcmu', 'pcma', 'l16')`))
    .execute();
  // A group is all three or nothing.
  await sql`alter table zones add constraint zones_multicast_complete check (
    (multicast_address is null and multicast_port is null and multicast_codec is null) or
    (multicast_address is not null and multicast_port is not null and multicast_codec is not null))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table zones drop constraint zones_multicast_complete`.execute(db);
  for (const c of ['multicast_codec', 'multicast_port', 'multicast_address', 'playout_delay_ms']) {
    await db.schema.alterTable('zones').dropColumn(c).execute();
  }
}
