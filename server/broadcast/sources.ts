/**
 * The programme sources users ask for (a media item, a test tone, a siren),
 * turned into engine source specs. Shared by the playback API and the
 * timetable so that "play media X" means the same everywhere.
 */
import { access } from 'node:fs/promises';
import type { SourceSpec } from '../../engine/protocol.js';
import type { LoaConfig } from '../config.js';
import type { Media } from '../db/types.js';
import { mediaFilePath } from '../media/store.js';

export type SirenShape = 'wail' | 'yelp' | 'hilo';

/** Sweep period of each siren shape (the usual civil-defence patterns). */
export const SIREN_PERIOD_MS: Readonly<Record<SirenShape, number>> = { wail: 4000, yelp: 250, hilo: 1000 };
export const SIREN_LOW_HZ = 600;
export const SIREN_HIGH_HZ = 1200;

export function toneSpec(freqHz: number, durationMs?: number): SourceSpec {
  return { kind: 'tone', freqHz, amplitude: 0.5, ...(durationMs !== undefined && { durationMs }) };
}

export function sirenSpec(shape: SirenShape = 'wail', durationMs?: number): SourceSpec {
  return {
    kind: 'siren',
    lowHz: SIREN_LOW_HZ,
    highHz: SIREN_HIGH_HZ,
    periodMs: SIREN_PERIOD_MS[shape],
    shape,
    amplitude: 0.5,
    ...(durationMs !== undefined && { durationMs }),
  };
}

/** The stored file of a media row; undefined when the file is missing from disk. */
export async function mediaFileSpec(config: Pick<LoaConfig, 'dataDir'>, media: Pick<Media, 'sha256'>, startMs?: number): Promise<SourceSpec | undefined> {
  const path = mediaFilePath(config, media.sha256);
  try {
    await access(path);
  } catch {
    return undefined;
  }
  return { kind: 'file', path, ...(startMs !== undefined && startMs > 0 && { startMs }) };
}
