// One server per data directory. Two servers on one directory both air everything (two SSRCs per
// stream), both write the same journals and one loses what the other creates. The lock is a file
// created with O_EXCL holding the owner's pid and start time; a lock whose owner is gone (kill -9,
// power loss) is taken over. Liveness is checked with kill(pid, 0) and, on Linux, the process's
// start time in /proc, so that a recycled pid (e.g. pid 1 in every container) is not mistaken for
// the owner. It protects one machine's processes; a directory shared over a network file system
// between machines is not covered.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'loa.lock';

/** Locks this process holds: a second server started in the same process (tests) is refused too. */
const heldHere = new Map<string, LockOwner>();

export interface LockOwner {
  pid: number;
  /** When the owner started (ISO 8601). */
  startedAt: string;
  host: string;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22), when known. */
  procStart: string | null;
}

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    super(
      `the data directory ${dataDir} is in use by another Loa server (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}); ` +
        `stop it first, or give this one its own LOA_DATA_DIR. (If that process is gone, its lock ${path.join(dataDir, LOCK_FILE)} is taken over at the next start.)`,
    );
  }
}

export interface DataDirLock {
  readonly file: string;
  /** What the lock took over from a process that died holding it (null when the lock was free). */
  readonly tookOverFrom: LockOwner | null;
  release(): void;
}

/** Start time of a live process (clock ticks since boot), or null where /proc is not there. */
function procStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  // Our own pid in a file we did not write: a previous life of this container or machine.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user. Only ESRCH means gone.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = procStartOf(owner.pid);
  // A different start time: the pid was recycled by an unrelated process.
  return !(owner.procStart && now && owner.procStart !== now);
}

function readOwner(file: string): { text: string; owner: LockOwner | null } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    if (typeof v.pid !== 'number') return { text, owner: null };
    return { text, owner: { pid: v.pid, startedAt: String(v.startedAt), host: String(v.host), procStart: v.procStart ?? null } };
  } catch {
    // A lock torn by a crash while it was written: nobody can be proven to own it.
    return { text, owner: null };
  }
}

/** Takes the lock of `dataDir` or throws DataDirLockedError naming the live owner. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, startedAt: new Date().toISOString(), host: os.hostname(), procStart: procStartOf(process.pid) };
  const mine = heldHere.get(file);
  if (mine) throw new DataDirLockedError(dataDir, mine);
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 5; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const seen = readOwner(file);
      if (seen === null) continue; // released meanwhile: try again
      if (seen.owner && isAlive(seen.owner)) throw new DataDirLockedError(dataDir, seen.owner);
      // Stale. Remove it only if it is still the file we judged (another starter may have just replaced it).
      const again = readOwner(file);
      if (again && again.text === seen.text) {
        try {
          unlinkSync(file);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      tookOverFrom = seen.owner ?? { pid: 0, startedAt: 'unknown', host: 'unknown', procStart: null };
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(me)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    heldHere.set(file, me);
    return {
      file,
      tookOverFrom,
      release() {
        if (released) return;
        released = true;
        heldHere.delete(file);
        // Only our own lock: never remove one a successor took over.
        if (readOwner(file)?.owner?.pid === me.pid) {
          try {
            unlinkSync(file);
          } catch {
            /* already gone */
          }
        }
      },
    };
  }
  throw new Error(`cannot take the lock ${file}: it keeps changing (several servers starting at once?)`);
}
