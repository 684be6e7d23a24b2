// Media files on disk, by content: <dataDir>/media/<first two hex>/<sha256>. Uploads are
// streamed to <dataDir>/tmp while hashed, then moved into place. One file serves every row
// (in any zone) with the same content; it is removed when the last row goes.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type { LoaConfig } from '../config.js';
import type { Database } from '../db/types.js';
import { randomBase32 } from '../ids.js';

export function mediaFilePath(config: Pick<LoaConfig, 'dataDir'>, sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  return path.join(config.dataDir, 'media', sha256.slice(0, 2), sha256);
}

export function tempDir(config: Pick<LoaConfig, 'dataDir'>): string {
  return path.join(config.dataDir, 'tmp');
}

export interface SpooledFile {
  path: string;
  sha256: string;
  size: number;
}

/** Writes a stream to a new temp file while hashing it; removes the file if the stream fails. */
export async function spoolToTemp(config: Pick<LoaConfig, 'dataDir'>, source: Readable): Promise<SpooledFile> {
  const dir = tempDir(config);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `upload-${randomBase32()}`);
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(source, tap, createWriteStream(file));
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return { path: file, sha256: hash.digest('hex'), size };
}

// Uploads and deletions of one content hash are serialised, so that a delete does not
// unlink a file an upload has just placed for its new row.
const locks = new Map<string, Promise<unknown>>();
export async function withHashLock<T>(sha256: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(sha256) ?? Promise.resolve();
  const current = previous.catch(() => {}).then(fn);
  locks.set(sha256, current);
  try {
    return await current;
  } finally {
    if (locks.get(sha256) === current) locks.delete(sha256);
  }
}

/** Moves a verified temp file into the store (or drops it if the content is already there). */
export async function commitToStore(config: Pick<LoaConfig, 'dataDir'>, spooled: SpooledFile): Promise<string> {
  const target = mediaFilePath(config, spooled.sha256);
  mkdirSync(path.dirname(target), { recursive: true });
  const exists = await stat(target).then(() => true, () => false);
  if (exists) await rm(spooled.path, { force: true });
  else await rename(spooled.path, target);
  return target;
}

/** Removes the stored files of these hashes that no media row references any more. */
export async function removeUnreferencedFiles(database: Database, config: Pick<LoaConfig, 'dataDir'>, hashes: readonly string[]): Promise<void> {
  for (const sha256 of hashes) {
    await withHashLock(sha256, async () => {
      const still = await database.db.selectFrom('media').select('id').where('sha256', '=', sha256).limit(1).executeTakeFirst();
      if (!still) await rm(mediaFilePath(config, sha256), { force: true });
    });
  }
}
