// The caller of a request, as route plugins see it (`request.auth`): who they are and
// what their grants let them do where. Loaded once per request from the token.
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { DB, Zone } from '../db/types.js';
import { findZone, inSubtrees } from '../zone-tree.js';
import { forbidden, notFound } from '../errors.js';
import { grantRoots, grantsAllow, type Action, type Grant } from './permissions.js';

export interface AuthUser {
  id: string;
  username: string;
  displayName: string;
}

/** Where a zone lies (id and path), answered from memory when possible (auth-cache.ts). */
export interface ZoneLookup {
  zone(id: string): Promise<Pick<Zone, 'id' | 'path'> | undefined>;
}

export class AuthContext {
  constructor(
    readonly user: AuthUser,
    readonly grants: readonly Grant[],
    readonly tokenId: string,
    private readonly db: Kysely<DB>,
    private readonly zones: ZoneLookup = { zone: (id) => findZone(db, id) },
  ) {}

  /** `action` allowed at a zone (given by its row or path); null = the top of the tree. */
  can(action: Action, zone: Pick<Zone, 'path'> | string | null): boolean {
    const path = zone === null ? null : typeof zone === 'string' ? zone : zone.path;
    return grantsAllow(this.grants, action, path);
  }

  /** Same as can() for a zone id; false when the zone does not exist. */
  async canInZone(action: Action, zoneId: string | null): Promise<boolean> {
    if (zoneId === null) return this.can(action, null);
    const zone = await findZone(this.db, zoneId);
    return zone !== undefined && this.can(action, zone);
  }

  /** Holds a grant on every zone for this action. */
  isGlobal(action: Action = 'read'): boolean {
    return grantRoots(this.grants, action) === 'all';
  }

  /** SQL condition on a zone-path column: the zone lies where `action` is allowed. */
  zoneFilter(action: Action, pathColumn = 'zones.path'): RawBuilder<SqlBool> {
    const roots = grantRoots(this.grants, action);
    return roots === 'all' ? sql<SqlBool>`true` : inSubtrees(pathColumn, roots);
  }

  /** Ids of every zone the caller may read (or act on with `action`). */
  async visibleZoneIds(action: Action = 'read'): Promise<string[]> {
    const rows = await this.db.selectFrom('zones').select('id').where(this.zoneFilter(action)).execute();
    return rows.map((r) => r.id);
  }

  /**
   * Loads a zone the caller must be allowed `action` on: 404 when the caller cannot even
   * read it (its existence is not revealed), 403 when they can read but not act.
   */
  async requireZone(action: Action, zoneId: string): Promise<Zone> {
    const zone = await findZone(this.db, zoneId);
    if (!zone || !this.can('read', zone)) throw notFound('zone', zoneId);
    this.require(action, zone);
    return zone;
  }

  /** A zone's id and path, from memory when possible; undefined when it does not exist. */
  zoneScope(zoneId: string): Promise<Pick<Zone, 'id' | 'path'> | undefined> {
    return this.zones.zone(zoneId);
  }

  /**
   * requireZone() for the play path: only the zone's id and path, from memory (no database
   * round trip unless the zone is unknown there). Same answers: 404 unreadable, 403 not allowed.
   */
  async requireZoneScope(action: Action, zoneId: string): Promise<Pick<Zone, 'id' | 'path'>> {
    const zone = await this.zones.zone(zoneId);
    if (!zone || !this.can('read', zone)) throw notFound('zone', zoneId);
    this.require(action, zone);
    return zone;
  }

  /** Throws 403 unless `action` is allowed at this (already visible) zone. */
  require(action: Action, zone: Pick<Zone, 'path'> | string | null): void {
    if (!this.can(action, zone)) throw forbidden();
  }
}

export async function loadGrants(db: Kysely<DB>, userId: string): Promise<Grant[]> {
  const rows = await db
    .selectFrom('role_assignments')
    .leftJoin('zones', 'zones.id', 'role_assignments.zone_id')
    .select(['role_assignments.id', 'role_assignments.role', 'role_assignments.zone_id', 'zones.path'])
    .where('role_assignments.user_id', '=', userId)
    .execute();
  return rows.map((r) => ({ id: r.id, role: r.role, zoneId: r.zone_id, zonePath: r.zone_id === null ? null : r.path }));
}
