import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelSource, type VersionArtifacts, type VersionListing } from '../domain/registry.ts';
import { RELEASE_FILE, RELEASE_MAX_BYTES } from '../domain/release.ts';

/**
 * A Triton-style model repository on disk:
 *
 *   <root>/<model>/<version>/model.onnx, metadata.json, golden.json
 *   <root>/<model>/release.json          (optional: serving and candidate versions, domain/release.ts)
 *
 * Versions are folders whose name is a positive integer; anything else (a `.tmp-3` being copied in,
 * README files) is ignored, so publishing by copying to a temp name and renaming is atomic for us.
 */
export const MODEL_FILE = 'model.onnx';
export const METADATA_FILE = 'metadata.json';
export const GOLDEN_FILE = 'golden.json';

const VERSION_DIR = /^[1-9]\d{0,8}$/;

export function createFsModelSource(root: string): ModelSource {
  return {
    async listVersions(model) {
      let entries: string[];
      try {
        entries = await readdir(join(root, model));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const listings: VersionListing[] = [];
      for (const entry of entries) {
        if (!VERSION_DIR.test(entry)) continue;
        const fingerprint = await fingerprintOf(join(root, model, entry));
        if (fingerprint !== undefined) listings.push({ version: entry, fingerprint });
      }
      return listings;
    },
    async readVersion(model, version): Promise<VersionArtifacts> {
      const dir = join(root, model, version);
      const metadata = JSON.parse(await readFile(join(dir, METADATA_FILE), 'utf8')) as unknown;
      let golden: unknown;
      try {
        golden = JSON.parse(await readFile(join(dir, GOLDEN_FILE), 'utf8')) as unknown;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      // Hashed here so a corrupt or half-copied file is refused before ONNX Runtime parses it.
      const modelSha256 = createHash('sha256')
        .update(await readFile(join(dir, MODEL_FILE)))
        .digest('hex');
      return { metadata, golden, modelPath: join(dir, MODEL_FILE), modelSha256 };
    },
    async readRelease(model) {
      const path = join(root, model, RELEASE_FILE);
      try {
        // A runaway file is refused by its size, not read whole on every scan.
        if ((await stat(path)).size > RELEASE_MAX_BYTES) {
          throw new Error(`${RELEASE_FILE} is larger than ${RELEASE_MAX_BYTES} bytes`);
        }
        return await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}

/** undefined while model.onnx is absent: a version folder still being filled is not a version yet. */
async function fingerprintOf(dir: string): Promise<string | undefined> {
  const parts: string[] = [];
  for (const file of [MODEL_FILE, METADATA_FILE, GOLDEN_FILE]) {
    try {
      const s = await stat(join(dir, file));
      parts.push(`${file}:${s.size}:${s.mtimeMs}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (file === MODEL_FILE) return undefined;
      parts.push(`${file}:-`);
    }
  }
  return parts.join('|');
}
