/**
 * Priorities, and the one rule of who gets the air: the media plane's arbiter
 * (engine/arbiter.ts) applies it frame by frame, the timetable conflict report
 * (scheduler/conflicts.ts) applies it to planned airings.
 *
 * Priorities are numbers: bigger wins. The names users see map onto them.
 * The official three bulletin priorities are normal (thông thường),
 * priority (ưu tiên) and emergency (khẩn cấp). Live sits between priority and
 * emergency: a centre going live cuts into bulletins, an alert cuts into live.
 */
export const PRIORITY = {
  background: 100,
  normal: 200,
  priority: 300,
  live: 400,
  emergency: 500,
} as const;

export type PriorityName = keyof typeof PRIORITY;
export const PRIORITY_NAMES = Object.keys(PRIORITY) as PriorityName[];

export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 1000;

/** At or above this level, newest wins between equals (a stuck microphone must not block an alert). */
export const NEWEST_WINS_AT = PRIORITY.emergency;

export function priorityValue(p: PriorityName | number): number {
  return typeof p === 'number' ? p : PRIORITY[p];
}

/** What the rule needs to know of a programme (or a planned airing) contending for a zone. */
export interface Contender {
  readonly id: string;
  readonly priority: number;
  /** Order of arrival: bigger is newer. */
  readonly seq: number;
}

/**
 * Whether `challenger` takes the air from `holder` when `onAirId` is what airs now.
 * Higher priority wins. Between equals, the one on air keeps it, except at or above
 * NEWEST_WINS_AT, where the newest wins; between equals both off air, the older goes first.
 */
export function beats(challenger: Contender, holder: Contender, onAirId: string | null): boolean {
  if (challenger.priority !== holder.priority) return challenger.priority > holder.priority;
  if (challenger.priority >= NEWEST_WINS_AT) return challenger.seq > holder.seq;
  if (holder.id === onAirId) return false;
  return challenger.id === onAirId || challenger.seq < holder.seq;
}

/** The winner among the contenders for one zone. */
export function choose<T extends Contender>(candidates: readonly T[], onAirId: string | null): T | null {
  let best: T | null = null;
  for (const p of candidates) if (!best || beats(p, best, onAirId)) best = p;
  return best;
}
