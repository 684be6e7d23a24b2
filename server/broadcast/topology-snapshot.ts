/**
 * What the media engine needs to put programmes back on air without the database: the zone
 * tree, the zones' multicast groups and the fixed-address endpoint attachments (receive-only
 * RTP devices, addresses already resolved). One small file beside the programme ledger
 * (<dataDir>/programmes/topology.json), replaced atomically (temp file, fsync, rename, fsync of
 * the directory) whenever the engine's copy of these changes, and after every startup sync.
 *
 * At startup it is read before the database opens (opening the embedded database took
 * 0.8–1 s of the 2.1–2.6 s back on air, measured with bench/restart-to-air.ts); once the
 * database answers, the host reconciles with it: the database is the truth, the snapshot only
 * a head start. Agents (learned addresses) are not in it: their attachment needs a live
 * control connection, which the HTTP server takes after the database is open.
 *
 * A missing, unreadable or malformed snapshot is no reason not to start: the caller falls back
 * to the database-first order and says so in the log.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AttachEndpointOptions } from '../../engine/engine.js';
import type { ZoneNode } from '../../engine/protocol.js';
import { writeAtomic } from './atomic-file.js';
import type { MulticastGroup } from './zone-settings.js';

export const TOPOLOGY_FILE = 'topology.json';

export interface SnapshotAttachment {
  /** The host's comparison key (fixed:<zone>:<codec>:<host>:<port>), so the reconcile sends only differences. */
  key: string;
  command: AttachEndpointOptions;
}

export interface TopologySnapshot {
  v: 1;
  writtenAtMs: number;
  zones: ZoneNode[];
  multicast: Record<string, MulticastGroup>;
  attachments: SnapshotAttachment[];
}

export type SnapshotRead = { ok: true; snapshot: TopologySnapshot } | { ok: false; reason: string };

/** Reads the snapshot; never throws (a missing file is `reason: 'missing'`). */
export async function readTopologySnapshot(dir: string): Promise<SnapshotRead> {
  let text: string;
  try {
    text = await readFile(path.join(dir, TOPOLOGY_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ENOENT' ? 'missing' : `unreadable: ${code ?? (err as Error).message}` };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `corrupt: ${(err as Error).message}` };
  }
  const problem = snapshotProblem(v);
  return problem ? { ok: false, reason: `corrupt: ${problem}` } : { ok: true, snapshot: v as TopologySnapshot };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Why `v` is not a snapshot the engine can take as it is (undefined: it is one). */
function snapshotProblem(v: unknown): string | undefined {
  if (!isObject(v) || v.v !== 1) return 'not a version 1 snapshot';
  if (typeof v.writtenAtMs !== 'number') return 'no writtenAtMs';
  if (!Array.isArray(v.zones) || !v.zones.every((z) => isObject(z) && typeof z.id === 'string' && (z.parentId === null || typeof z.parentId === 'string'))) return 'bad zones';
  if (!isObject(v.multicast) || !Object.values(v.multicast).every((g) => isObject(g) && typeof g.address === 'string' && typeof g.port === 'number' && typeof g.codec === 'string' && typeof g.ttl === 'number')) return 'bad multicast groups';
  const zoneIds = new Set((v.zones as ZoneNode[]).map((z) => z.id));
  const okAttachment = (a: unknown): boolean => {
    if (!isObject(a) || typeof a.key !== 'string' || !isObject(a.command)) return false;
    const c = a.command;
    return typeof c.endpointId === 'string' && typeof c.zoneId === 'string' && zoneIds.has(c.zoneId) && typeof c.codec === 'string' && isObject(c.address) && typeof c.address.host === 'string' && typeof c.address.port === 'number';
  };
  if (!Array.isArray(v.attachments) || !v.attachments.every(okAttachment)) return 'bad attachments';
  return undefined;
}

/**
 * Writes snapshots one after another, the latest winning (changes during a write go out in
 * the next one); skips a write whose content equals the last one written.
 */
export class TopologySnapshotWriter {
  private pending: Omit<TopologySnapshot, 'v' | 'writtenAtMs'> | undefined;
  private lastWritten: string | undefined;
  private writing: Promise<void> | undefined;
  writes = 0;
  writeErrors = 0;

  constructor(
    readonly dir: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  save(content: Omit<TopologySnapshot, 'v' | 'writtenAtMs'>): void {
    this.pending = content;
    if (this.writing) return;
    // Cleared in a callback, never inside loop(): a loop with nothing to write ends synchronously,
    // and clearing it there would leave `writing` set for good.
    this.writing = this.loop().finally(() => {
      this.writing = undefined;
      if (this.pending) this.save(this.pending);
    });
  }

  /** Resolves once every snapshot saved so far is on disk (or failed). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async loop(): Promise<void> {
    while (this.pending) {
      const content = this.pending;
      this.pending = undefined;
      const key = JSON.stringify(content);
      if (key === this.lastWritten) continue;
      const snapshot: TopologySnapshot = { v: 1, writtenAtMs: Date.now(), ...content };
      try {
        await writeAtomic(this.dir, TOPOLOGY_FILE, JSON.stringify(snapshot));
        this.lastWritten = key;
        this.writes++;
      } catch (err) {
        this.writeErrors++;
        this.onError(err);
      }
    }
  }
}
