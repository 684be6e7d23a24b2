// @ts-check
// Reads shared by several pages, and a poller that never overlaps itself and stops cleanly.
import { api, ApiError } from './api.js';

/** @returns {Promise<import('./session.js').Zone[]>} */
export const loadZones = () => api('GET', '/zones');

/** @param {string} [zoneId] */
export const loadEndpoints = (zoneId) => api('GET', `/endpoints${zoneId ? `?zoneId=${encodeURIComponent(zoneId)}` : ''}`);

/** @param {string} [zoneId] */
export const loadMedia = (zoneId) => api('GET', `/media${zoneId ? `?zoneId=${encodeURIComponent(zoneId)}` : ''}`);

/**
 * The on-air state per zone, or null when this server has no playback routes yet (404).
 * @returns {Promise<Map<string, import('./zone-tree.js').OnAir> | null>}
 */
export async function loadOnAir() {
  try {
    const res = await api('GET', '/on-air');
    return new Map((res.zones ?? []).map((/** @type {any} */ z) => [z.zoneId, z]));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'not_found') return null;
    throw err;
  }
}

/**
 * Calls `fn` now and then every `ms` (after the previous call ended); returns a stop function.
 * @param {() => Promise<void>} fn
 * @param {number} ms
 */
export function poll(fn, ms) {
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const tick = async () => {
    try {
      await fn();
    } catch {
      // The page shows its own error; keep polling so it recovers by itself.
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
