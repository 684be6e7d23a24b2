// The words an alert airing says, built in one place. Every airing restates the time of issue
// first (Decision 18/2021/QĐ-TTg: a disaster bulletin repeats and restates when it was issued),
// then labels an exercise or a test as such, then the headline, the description and the
// instruction. Numbers stay digits: the speech synthesiser normalises them into words.
import type { AlertStatus } from './tables.js';

export interface SpokenAlert {
  status: AlertStatus;
  headline: string;
  description: string;
  instruction: string;
  issuedAt: Date;
}

const STATUS_LABEL: Readonly<Record<AlertStatus, string | null>> = {
  Actual: null,
  Exercise: 'Đây là tin diễn tập.',
  Test: 'Đây là tin thử nghiệm.',
};

/** "14 giờ 30 phút ngày 27 tháng 11 năm 2026" in the zone's time zone. */
export function vietnameseTime(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const n = (s: string) => String(Number(s));
  return `${n(parts.hour)} giờ ${n(parts.minute)} phút ngày ${n(parts.day)} tháng ${n(parts.month)} năm ${parts.year}`;
}

function sentence(s: string): string {
  const t = s.trim();
  if (!t) return '';
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}

/** The text of every airing of an alert (the same each time: it restates the time of issue). */
export function alertSpokenText(a: SpokenAlert, timeZone: string): string {
  const label = STATUS_LABEL[a.status];
  return [
    `Bản tin phát lúc ${vietnameseTime(a.issuedAt, timeZone)}.`,
    label,
    sentence(a.headline),
    sentence(a.description),
    sentence(a.instruction),
    label,
  ]
    .filter((s): s is string => !!s)
    .join(' ');
}

/** The audible notice that an alert was cancelled. */
export function cancelledSpokenText(a: SpokenAlert, timeZone: string): string {
  const label = STATUS_LABEL[a.status];
  return [`Thông báo huỷ bản tin phát lúc ${vietnameseTime(a.issuedAt, timeZone)}: ${a.headline.trim().replace(/[.!?…]$/, '')}.`, 'Bản tin này không còn hiệu lực.', label]
    .filter((s): s is string => !!s)
    .join(' ');
}
