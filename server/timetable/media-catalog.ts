// What the timetable needs to know about media files to play them without asking the database
// at air time: path on disk, title, length. Filled when entries are loaded or edited, so a
// database outage at 05:30 does not silence the morning programme.
import type { Kysely } from 'kysely';
import type { LoaConfig } from '../config.js';
import type { DB } from '../db/types.js';
import { mediaFilePath } from '../media/store.js';

export interface MediaFileInfo {
  id: string;
  path: string;
  title: string;
  durationMs: number;
  zoneId: string;
}

export class MediaFiles {
  readonly #known = new Map<string, MediaFileInfo>();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly config: Pick<LoaConfig, 'dataDir'>,
  ) {}

  get(id: string): MediaFileInfo | undefined {
    return this.#known.get(id);
  }

  /** Loads the ones not known yet; returns the ids that do not exist. */
  async load(ids: Iterable<string>): Promise<string[]> {
    const want = [...new Set(ids)].filter((id) => !this.#known.has(id));
    if (want.length === 0) return [];
    const rows = await this.db.selectFrom('media').select(['id', 'sha256', 'title', 'duration_ms', 'zone_id']).where('id', 'in', want).execute();
    for (const r of rows) {
      this.#known.set(r.id, { id: r.id, path: mediaFilePath(this.config, r.sha256), title: r.title, durationMs: r.duration_ms, zoneId: r.zone_id });
    }
    return want.filter((id) => !this.#known.has(id));
  }
}
