import { readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of a process, read from /proc (Linux).
 * CPU is user+system jiffies converted with the kernel's clock tick (100 Hz on
 * Debian); a sample pair gives the share of one core used in between.
 */
export interface UsageSample {
  atMs: number;
  cpuMs: number;
  rssBytes: number;
}

const CLOCK_TICKS_PER_S = 100;
const PAGE_BYTES = 4096;

export function parseProcStat(text: string): { utime: number; stime: number; rssPages: number } {
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('malformed /proc/<pid>/stat: no ")"');
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state); utime is field 14, stime 15, rss 24.
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  const rssPages = Number(fields[24 - 3]);
  if (![utime, stime, rssPages].every(Number.isFinite)) throw new Error('malformed /proc/<pid>/stat: bad numbers');
  return { utime, stime, rssPages };
}

export function sampleUsage(pid: number): UsageSample {
  const s = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return {
    atMs: performance.timeOrigin + performance.now(),
    cpuMs: ((s.utime + s.stime) * 1000) / CLOCK_TICKS_PER_S,
    rssBytes: s.rssPages * PAGE_BYTES,
  };
}

/** Share of one core (1.0 = one full core) between two samples. */
export function cpuShare(a: UsageSample, b: UsageSample): number {
  const wall = b.atMs - a.atMs;
  return wall > 0 ? (b.cpuMs - a.cpuMs) / wall : Number.NaN;
}
