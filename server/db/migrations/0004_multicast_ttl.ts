// The IP TTL of a zone's multicast packets: 1 keeps them on the local segment (the default:
// a LAN of loudspeakers); more crosses that many multicast routers. The zone SDP says it too.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('zones')
    .addColumn('multicast_ttl', 'integer', (c) => c.notNull().defaultTo(1).check(sql`multicast_ttl between 1 and 255`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('zones').dropColumn('multicast_ttl').execute();
}
