// Who may do what, where. A role is granted on a zone and covers that zone's whole subtree;
// a grant with zone null covers every zone (present and future) and is the only way to act
// at the top of the tree (create root zones, manage users without a zone). A user sees
// nothing of a zone that none of their grants covers: routes answer 404 there, not 403.
import type { Role } from '../db/types.js';
import { isInSubtree, pathIds } from '../zone-tree.js';

export type Action =
  | 'read'
  | 'endpoints.manage'
  | 'media.manage'
  | 'timetables.manage'
  | 'playback.push'
  | 'playback.emergency'
  | 'alerts.push'
  | 'zones.manage'
  | 'users.manage';

export const ACTIONS: readonly Action[] = [
  'read',
  'endpoints.manage',
  'media.manage',
  'timetables.manage',
  'playback.push',
  'playback.emergency',
  'alerts.push',
  'zones.manage',
  'users.manage',
];

export const ROLE_ACTIONS: Readonly<Record<Role, readonly Action[]>> = {
  viewer: ['read'],
  operator: ['read', 'endpoints.manage', 'media.manage', 'timetables.manage', 'playback.push'],
  authority: ['read', 'playback.push', 'playback.emergency', 'alerts.push'],
  admin: ACTIONS,
};

export function roleAllows(role: Role, action: Action): boolean {
  return ROLE_ACTIONS[role].includes(action);
}

export interface Grant {
  id: string;
  role: Role;
  /** null = all zones. */
  zoneId: string | null;
  /** Materialized path of zoneId (null for a global grant). */
  zonePath: string | null;
}

/** Whether some grant allows `action` at a zone with this path (null path = the top of the tree). */
export function grantsAllow(grants: readonly Grant[], action: Action, zonePath: string | null): boolean {
  return grants.some(
    (g) => roleAllows(g.role, action) && (g.zonePath === null || (zonePath !== null && isInSubtree(zonePath, g.zonePath))),
  );
}

/** Subtree roots (paths) where `action` is allowed, or 'all' for a global grant. */
export function grantRoots(grants: readonly Grant[], action: Action): 'all' | string[] {
  const paths: string[] = [];
  for (const g of grants) {
    if (!roleAllows(g.role, action)) continue;
    if (g.zonePath === null) return 'all';
    paths.push(g.zonePath);
  }
  // Drop roots already covered by another root.
  return paths.filter((p) => !paths.some((q) => q !== p && isInSubtree(p, q)));
}

export { pathIds };
