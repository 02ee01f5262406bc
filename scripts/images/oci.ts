/**
 * An OCI image layout on disk (https://github.com/opencontainers/image-spec/blob/main/image-layout.md):
 * `oci-layout`, `index.json` and content-addressed `blobs/sha256/<hex>`, which podman, skopeo, crane,
 * buildah and registries read as is. Layers are reproducible tars (GNU tar: sorted, numeric root owner,
 * no atime/ctime), gzip-compressed; a layer whose tar is unchanged reuses its compressed blob.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

/** A layer as both the manifest (compressed blob) and the config (diff_id of the tar) name it. */
export interface Layer {
  readonly digest: string;
  readonly size: number;
  readonly diffId: string;
  readonly uncompressedSize: number;
}

/** Counts and hashes what passes through. */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export interface TarOptions {
  /** Every entry's mtime (seconds since the epoch); the files' own when absent. */
  readonly mtime?: number | undefined;
  /** Owner and group of every entry; root when absent. */
  readonly owner?: number;
}

/**
 * `tar` of the entries of `dir` (its top-level names, so member names carry no `./`), reproducibly:
 * the same files give the same bytes, whichever machine or run made them.
 */
export async function tarDirectory(
  dir: string,
  file: string,
  opts: TarOptions = {},
): Promise<{ diffId: string; size: number }> {
  const entries = readdirSync(dir).sort();
  if (entries.length === 0) throw new Error(`nothing to put in a layer: ${dir} is empty`);
  const owner = String(opts.owner ?? 0);
  const args = [
    '--create',
    '--file=-',
    '--sort=name',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '--numeric-owner',
    `--owner=${owner}`,
    `--group=${owner}`,
    ...(opts.mtime === undefined ? [] : [`--mtime=@${opts.mtime}`]),
    '-C',
    dir,
    '--',
    ...entries,
  ];
  const tar = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const meter = new Meter();
  const exited = once(tar, 'close') as Promise<[number | null]>;
  await pipeline(tar.stdout, meter, createWriteStream(file));
  const [code] = await exited;
  if (code !== 0) throw new Error(`tar of ${dir} failed (${code}): ${stderr.trim()}`);
  return { diffId: `sha256:${meter.hash.digest('hex')}`, size: meter.bytes };
}

export class OciLayout {
  readonly dir: string;
  readonly blobs: string;
  /** diff_id -> compressed blob, remembered between runs so an unchanged layer is never compressed again. */
  private readonly known: Record<string, { digest: string; size: number }>;
  private readonly knownFile: string;

  constructor(dir: string) {
    this.dir = dir;
    this.blobs = join(dir, 'blobs', 'sha256');
    mkdirSync(this.blobs, { recursive: true });
    writeFileSync(join(dir, 'oci-layout'), `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}\n`);
    this.knownFile = join(dir, '..', 'layers.json');
    this.known = existsSync(this.knownFile)
      ? (JSON.parse(readFileSync(this.knownFile, 'utf8')) as typeof this.known)
      : {};
  }

  blobPath(digest: string): string {
    return join(this.blobs, digest.replace(/^sha256:/, ''));
  }

  has(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /** Stores bytes as a blob and returns its descriptor. */
  putJson(mediaType: string, value: unknown): Descriptor {
    const bytes = Buffer.from(JSON.stringify(value));
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    writeFileSync(this.blobPath(digest), bytes);
    return { mediaType, digest, size: bytes.length };
  }

  /** The compressed blob of an uncompressed layer tar, made once per diff_id. */
  async putLayer(tarFile: string, diffId: string, uncompressedSize: number): Promise<Layer> {
    const seen = this.known[diffId];
    if (seen && this.has(seen.digest) && statSync(this.blobPath(seen.digest)).size === seen.size) {
      return { ...seen, diffId, uncompressedSize };
    }
    const tmp = join(this.blobs, `.tmp-${process.pid}-${diffId.slice(7, 19)}`);
    const meter = new Meter();
    // Level 6 (gzip's default): within a few per cent of 9 on these layers, at half the time.
    await pipeline(createReadStream(tarFile), createGzip({ level: 6 }), meter, createWriteStream(tmp));
    const digest = `sha256:${meter.hash.digest('hex')}`;
    renameSync(tmp, this.blobPath(digest));
    this.known[diffId] = { digest, size: meter.bytes };
    return { digest, size: meter.bytes, diffId, uncompressedSize };
  }

  /** A layer blob made elsewhere (the cached base layer). */
  async importLayer(blobFile: string, layer: Layer): Promise<Layer> {
    if (!this.has(layer.digest)) {
      const tmp = join(this.blobs, `.tmp-${process.pid}-import`);
      await pipeline(createReadStream(blobFile), createWriteStream(tmp));
      renameSync(tmp, this.blobPath(layer.digest));
    }
    this.known[layer.diffId] = { digest: layer.digest, size: layer.size };
    return layer;
  }

  /** Writes index.json with these manifests, forgets layers no manifest uses, and deletes unused blobs. */
  writeIndex(manifests: Descriptor[]): void {
    const index = { schemaVersion: 2, mediaType: MEDIA.index, manifests };
    writeFileSync(join(this.dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
    const used = new Set<string>();
    for (const m of manifests) {
      used.add(m.digest);
      const manifest = JSON.parse(readFileSync(this.blobPath(m.digest), 'utf8')) as {
        config: Descriptor;
        layers: Descriptor[];
      };
      used.add(manifest.config.digest);
      for (const l of manifest.layers) used.add(l.digest);
    }
    for (const name of readdirSync(this.blobs)) {
      if (!used.has(`sha256:${name}`)) rmSync(join(this.blobs, name), { force: true });
    }
    for (const [diffId, blob] of Object.entries(this.known)) {
      if (!used.has(blob.digest)) delete this.known[diffId];
    }
    writeFileSync(this.knownFile, `${JSON.stringify(this.known, null, 2)}\n`);
  }
}
