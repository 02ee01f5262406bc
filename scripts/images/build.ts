/**
 * Builds the suite's container images without a Docker engine or a registry (docs/images.md):
 *
 *   node scripts/images/build.ts [image ...]     (scripts/images/build.sh sources the toolchain first)
 *
 * For each image target of the repository's Dockerfile (dockerfile.ts reads it): the files come from
 * scripts/images/stage.sh, exactly as the Dockerfile's build stages make them; the configuration (ENV,
 * USER, ENTRYPOINT ...) and the layer order come from the Dockerfile's runtime stages; the base layer
 * (base.ts) stands in for the distroless Node 24 image (the `ml` image: the distroless Python 3 image). The result is one OCI image layout holding every
 * image, dist/images/oci (`podman pull oci:dist/images/oci:geo`, `skopeo copy oci:dist/images/oci:geo
 * docker://registry/geo:tag`), and dist/images/images.json, a summary with each image's digests and sizes.
 *
 * Warm runs are quick: a service is staged again only when a file it is built from changed (its inputs'
 * hash), a layer is compressed again only when its tar changed, and the base layer is cached in
 * ~/.cache/eta-suite/images (ETA_IMAGES_CACHE) until a Debian package or Node changes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASES, baseLayer, type BaseLayer, type BaseRecipe } from './base.ts';
import { imageTargets, parseDockerfile, planImage, type ImagePlan } from './dockerfile.ts';
import { MEDIA, OciLayout, tarDirectory, type Descriptor, type Layer } from './oci.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.env['ETA_IMAGES_OUT'] ?? join(root, 'dist', 'images');
const cacheDir =
  process.env['ETA_IMAGES_CACHE'] ??
  join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'eta-suite', 'images');

/** Parts whose files keep their own mtimes: the admin web's assets are served with ETag and Last-Modified
 * made from size and mtime, so a constant mtime could answer 304 to a changed index.html of the same size. */
const KEEP_MTIMES = new Set(['data']);

export interface ImageSummary {
  readonly name: string;
  readonly ref: string;
  readonly manifest: string;
  readonly config: string;
  readonly layers: readonly (Layer & { readonly createdBy: string })[];
  /** What a registry stores and a node pulls: compressed layers, config and manifest. */
  readonly compressedBytes: number;
  /** The unpacked root file system (sum of the layer tars). */
  readonly uncompressedBytes: number;
  readonly imageConfig: ImagePlan['config'];
  /** The recipe id of its base layer (base.ts). */
  readonly base?: string;
}

interface BaseSummary {
  readonly standsInFor: string;
  readonly packages: readonly string[];
  readonly node?: string;
  readonly digest: string;
}

export interface BuildSummary {
  readonly layout: string;
  readonly revision: string;
  readonly created: string;
  /** The Node base, which every Node image starts with. */
  readonly base: BaseSummary;
  /** Every base by recipe id (`base`: Node, `python-base`: the ml image's). */
  readonly bases: Readonly<Record<string, BaseSummary>>;
  readonly images: readonly ImageSummary[];
}

const log = (msg: string) => process.stderr.write(`images: ${msg}\n`);

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', root, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/** The image of ml/ (the retrain job), on the Python base; every other image is a Node service's. */
const PYTHON_IMAGE = 'ml';

/** Files a service's image is made from (besides the lockfile and workspace files every image reads). */
function inputPaths(service: string): string[] {
  const paths = [
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    '.npmrc',
    'scripts/images/stage.sh',
    'packages',
    `services/${service}`,
  ];
  if (service === PYTHON_IMAGE) {
    return ['scripts/images/stage.sh', 'ml/requirements.txt', 'ml/eta_models'];
  }
  if (service === 'ml-proxy') paths.push('ml/models');
  if (service === 'vendor-bff') paths.push('services/admin-web');
  return paths;
}

