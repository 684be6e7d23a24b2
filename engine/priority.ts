/**
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
