import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { formatRelease, RELEASE_FILE, type ReleaseFile } from '../domain/release.ts';

/** The text of `<root>/<model>/release.json`, undefined when there is none. */
export async function readReleaseText(root: string, model: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, model, RELEASE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** release.json changed between reading it and writing the new one: another writer was at work. */
export class ReleaseChangedError extends Error {}

/**
 * Replaces release.json atomically: a temp file in the same folder, flushed, then renamed over it, so a
 * proxy scanning the repository reads the old file or the new one, never a part. `basedOn` is the text
 * the change was computed from (undefined: there was no file); when the file no longer holds it (the
 * retrain job published meanwhile), nothing is written and ReleaseChangedError is thrown. The check and
 * the rename are not one atomic step: the window is the few milliseconds between them.
 */
export async function writeReleaseAtomically(
  root: string,
  model: string,
  release: ReleaseFile,
  basedOn: string | undefined,
): Promise<void> {
  const dir = join(root, model);
  const temp = join(dir, `.${RELEASE_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(formatRelease(release), 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if ((await readReleaseText(root, model)) !== basedOn) {
      throw new ReleaseChangedError(`${join(dir, RELEASE_FILE)} changed while this command ran`);
    }
    await rename(temp, join(dir, RELEASE_FILE));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The rename itself reaches the disk with the folder's entry.
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}
