// "Still on air" marks: the as-run rows whose interval is open (a 'start' or 'resumed' with no
// 'preempted' or 'end' yet), written with the time to <dataDir>/as-run/on-air.json every
// `everyMs`. After a kill -9 the next start finds the intervals the dead process left open and
// the last instant they were known to be on air, and closes them there ('interrupted'), so a
// crash leaves a trace in the log and the statistics count only what aired.
//
// The mark is replaced (temp file + rename) but not fsync'd: a killed process's writes are in
// the page cache and survive; after a power cut the mark may be up to a few seconds older
// (the intervals then close that much early, never late: never more air time than aired).
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { asRunProgrammeKey, asRunRowProblem, type AsRunRow } from '../../scheduler/as-run.js';

export const ON_AIR_MARK_FILE = 'on-air.json';
export const INTERRUPTED_REASON = 'interrupted';

export interface OnAirMark {
  /** Last instant the rows below were known to be on air. */
  atMs: number;
  open: AsRunRow[];
}

export class OpenIntervals {
  private readonly open = new Map<string, AsRunRow>();

  apply(row: AsRunRow): void {
    const key = asRunProgrammeKey(row);
    if (row.event === 'start' || row.event === 'resumed') this.open.set(key, row);
    else this.open.delete(key);
  }

  rows(): AsRunRow[] {
    return [...this.open.values()];
  }

  get size(): number {
    return this.open.size;
  }

  /** The 'end' rows that close every open interval at `atMs` (and forgets them). */
  closeAll(atMs: number, reason: string): AsRunRow[] {
    const out = closingRows(this.rows(), atMs, reason);
    this.open.clear();
    return out;
  }
}

/** 'end' rows closing `open` at `atMs` (never before their own start). */
export function closingRows(open: readonly AsRunRow[], atMs: number, reason: string): AsRunRow[] {
  return open.map((r) => {
    const at = Math.max(atMs, r.atUtcMs);
    const end: AsRunRow = { ...r, event: 'end', reason, atUtcMs: at };
    if (r.mediaPositionMs !== undefined) end.mediaPositionMs = r.mediaPositionMs + (at - r.atUtcMs);
    return end;
  });
}

export async function writeOnAirMark(dir: string, mark: OnAirMark): Promise<void> {
  const tmp = path.join(dir, `${ON_AIR_MARK_FILE}.tmp`);
  await writeFile(tmp, JSON.stringify(mark), 'utf8');
  await rename(tmp, path.join(dir, ON_AIR_MARK_FILE));
}

/** The mark a previous run left, or undefined (none, or unreadable: then nothing can be closed). */
export async function readOnAirMark(dir: string): Promise<OnAirMark | undefined> {
  try {
    const v = JSON.parse(await readFile(path.join(dir, ON_AIR_MARK_FILE), 'utf8')) as { atMs?: unknown; open?: unknown };
    if (typeof v.atMs !== 'number' || !Array.isArray(v.open)) return undefined;
    return { atMs: v.atMs, open: v.open.filter((r): r is AsRunRow => asRunRowProblem(r) === null) };
  } catch {
    return undefined;
  }
}
