/**
 * Programmes that must survive a crash: one small file (<dataDir>/programmes/active.json)
 * holding every programme still running (manual, emergency, and timetable airings: those go
 * back on air from here before the database opens, then the timetable adopts them), with its
 * playhead. The engine gets the command first; the ledger is written right after (an alert
 * must not wait on a disk), replaced atomically (temp file, fsync, rename, fsync of the
 * directory) so a kill -9 or a power cut leaves the old or the new list, whole. It needs no
 * database: a programme started while the database is down survives a restart too.
 *
 * Writes are serialized and coalesced: changes that arrive while one write is in flight go
 * out together in the next one (a few ms each on a disk that syncs).
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SourceSpec } from '../../engine/protocol.js';
import type { ProgrammeKind } from './programme-catalog.js';
import type { Playhead } from './playheads.js';
import { writeAtomic } from './atomic-file.js';

export interface DurableProgramme {
  programmeId: string;
  zoneIds: string[];
  priority: number;
  /** As first played (the offset is applied from the playhead at replay). */
  source: SourceSpec;
  maxDurationMs?: number;
  startAt?: number;
  title: string;
  kind: ProgrammeKind;
  by: string;
  request?: unknown;
  requestedAtMs: number;
  playhead?: Playhead;
  /** A timetable airing (put back on air from here before the database opens; the timetable then adopts it). */
  entryId?: string;
  airingId?: string;
}

const FILE = 'active.json';

export class ProgrammeLedger {
  private readonly items = new Map<string, DurableProgramme>();
  private writing: Promise<void> | undefined;
  private dirty = false;
  /** Failed writes (logged by the caller through onError); the next change tries again. */
  writeErrors = 0;

  private constructor(
    readonly dir: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Opens the ledger; `recovered` holds what the previous run left running. */
  static async open(dir: string, onError: (err: unknown) => void): Promise<{ ledger: ProgrammeLedger; recovered: DurableProgramme[] }> {
    await mkdir(dir, { recursive: true });
    let recovered: DurableProgramme[] = [];
    try {
      const v = JSON.parse(await readFile(path.join(dir, FILE), 'utf8')) as { programmes?: unknown };
      if (Array.isArray(v.programmes)) recovered = v.programmes.filter(isDurableProgramme);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err);
    }
    return { ledger: new ProgrammeLedger(dir, onError), recovered };
  }

  get size(): number {
    return this.items.size;
  }

  has(programmeId: string): boolean {
    return this.items.has(programmeId);
  }

  list(): DurableProgramme[] {
    return [...this.items.values()];
  }

  put(p: DurableProgramme): void {
    this.items.set(p.programmeId, p);
    this.schedule();
  }

  setPlayhead(programmeId: string, playhead: Playhead): void {
    const p = this.items.get(programmeId);
    if (!p) return;
    p.playhead = playhead;
    this.schedule();
  }

  remove(programmeId: string): void {
    if (this.items.delete(programmeId)) this.schedule();
  }

  /** Writes the list as it is now (after recovery: drops what the previous run left and did not resume). */
  rewrite(): void {
    this.schedule();
  }

  /** Resolves once every change made so far is on disk. */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private schedule(): void {
    this.dirty = true;
    if (!this.writing) this.writing = this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const text = JSON.stringify({ v: 1, programmes: [...this.items.values()] });
        try {
          await writeAtomic(this.dir, FILE, text);
        } catch (err) {
          this.writeErrors++;
          this.onError(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

function isDurableProgramme(v: unknown): v is DurableProgramme {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return (
    typeof p.programmeId === 'string' &&
    Array.isArray(p.zoneIds) &&
    p.zoneIds.every((z) => typeof z === 'string') &&
    typeof p.priority === 'number' &&
    typeof p.source === 'object' &&
    p.source !== null &&
    typeof p.title === 'string' &&
    typeof p.kind === 'string' &&
    typeof p.by === 'string' &&
    typeof p.requestedAtMs === 'number'
  );
}
