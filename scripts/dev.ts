/**
 * Local supervisor behind the README's run command: starts every service of the suite as its own process
 * (as in production, one process per Deployment), on embedded defaults, with their JSON logs prefixed by
 * name. It waits for each /readyz, prints where things are, and stops everything on Ctrl-C or when any
 * service dies (so a broken service is never silently missing).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ServiceSpec {
  readonly name: string;
  readonly port: number;
  readonly env: Record<string, string>;
  /** Services that must be ready before this one starts. */
  readonly after: readonly string[];
}

const host = process.env['DEV_HOST'] ?? '127.0.0.1';
const SERVICE_NODE_OPTIONS = '--max-semi-space-size=32';
const ports = {
  'vendor-bff': Number(process.env['VENDOR_BFF_PORT'] ?? 8080),
  geo: Number(process.env['GEO_PORT'] ?? 8081),
  'ml-proxy': Number(process.env['ML_PROXY_PORT'] ?? 8082),
};

const specs: ServiceSpec[] = [
  { name: 'geo', port: ports.geo, env: {}, after: [] },
  { name: 'ml-proxy', port: ports['ml-proxy'], env: {}, after: [] },
  {
    name: 'vendor-bff',
    port: ports['vendor-bff'],
    env: {
      ROLE: 'all',
      GEO_URL: `http://127.0.0.1:${ports.geo}`,
      ML_PROXY_URL: `http://127.0.0.1:${ports['ml-proxy']}`,
      // Local only: trust tokens signed with the committed development key (`pnpm dev:token`), for
      // owners, operators and calling services alike. Production never sets this.
      AUTH_DEV_KEYS: 'true',
    },
    after: ['geo', 'ml-proxy'],
  },
];

const present = specs.filter((s) => existsSync(join(root, 'services', s.name, 'src', 'main.ts')));
const children = new Map<string, ChildProcess>();
let stopping = false;

function start(spec: ServiceSpec): ChildProcess {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: join(root, 'services', spec.name),
    env: {
      ...process.env,
      // As in the images: a larger young generation, far fewer scavenges under load (docs/architecture.md).
      NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? SERVICE_NODE_OPTIONS,
      HOST: host,
      PORT: String(spec.port),
      SHUTDOWN_DELAY_MS: process.env['SHUTDOWN_DELAY_MS'] ?? '0',
      ...spec.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on('line', (line) =>
      process.stdout.write(`${spec.name.padEnd(10)} | ${line}\n`),
    );
  }
  child.on('exit', (code, signal) => {
    children.delete(spec.name);
    if (!stopping) {
      process.stderr.write(`${spec.name} exited (${signal ?? code}); stopping the suite\n`);
      void stopAll(1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
  children.set(spec.name, child);
  return child;
}

async function waitReady(spec: ServiceSpec, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (stopping) return;
    try {
      const res = await fetch(`http://127.0.0.1:${spec.port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${spec.name} was not ready on port ${spec.port} within ${timeoutMs} ms`);
}

async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  if (children.size === 0) process.exit(code);
  for (const child of children.values()) child.kill('SIGTERM');
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code || 1);
  }, 15_000).unref();
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/** The admin role serves the built admin web at /admin/; build it once when it is missing. */
async function buildAdminWebIfMissing(): Promise<void> {
  const dir = join(root, 'services', 'admin-web');
  if (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'dist', 'index.html'))) return;
  process.stdout.write('building the admin web (first run only)...\n');
  await new Promise<void>((resolve, reject) => {
    const build = spawn('pnpm', ['--dir', dir, 'run', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
    build.on('error', reject);
    build.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`admin web build failed (${code})`)),
    );
  });
}

async function main(): Promise<void> {
  if (present.length === 0) {
    process.stderr.write('no services to start yet\n');
    return;
  }
  await buildAdminWebIfMissing();
  const ready = new Map<string, Promise<void>>();
  for (const spec of present) {
    const deps = spec.after.filter((d) => present.some((p) => p.name === d)).map((d) => ready.get(d)!);
    ready.set(
      spec.name,
      Promise.all(deps).then(async () => {
        start(spec);
        await waitReady(spec);
      }),
    );
  }
  await Promise.all(ready.values());
  if (stopping) return;
  const lines = present.map((s) => `  ${s.name.padEnd(11)} http://127.0.0.1:${s.port}`);
  const bff = present.some((s) => s.name === 'vendor-bff');
  const hints = bff
    ? [
        '',
        'Development tokens (signed with the committed dev-only key, accepted only by this local run):',
        '  estimate API:   TOKEN=$(pnpm -s dev:token --service local)',
        '  store owner:    pnpm -s dev:token --store 1,2     (paste it into the admin web)',
        '  operator:       pnpm -s dev:token --operator',
        `  admin web:      http://127.0.0.1:${ports['vendor-bff']}/admin/`,
        '(in a new shell, `source scripts/toolchain.sh` first so pnpm is on PATH)',
      ]
    : [];
  process.stdout.write(
    `\nThe suite is ready (embedded defaults):\n${[...lines, ...hints].join('\n')}\nCtrl-C stops it.\n\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  void stopAll(1);
});
