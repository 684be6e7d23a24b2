// When an alert airs next: computed from the airings stored in the database, never from when
// this process started, so a restart in the middle of a cadence continues it where it was.
import type { AlertCadence } from './tables.js';

export interface CadenceState {
  cadence: AlertCadence;
  /** Epoch ms, or null for no expiry. */
  expiresAtMs: number | null;
  /** Airings done so far, and when the last one started (epoch ms). */
  airings: number;
  lastStartedAtMs: number | null;
}

/**
 * Epoch ms of the next airing (possibly in the past: due now), or null when the alert is
 * done: its count reached, no repeat asked, or the next time falls at or after its expiry.
 */
export function nextAiringAt(s: CadenceState): number | null {
  // Never aired: due at once (an expired alert is caught by isExpired before it airs).
  if (s.lastStartedAtMs === null) return 0;
  const { everyMinutes, count } = s.cadence;
  if (everyMinutes === null) return null;
  if (count !== null && s.airings >= count) return null;
  const next = s.lastStartedAtMs + everyMinutes * 60_000;
  if (s.expiresAtMs !== null && next >= s.expiresAtMs) return null;
  return next;
}

/** Whether the alert is past its expiry at `nowMs`. */
export function isExpired(expiresAtMs: number | null, nowMs: number): boolean {
  return expiresAtMs !== null && nowMs >= expiresAtMs;
}
