// At startup, after the as-run recorder has closed what the crash interrupted: the manual and
// emergency programmes the previous run left in the ledger go back on air at their offset,
// unless they are over (max duration, a tone's duration, or a media file shorter than the
// offset: the one thing the ledger does not know, looked up in the database when it answers).
import type { Kysely } from 'kysely';
import type { DB } from '../db/types.js';
import type { Logger } from '../logger.js';
import type { BroadcastHost } from './engine-host.js';

function mediaIdOf(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const r = request as { kind?: unknown; mediaId?: unknown };
  return r.kind === 'media' && typeof r.mediaId === 'string' ? r.mediaId : undefined;
}

export async function resumeDurableProgrammes(host: BroadcastHost, db: Kysely<DB>, logger: Logger): Promise<void> {
  const pending = host.recoveredProgrammes;
  if (pending.length === 0) {
    host.ledger?.rewrite();
    return;
  }
  const mediaIds = [...new Set(pending.map((p) => mediaIdOf(p.request)).filter((id): id is string => id !== undefined))];
  const durations = new Map<string, number>();
  if (mediaIds.length > 0) {
    try {
      const rows = await db.selectFrom('media').select(['id', 'duration_ms']).where('id', 'in', mediaIds).execute();
      for (const r of rows) durations.set(r.id, r.duration_ms);
    } catch (err) {
      // The engine ends a file played past its end by itself: resume without knowing.
      logger.warn({ err }, 'media durations unavailable; programmes resumed without checking their end');
    }
  }
  const { resumed, expired } = host.resumeRecovered((p, offsetMs) => {
    const id = mediaIdOf(p.request);
    const duration = id === undefined ? undefined : durations.get(id);
    return duration !== undefined && offsetMs >= duration;
  });
  if (resumed.length || expired.length) logger.info({ resumed, expired }, 'programmes of the previous run put back on air at their offset');
}
