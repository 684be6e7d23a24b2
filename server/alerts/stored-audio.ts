// Audio an alert brought with it (a CAP <resource>: embedded as derefUri, or fetched from its
// uri once, at ingest), kept under the data dir by its SHA-256: every airing of the cadence,
// and a restart, plays the same bytes without fetching again. Before it is kept, ffmpeg must
// decode it: a resource that is not audio is refused at ingest, not discovered at airing time.
import { createHash } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { probeAudio } from '../media/probe.js';

export function storedAudioPath(dataDir: string, sha256: string): string {
  return path.join(dataDir, 'alerts', 'resources', sha256);
}

export interface StoredAudio {
  sha256: string;
  path: string;
  durationMs: number;
}

/** Writes the bytes (atomically, once per content) and checks they decode; throws with ffmpeg's reason. */
export async function storeAlertAudio(dataDir: string, ffmpegPath: string, bytes: Buffer): Promise<StoredAudio> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = storedAudioPath(dataDir, sha256);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, bytes);
  try {
    const probe = await probeAudio(ffmpegPath, tmp, 30_000);
    await rename(tmp, file);
    return { sha256, path: file, durationMs: probe.durationMs };
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