/** Hash of every file (path, mode, content) a service is staged from; undefined without git. */
function inputsHash(service: string, tools: string): string | undefined {
  const listed = git([
    'ls-files',
    '-z',
    '--cached',
    '--others',
    '--exclude-standard',
    '--',
    ...inputPaths(service),
  ]);
  if (listed === undefined) return undefined;
  const hash = createHash('sha256').update(tools);
  for (const file of [...new Set(listed.split('\0').filter(Boolean))].sort()) {
    const path = join(root, file);
    hash.update(`\0${file}\0`);
    if (!existsSync(path)) {
      hash.update('deleted');
      continue;
    }
    const st = lstatSync(path);
    if (st.isSymbolicLink()) hash.update(`link:${readlinkSync(path)}`);
    else if (st.isFile()) hash.update(`${st.mode & 0o111 ? 'x' : '-'}`).update(readFileSync(path));
  }
  return hash.digest('hex');
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`)),
    );
  });
}

/** Runs stage.sh for a service unless its inputs are unchanged since the last staging. */
async function stage(service: string, tools: string): Promise<string> {
  const dir = join(outDir, 'stage', service);
  const stamp = join(dir, '.inputs');
  const key = inputsHash(service, tools);
  if (key !== undefined && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) {
    log(`${service}: inputs unchanged, staged files reused`);
    return dir;
  }
  const started = Date.now();
  rmSync(stamp, { force: true });
  await run(join(root, 'scripts/images/stage.sh'), [service, dir]);
  if (key !== undefined) writeFileSync(stamp, key);
  log(`${service}: staged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return dir;
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export async function buildImages(requested: readonly string[]): Promise<BuildSummary> {
  const started = Date.now();
  const nodeVersion = readFileSync(join(root, '.node-version'), 'utf8').trim();
  if (process.version !== `v${nodeVersion}`) {
    throw new Error(
      `run with the toolchain's Node ${nodeVersion} (source scripts/toolchain.sh), not ${process.version}`,
    );
  }
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64' | 'arm64'];
  if (!arch) throw new Error(`unsupported architecture ${process.arch}`);
  const pnpmVersion = execFileSync('pnpm', ['--version'], { encoding: 'utf8' }).trim();
  const tools = `node ${process.version} pnpm ${pnpmVersion} ${process.arch}`;

  const df = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  const targets = imageTargets(df);
  const unknown = requested.filter((r) => !targets.includes(r));
  if (unknown.length > 0)
    throw new Error(
      `no image target ${unknown.join(', ')} in the Dockerfile (targets: ${targets.join(', ')})`,
    );
  const wanted = (requested.length > 0 ? requested : targets).filter((name) => {
    if (name === PYTHON_IMAGE || existsSync(join(root, 'services', name, 'package.json'))) return true;
    log(`${name}: no services/${name}/package.json yet; skipped`);
    return false;
  });
  // The base each target's chain starts FROM (its runtime ARG's default) picks the recipe.
  const recipeFor = new Map<string, BaseRecipe>();
  const plans = wanted.map((name) => {
    const probe = planImage(df, name, BASES[0]!.config);
    const recipe = BASES.find((b) => b.standsInFor === probe.base);
    if (!recipe) {
      throw new Error(
        `${name} builds on ${probe.base}; the daemonless bases stand in for ${BASES.map((b) => b.standsInFor).join(' and ')} only (scripts/images/base.ts)`,
      );
    }
    recipeFor.set(name, recipe);
    return planImage(df, name, recipe.config);
  });
  for (const plan of plans) {
    if (plan.layers.some((l) => l.service !== plan.target)) {
      throw new Error(`${plan.target} copies files staged for another service`);
    }
  }
  log(`building ${plans.map((p) => p.target).join(', ')} (Dockerfile targets: ${targets.join(', ')})`);

  mkdirSync(cacheDir, { recursive: true });
  const layout = new OciLayout(join(outDir, 'oci'));
  // The Node base always (the summary names it); the Python one when an image needs it.
  const bases = new Map<string, BaseLayer>();
  for (const recipe of BASES) {
    if (recipe.id !== 'base' && !plans.some((p) => recipeFor.get(p.target) === recipe)) continue;
    const layer = await baseLayer(recipe, cacheDir, process.execPath, process.arch);
    await layout.importLayer(layer.blobFile, layer);
    bases.set(recipe.id, layer);
  }

  const staged = new Map<string, string>();
  for (const plan of plans) staged.set(plan.target, await stage(plan.target, tools));

  const tarDir = join(outDir, 'tmp');
  rmSync(tarDir, { recursive: true, force: true });
  mkdirSync(tarDir, { recursive: true });
  const jobs = plans.flatMap((plan) => plan.layers.map((source, i) => ({ plan, source, i })));
  const layers = await mapLimit(jobs, 2, async ({ plan, source, i }) => {
    const dir = join(staged.get(plan.target) as string, source.part);
    if (!existsSync(dir))
      throw new Error(`${plan.target}: stage.sh made no ${source.part}/ (${source.createdBy})`);
    const file = join(tarDir, `${plan.target}-${i}.tar`);
    const { diffId, size } = await tarDirectory(dir, file, {
      mtime: KEEP_MTIMES.has(source.part) ? undefined : 0,
    });
    const layer = await layout.putLayer(file, diffId, size);
    rmSync(file, { force: true });
    return { target: plan.target, layer: { ...layer, createdBy: source.createdBy } };
  });
  rmSync(tarDir, { recursive: true, force: true });

  const head = git(['rev-parse', 'HEAD']) ?? 'unknown';
  const epoch = Number(git(['log', '-1', '--format=%ct']) ?? Math.floor(Date.now() / 1000));
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const platform = { architecture: arch, os: 'linux' };
  const historyOf = (recipe: BaseRecipe, base: BaseLayer) => ({
    created,
    created_by: `scripts/images/base.ts: ${base.packages.join(' ')}${base.node ? `; Node ${base.node} at /nodejs/bin/node` : ''}`,
    comment: `stands in for ${recipe.standsInFor}`,
  });

  const images: ImageSummary[] = [];
  const descriptors = new Map<string, Descriptor>();
  for (const plan of plans) {
    const recipe = recipeFor.get(plan.target) as BaseRecipe;
    const base = bases.get(recipe.id) as BaseLayer;
    const baseHistory = historyOf(recipe, base);
    const own = [
      { ...base, createdBy: baseHistory.created_by },
      ...layers.filter((l) => l.target === plan.target).map((l) => l.layer),
    ];
    const dirty = git(['status', '--porcelain', '--', ...inputPaths(plan.target)]);
    const revision = dirty ? `${head}-dirty` : head;
    const config = {
      ...plan.config,
      Labels: {
        ...plan.config.Labels,
        'org.opencontainers.image.revision': revision,
        'org.opencontainers.image.created': created,
      },
    };
    const configDesc = layout.putJson(MEDIA.config, {
      created,
      architecture: arch,
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: own.map((l) => l.diffId) },
      history: [
        baseHistory,
        ...plan.history.map((h) => ({
          created,
          created_by: h.createdBy,
          ...(h.emptyLayer ? { empty_layer: true } : {}),
        })),
      ],
    });
    const manifestDesc = layout.putJson(MEDIA.manifest, {
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: configDesc,
      layers: own.map((l) => ({ mediaType: MEDIA.layerGzip, digest: l.digest, size: l.size })),
      annotations: {
        'org.opencontainers.image.title': plan.target,
        'org.opencontainers.image.revision': revision,
      },
    });
    descriptors.set(plan.target, {
      ...manifestDesc,
      platform,
      annotations: { 'org.opencontainers.image.ref.name': plan.target },
    });
    images.push({
      name: plan.target,
      ref: `oci:${join(outDir, 'oci')}:${plan.target}`,
      manifest: manifestDesc.digest,
      config: configDesc.digest,
      layers: own.map(({ digest, size, diffId, uncompressedSize, createdBy }) => ({
        digest,
        size,
        diffId,
        uncompressedSize,
        createdBy,
      })),
      compressedBytes: own.reduce((s, l) => s + l.size, 0) + configDesc.size + manifestDesc.size,
      uncompressedBytes: own.reduce((s, l) => s + l.uncompressedSize, 0),
      imageConfig: config,
      base: recipe.id,
    });
  }

  // A partial build keeps the other images of the previous one.
  const summaryFile = join(outDir, 'images.json');
  const previous = existsSync(summaryFile)
    ? (JSON.parse(readFileSync(summaryFile, 'utf8')) as BuildSummary)
    : undefined;
  const indexFile = join(outDir, 'oci', 'index.json');
  const previousIndex = existsSync(indexFile)
    ? (JSON.parse(readFileSync(indexFile, 'utf8')) as { manifests: Descriptor[] }).manifests
    : [];
  for (const m of previousIndex) {
    const name = m.annotations?.['org.opencontainers.image.ref.name'];
    if (name && !descriptors.has(name) && targets.includes(name) && layout.has(m.digest)) {
      descriptors.set(name, m);
      const old = previous?.images.find((i) => i.name === name);
      if (old) images.push(old);
    }
  }
  const order = (n: string) => targets.indexOf(n);
  layout.writeIndex([...descriptors.entries()].sort((a, b) => order(a[0]) - order(b[0])).map(([, d]) => d));
  images.sort((a, b) => order(a.name) - order(b.name));

  const baseSummary = (id: string): BaseSummary => {
    const layer = bases.get(id) as BaseLayer;
    return {
      standsInFor: BASES.find((b) => b.id === id)?.standsInFor ?? id,
      packages: layer.packages,
      ...(layer.node ? { node: layer.node } : {}),
      digest: layer.digest,
    };
  };
  const summary: BuildSummary = {
    layout: join(outDir, 'oci'),
    revision: head,
    created,
    base: baseSummary('base'),
    bases: {
      ...previous?.bases,
      ...Object.fromEntries([...bases.keys()].map((id) => [id, baseSummary(id)])),
    },
    images,
  };
  writeFileSync(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  log(
    `built ${plans.length} image(s) in ${((Date.now() - started) / 1000).toFixed(1)} s into ${summary.layout}`,
  );
  return summary;
}

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function printSizes(summary: BuildSummary): void {
  const rows = summary.images.map((i) => [
    i.name,
    mb(i.compressedBytes),
    mb(i.uncompressedBytes),
    String(i.layers.length),
    i.manifest.slice(0, 19),
  ]);
  const head = ['image', 'compressed', 'uncompressed', 'layers', 'manifest'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((v, c) => v.padEnd(widths[c] ?? 0)).join('  ');
  process.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
  const seen = new Set<string>();
  for (const image of summary.images) {
    const baseLayer = image.layers[0];
    if (!baseLayer || seen.has(baseLayer.digest)) continue;
    seen.add(baseLayer.digest);
    const sharing = summary.images.filter((i) => i.layers[0]?.digest === baseLayer.digest).map((i) => i.name);
    process.stdout.write(
      `(base layer of ${sharing.join(', ')}: ${mb(baseLayer.size)} compressed, ${mb(baseLayer.uncompressedSize)} unpacked)\n`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const summary = await buildImages(process.argv.slice(2));
    printSizes(summary);
  } catch (err) {
    process.stderr.write(`images: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
