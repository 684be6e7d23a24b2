// From a planned airing to what the engine plays: the source (file, playlist as a sequence of
// files, relay), where in it to start (recovery after a restart starts mid-programme), how
// long it may last, and the title the as-run log shows.
import type { Airing } from '../../scheduler/planner.js';
import { airingLatestEndUtcMs } from '../../scheduler/planner.js';
import type { PlayOptions } from '../../engine/engine.js';
import type { SourceSpec } from '../../engine/protocol.js';
import type { MediaFileInfo } from './media-catalog.js';

export interface AiringPlay {
  play: PlayOptions;
  title: string;
}

export type AiringPlayResult = { ok: true; value: AiringPlay } | { ok: false; reason: string };

/**
 * The play command for `airing`, `offsetMs` into it (0 for an airing handed over ahead of its
 * start), starting on the frame due at `startAtMs` (default: the airing's start when the offset
 * is 0, else as soon as ready). Fails with a reason when a media file is unknown, or when the
 * offset is past the end of the programme (nothing left to put back on air).
 */
export function airingPlay(
  airing: Airing,
  offsetMs: number,
  media: (id: string) => MediaFileInfo | undefined,
  programmeId = airing.airingId,
  startAtMs?: number,
): AiringPlayResult {
  const p = airing.programme;
  let source: SourceSpec;
  let title: string;
  switch (p.kind) {
    case 'media': {
      const m = media(p.mediaId);
      if (!m) return { ok: false, reason: `media ${p.mediaId} is unknown` };
      if (offsetMs > 0 && offsetMs >= m.durationMs) return { ok: false, reason: 'the programme has already ended' };
      source = offsetMs > 0 ? { kind: 'file', path: m.path, startMs: offsetMs } : { kind: 'file', path: m.path };
      title = m.title;
      break;
    }
    case 'playlist': {
      const items: SourceSpec[] = [];
      const titles: string[] = [];
      let skip = offsetMs;
      for (const id of p.mediaIds) {
        const m = media(id);
        if (!m) return { ok: false, reason: `media ${id} is unknown` };
        titles.push(m.title);
        if (skip >= m.durationMs) {
          skip -= m.durationMs;
          continue;
        }
        items.push(skip > 0 ? { kind: 'file', path: m.path, startMs: skip } : { kind: 'file', path: m.path });
        skip = 0;
      }
      if (items.length === 0) return { ok: false, reason: 'the programme has already ended' };
      source = { kind: 'sequence', items };
      title = titles.join(' + ');
      break;
    }
    case 'relay':
      source = { kind: 'relay', url: p.url };
      title = p.url;
      break;
  }
  const play: PlayOptions = { programmeId, zones: airing.zoneIds, priority: airing.priority, source };
  const latestEnd = airingLatestEndUtcMs(airing);
  if (latestEnd !== null) {
    const left = latestEnd - airing.startUtcMs - offsetMs;
    if (left <= 0) return { ok: false, reason: 'the programme has already ended' };
    play.maxDurationMs = left;
  }
  if (startAtMs !== undefined) play.startAt = startAtMs;
  else if (offsetMs === 0) play.startAt = airing.startUtcMs;
  return { ok: true, value: { play, title } };
}
