/**
 * A programme's source description moved to an offset, for putting it back on air after the
 * media worker or the server died. Files seek (ffmpeg -ss, as timetable recovery does);
 * generators start over with what is left of their duration (a tone or a siren has no
 * position worth keeping, only an end); a relay is live and just resumes.
 */
import type { SourceSpec } from '../../engine/protocol.js';

export interface ResumedSource {
  spec: SourceSpec;
  /** What to add to the positions the engine reports for this source to get the programme's. */
  positionBaseMs: number;
}

/**
 * The source at `positionMs` (a position as the engine reports it for this source: a file's
 * includes its startMs), or null when nothing is left of it. Undefined: never played, as is.
 */
export function sourceAtOffset(spec: SourceSpec, positionMs: number | undefined): ResumedSource | null {
  if (positionMs === undefined) return { spec, positionBaseMs: 0 };
  const offset = Math.max(0, Math.round(positionMs));
  switch (spec.kind) {
    case 'file':
      return { spec: { ...spec, startMs: offset }, positionBaseMs: 0 };
    case 'tone':
    case 'siren':
    case 'clicks':
    case 'silence': {
      if (spec.durationMs === undefined) return { spec, positionBaseMs: offset };
      const left = spec.durationMs - offset;
      return left > 0 ? { spec: { ...spec, durationMs: left }, positionBaseMs: offset } : null;
    }
    case 'relay':
      return { spec, positionBaseMs: offset };
    case 'gain': {
      const inner = sourceAtOffset(spec.source, offset);
      return inner && { spec: { ...spec, source: inner.spec }, positionBaseMs: inner.positionBaseMs };
    }
    default:
      // Sequences and repeats would need every item's length: they start over from the top.
      return { spec, positionBaseMs: 0 };
  }
}

/**
 * How far ahead a resumed programme is put on a frame: a file seeks and prefetches (ffmpeg
 * spawn + -ss), and one that is not ready by then starts late, behind its offset: 500 ms was
 * 180 ms short once on the 2-core machine at load 30, so files get 750 ms (as the timetable's
 * recovery, server/timetable/service.ts RECOVERY_MARGIN_MS); a generator has nothing to
 * prepare (3 frames).
 */
export function resumeMarginMs(spec: SourceSpec): number {
  switch (spec.kind) {
    case 'file':
    case 'sequence':
    case 'repeat':
      return 750;
    case 'gain':
      return resumeMarginMs(spec.source);
    case 'relay':
      return 0;
    default:
      return 60;
  }
}
