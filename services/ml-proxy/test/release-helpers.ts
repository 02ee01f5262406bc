import { cp, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRelease, RELEASE_FILE, type ReleaseFile } from '../src/domain/release.ts';
import { REFERENCE_REPOSITORY } from './helpers.ts';

/**
 * A private model repository with eta-precise's committed versions 1 and 2 (two real, different models,
 * so a shadow comparison and the promotion rule's scoring see real differences) and no release.json.
 */
export async function releaseRepository(versions: readonly string[] = ['1', '2']): Promise<{
  root: string;
  /** Writes `<model>/release.json` the way writers must: a temp file in the folder, then a rename. */
  writeRelease(release: ReleaseFile | string, model?: string): Promise<void>;
  cleanup(): Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'ml-proxy-release-'));
  for (const v of versions) {
    await cp(join(REFERENCE_REPOSITORY, 'eta-precise', v), join(root, 'eta-precise', v), { recursive: true });
  }
  return {
    root,
    async writeRelease(release, model = 'eta-precise') {
      const temp = join(root, model, `.release-${process.pid}.tmp`);
      await writeFile(temp, typeof release === 'string' ? release : formatRelease(release));
      await rename(temp, join(root, model, RELEASE_FILE));
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** v2 published as the candidate of v1, an hour before `now`. */
export function candidateRelease(publishedAt: Date = new Date(Date.now() - 3_600_000)): ReleaseFile {
  return {
    serving: '1',
    candidate: '2',
    history: [
      {
        at: publishedAt.toISOString(),
        by: 'retrain-job',
        action: 'publish',
        version: '2',
        from: '1',
        reason: 'test candidate',
      },
    ],
  };
}
