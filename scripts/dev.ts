/**
 * Local supervisor behind the README's run command: starts every service of the suite as its own process
 * (as in production, one process per Deployment), on embedded defaults. It waits for each /readyz, prints
 * where things are, and stops everything on Ctrl-C or when any service dies (so a broken service is never
 * silently missing).
 *
 * Each service's output goes whole to `.run/logs/<service>.log`, and to the terminal, prefixed by name, as
 * far as the terminal keeps up (suite.ts's LogRelay): the supervisor must never wait on its own stdout,
 * because while it waits it stops reading the services' pipes, and then the services block on logging and
 * shed load. Lines the terminal could not take are counted and said, never queued without bound.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnService, suiteService, type SpawnedService } from '@eta/testing/spawn';
import {
  createLogRelay,
  runCommandEnv,
  SUITE_AFTER,
  SUITE_LOG_DIR,
  SUITE_ORDER,
  type SuitePorts,
  type SuiteService,
} from './suite.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const host = process.env['DEV_HOST'] ?? '127.0.0.1';
const ports: SuitePorts = {
  'vendor-bff': Number(process.env['VENDOR_BFF_PORT'] ?? 8080),
  geo: Number(process.env['GEO_PORT'] ?? 8081),
  'ml-proxy': Number(process.env['ML_PROXY_PORT'] ?? 8082),
};

const present = SUITE_ORDER.filter((name) => existsSync(join(root, 'services', name, 'src', 'main.ts')));
const relay = createLogRelay({ dir: join(root, SUITE_LOG_DIR), services: present });
const running = new Map<SuiteService, SpawnedService>();
const starting = new Set<Promise<unknown>>();
/** Aborted once the suite stops: services still starting are stopped by spawnService itself. */
const stopping = new AbortController();

async function start(name: SuiteService): Promise<void> {
  const service = await spawnService({
    ...suiteService(name),
    host,
    port: ports[name],
    env: {
      ...runCommandEnv(name, ports),
      ...(process.env['SHUTDOWN_DELAY_MS'] ? { SHUTDOWN_DELAY_MS: process.env['SHUTDOWN_DELAY_MS'] } : {}),
    },
    onLine: (line) => relay.line(name, line),
    // Ctrl-C reaches only this supervisor, which stops each service with one SIGTERM (stopAll): a service
    // that also got the terminal's SIGINT would take the SIGTERM as a second signal and exit undrained.
    ownProcessGroup: true,
    readyTimeoutMs: 60_000,
    signal: stopping.signal,
  });
  running.set(name, service);
  void service.exited.then((status) => {
    running.delete(name);
    if (stopping.signal.aborted) return;
    process.stderr.write(`${name} exited (${status.signal ?? status.code}); stopping the suite\n`);
    void stopAll(1);
  });
}

/** SIGTERM to every service (SIGKILL to any still there after 15 s), then exit with `code`. */
async function stopAll(code: number): Promise<void> {
  if (stopping.signal.aborted) return;
  stopping.abort();
  await Promise.allSettled(starting);
  const statuses = await Promise.all([...running.values()].map((s) => s.stop()));
  // Their last lines (the drain, the exit) belong in the log files too.
  await relay.close();
  process.exit(statuses.some((s) => s.killed) ? code || 1 : code);
}

/**
 * The first signal stops the suite (each service drains); a second one, while they drain, is passed on
 * to them, and the service kit takes a second signal as "exit now without draining" (Ctrl-C twice).
 */
function onSignal(): void {
  if (!stopping.signal.aborted) {
    void stopAll(0);
    return;
  }
  for (const service of running.values()) {
    try {
      process.kill(service.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// The services run in process groups of their own (ownProcessGroup), so a closed terminal's SIGHUP
// reaches only this process; without a handler it would die at once and leave them running.
process.on('SIGHUP', onSignal);

/** The admin role serves the built admin web at /admin/; build it once when it is missing. */
async function buildAdminWebIfMissing(): Promise<void> {
  const dir = join(root, 'services', 'admin-web');
  if (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'dist', 'index.html'))) return;
  relay.say('building the admin web (first run only)...\n');
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
  relay.say(
    `Logs: ${present.map((name) => relative(process.cwd(), relay.file(name))).join(', ')}` +
      ' (the terminal shows what it can keep up with)\n',
  );
  const ready = new Map<SuiteService, Promise<void>>();
  for (const name of present) {
    const deps = SUITE_AFTER[name].filter((d) => present.includes(d)).map((d) => ready.get(d)!);
    const started = Promise.all(deps).then(() => start(name));
    starting.add(started);
    ready.set(name, started);
  }
  await Promise.all(ready.values());
  if (stopping.signal.aborted) return;
  const lines = present.map((name) => `  ${name.padEnd(11)} http://127.0.0.1:${ports[name]}`);
  const bff = present.includes('vendor-bff');
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
  const logs = `  logs:           ${relative(process.cwd(), join(root, SUITE_LOG_DIR))}/<service>.log`;
  relay.say(
    `\nThe suite is ready (embedded defaults):\n${[...lines, ...hints, logs].join('\n')}\nCtrl-C stops it.\n\n`,
  );
}

main().catch((err: unknown) => {
  // A service's own lines are already printed above: its first line says which one failed, and why.
  if (!stopping.signal.aborted) {
    process.stderr.write(`${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  }
  void stopAll(1);
});
