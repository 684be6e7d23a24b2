// The zone tree kept as materialized paths: each zone stores `/root/…/parent/self/`, so
// "is Z inside the subtree of A" is a prefix test and a whole subtree is one indexed LIKE.
import { sql, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import type { DB, Zone } from './db/types.js';

export const ROOT_PATH = '/';

export function childPath(parentPath: string | null, id: string): string {
  return `${parentPath ?? ROOT_PATH}${id}/`;
}

/** Zone ids from the root down to the zone itself. */
export function pathIds(path: string): string[] {
  return path.split('/').filter(Boolean);
}

export function isInSubtree(path: string, ancestorPath: string): boolean {
  return path.startsWith(ancestorPath);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** SQL: `column` lies in the subtree of any of `paths` (an empty list matches nothing). */
export function inSubtrees(column: string, paths: readonly string[]): RawBuilder<SqlBool> {
  if (paths.length === 0) return sql<SqlBool>`false`;
  return sql<SqlBool>`(${sql.join(
    paths.map((p) => sql`${sql.ref(column)} like ${escapeLike(p) + '%'}`),
    sql` or `,
  )})`;
}

export async function findZone(db: Kysely<DB> | Transaction<DB>, id: string): Promise<Zone | undefined> {
  return db.selectFrom('zones').selectAll().where('id', '=', id).executeTakeFirst();
}

export class ZoneCycleError extends Error {}

/**
 * Moves `zoneId` under `newParentId` (null = a root) and rewrites the paths of its whole
 * subtree, in one transaction with the table locked against concurrent moves.
 */
export async function moveZone(db: Kysely<DB>, zoneId: string, newParentId: string | null): Promise<Zone> {
  return db.transaction().execute(async (tx) => {
    await sql`lock table zones in share row exclusive mode`.execute(tx);
    const zone = await findZone(tx, zoneId);
    if (!zone) throw new Error(`zone ${zoneId} vanished`);
    let parentPath: string | null = null;
    if (newParentId !== null) {
      const parent = await findZone(tx, newParentId);
      if (!parent) throw new Error(`zone ${newParentId} vanished`);
      if (isInSubtree(parent.path, zone.path)) throw new ZoneCycleError();
      parentPath = parent.path;
    }
    const newPath = childPath(parentPath, zone.id);
    if (newPath !== zone.path) {
      await tx
        .updateTable('zones')
        .set({ path: sql<string>`${newPath} || substr(path, ${zone.path.length + 1})` })
        .where(inSubtrees('path', [zone.path]))
        .execute();
    }
    await tx.updateTable('zones').set({ parent_id: newParentId }).where('id', '=', zone.id).execute();
    return (await findZone(tx, zone.id))!;
  });
}

export interface SubtreeContents {
  children: number;
  endpoints: number;
  media: number;
}

export async function subtreeContents(db: Kysely<DB>, zone: Zone): Promise<SubtreeContents> {
  const sub = (q: typeof db) => q.selectFrom('zones').select('id').where(inSubtrees('path', [zone.path]));
  const [children, endpoints, media] = await Promise.all([
    db.selectFrom('zones').select((eb) => eb.fn.countAll<number>().as('n')).where('parent_id', '=', zone.id).executeTakeFirstOrThrow(),
    db.selectFrom('endpoints').select((eb) => eb.fn.countAll<number>().as('n')).where('zone_id', 'in', sub(db)).executeTakeFirstOrThrow(),
    db.selectFrom('media').select((eb) => eb.fn.countAll<number>().as('n')).where('zone_id', 'in', sub(db)).executeTakeFirstOrThrow(),
  ]);
  return { children: Number(children.n), endpoints: Number(endpoints.n), media: Number(media.n) };
}

/**
 * Deletes a zone with its whole subtree, the endpoints and media rows in it (role grants go by
 * foreign-key cascade), in one transaction. Returns the sha256 of the media rows removed so the
 * caller can drop files no longer referenced.
 */
export async function deleteSubtree(db: Kysely<DB>, zoneId: string): Promise<{ zones: number; mediaSha256: string[] }> {
  return db.transaction().execute(async (tx) => {
    await sql`lock table zones in share row exclusive mode`.execute(tx);
    const zone = await findZone(tx, zoneId);
    if (!zone) return { zones: 0, mediaSha256: [] };
    const ids = tx.selectFrom('zones').select('id').where(inSubtrees('path', [zone.path]));
    await tx.deleteFrom('endpoints').where('zone_id', 'in', ids).execute();
    const media = await tx.deleteFrom('media').where('zone_id', 'in', ids).returning('sha256').execute();
    const deleted = await tx.deleteFrom('zones').where(inSubtrees('path', [zone.path])).executeTakeFirst();
    return { zones: Number(deleted.numDeletedRows), mediaSha256: [...new Set(media.map((m) => m.sha256))] };
  });
}
