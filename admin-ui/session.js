// @ts-check
// Who is logged in and what their roles let them do where — only to hide what they cannot
// do; the server decides. Mirrors server/auth/permissions.ts (a role on a zone covers its subtree).
import { api, getToken, setToken } from './api.js';

/**
 * @typedef {{ id: string, role: 'admin'|'operator'|'authority'|'viewer', zoneId: string | null }} Grant
 * @typedef {{ id: string, username: string, displayName: string, roles: Grant[] }} Me
 * @typedef {{ id: string, parentId: string | null, kind: string, name: string, code: string | null, timeZone: string, path: string }} Zone
 */

const ROLE_ACTIONS = {
  viewer: ['read'],
  operator: ['read', 'endpoints.manage', 'media.manage', 'timetables.manage', 'playback.push'],
  authority: ['read', 'playback.push', 'playback.emergency', 'alerts.push'],
  admin: ['read', 'endpoints.manage', 'media.manage', 'timetables.manage', 'playback.push', 'playback.emergency', 'alerts.push', 'zones.manage', 'users.manage'],
};

/** @type {Me | null} */
let me = null;

export function currentUser() {
  return me;
}

/** Restores the session from sessionStorage (a reload keeps the user logged in). */
export async function restore() {
  if (!getToken()) return null;
  try {
    me = await api('GET', '/auth/me');
    return me;
  } catch {
    setToken(null);
    me = null;
    return null;
  }
}

/** @param {string} username @param {string} password */
export async function login(username, password) {
  const res = await api('POST', '/auth/login', { username, password }, { auth: false });
  setToken(res.token);
  me = res.user;
  return me;
}

export async function logout() {
  try {
    if (getToken()) await api('POST', '/auth/logout', undefined, { auth: false });
  } catch {
    // The token is forgotten here whatever the server says.
  }
  forget();
}

export function forget() {
  setToken(null);
  me = null;
}

/** @param {Grant} g @param {string} action */
function grantAllows(g, action) {
  return (ROLE_ACTIONS[g.role] ?? []).includes(action);
}

/** Whether some role allows `action` somewhere (to show a menu or a form at all). */
export function canSomewhere(/** @type {string} */ action) {
  return (me?.roles ?? []).some((g) => grantAllows(g, action));
}

/** Whether `action` is allowed everywhere (a grant on no zone). */
export function canEverywhere(/** @type {string} */ action) {
  return (me?.roles ?? []).some((g) => g.zoneId === null && grantAllows(g, action));
}

/** Whether `action` is allowed at this zone (its path lists its ancestors and itself). @param {string} action @param {Zone} zone */
export function canAt(action, zone) {
  return (me?.roles ?? []).some((g) => grantAllows(g, action) && (g.zoneId === null || zone.path.includes(`/${g.zoneId}/`)));
}
