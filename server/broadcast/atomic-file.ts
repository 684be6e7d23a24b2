// A small file replaced whole or not at all (the programme ledger, the topology snapshot):
// temp file, fsync, rename, fsync of the directory, so a kill -9 or a power cut leaves the old
// or the new content, never a torn one.
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

export async function writeAtomic(dir: string, name: string, text: string): Promise<void> {
  const tmp = path.join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path.join(dir, name));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
