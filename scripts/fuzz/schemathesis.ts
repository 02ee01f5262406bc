/**
 * Schemathesis against every service's own OpenAPI document, each service a real process started the way
 * the run command starts it (scripts/suite.ts's runCommandEnv, @eta/testing's spawnService) on free ports.
 * schemathesis.sh builds the pinned venv and calls this with the path of its `schemathesis` executable.
 *
 *   node scripts/fuzz/schemathesis.ts --schemathesis <exe> [--services geo,ml-proxy,vendor-bff]
 *        [--max-examples N] [--seed N] [--serve] [-- <more schemathesis run arguments>]
 *
 * For each service: `schemathesis run <origin>/openapi.json --checks all` with the config beside this file
 * (credentials per security scheme, per-operation exclusions each with its reason), a fixed seed and one
 * worker, so a run is reproducible. Exits non-zero when any run fails, a service dies on the way, or a
 * service logs an error while fuzzed (an unexpected failure answered in place, e.g. one item of a Geo
 * batch, is no 5xx for schemathesis to see). The services' logs and schemathesis's reports (JUnit, and an
 * ndjson of every request) go to .run/fuzz/, afresh each run.
 * `--serve` only starts the services and prints their origins and tokens, for reproducing a failure by hand.
 */
import { execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { spawnService, suiteService, type SpawnedService } from '@eta/testing/spawn';
import { freePort } from '@eta/testing/ports';
import { runCommandEnv, SUITE_ORDER, type SuitePorts, type SuiteService } from '../suite.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outDir = join(root, '.run', 'fuzz');

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: {
    schemathesis: { type: 'string' },
    services: { type: 'string', default: SUITE_ORDER.join(',') },
    'max-examples': { type: 'string', default: '100' },
    seed: { type: 'string', default: '12' },
    serve: { type: 'boolean', default: false },
  },
  allowPositionals: true,
  strict: true,
});

const chosen = values.services.split(',').map((s) => s.trim());
for (const s of chosen) {
  if (!(SUITE_ORDER as readonly string[]).includes(s)) {
    process.stderr.write(`fuzz: unknown service ${s} (one of ${SUITE_ORDER.join(', ')})\n`);
    process.exit(2);
  }
}
const targets = SUITE_ORDER.filter((s) => chosen.includes(s));
if (!values.serve && values.schemathesis === undefined) {
  process.stderr.write(
    'fuzz: --schemathesis <executable> is required (scripts/fuzz/schemathesis.sh gives it)\n',
  );
  process.exit(2);
}

/**
 * What the fuzz run sets over the run command's environment, and why. Nothing here changes what a route
 * accepts or answers; it only keeps the fuzzer from measuring something other than the contract.
 */
const FUZZ_ENV: Readonly<Record<SuiteService, Readonly<Record<string, string>>>> = {
  geo: {},
  'ml-proxy': {},
  'vendor-bff': {
    // The admin API's per-subject limit (120/min, burst 30) would answer most of the fuzzer's requests
    // with a (documented) 429 and so test nothing behind it; the limiter has its own tests.
    ADMIN_RATE_LIMIT_PER_MINUTE: '1000000',
    ADMIN_RATE_LIMIT_BURST: '100000',
    // The warm-up (3,000 estimates before listening) only makes the first requests faster.
    WARMUP_ESTIMATES: '0',
  },
};

/** Services whose process has exited: any exit before the end is a failure of the run. */
const exited = new Set<SuiteService>();
/** Each service's log lines at level error or fatal (pino: 50, 60), or any line that is not JSON. */
const errors = new Map<SuiteService, string[]>(SUITE_ORDER.map((s) => [s, []]));
const logFiles: WriteStream[] = [];

function errorLevel(line: string): boolean {
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'number' && level >= 50;
  } catch {
    // Node's own warnings and crashes are plain text on stderr.
    return line.trim() !== '';
  }
}

const log = (text: string) => process.stderr.write(`fuzz: ${text}\n`);

/** A token signed with the committed dev key (the BFF trusts it here because the run sets AUTH_DEV_KEYS). */
async function devToken(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(root, 'services/vendor-bff/src/cli/dev-token.ts'), ...args, '--ttl', '120'],
    { cwd: root },
  );
  return stdout.trim();
}

async function startAll(): Promise<Map<SuiteService, SpawnedService>> {
  // As the run command starts them: the test command's KAFKA_BROKERS (exported for the Kafka tests) would
  // point the BFF at a broker without its topics, and the order-events ingest would answer its documented
  // 503 to every valid call instead of the contract under test. Without it the in-process bus stands in.
  delete process.env['KAFKA_BROKERS'];
  // The BFF needs Geo and the ML proxy whatever is fuzzed; they are cheap to start.
  const needed = new Set<SuiteService>(targets);
  if (needed.has('vendor-bff')) {
    needed.add('geo');
    needed.add('ml-proxy');
  }
  const ports: SuitePorts = {
    geo: await freePort(),
    'ml-proxy': await freePort(),
    'vendor-bff': await freePort(),
  };
  const running = new Map<SuiteService, SpawnedService>();
  const startOne = async (name: SuiteService) => {
    const file = createWriteStream(join(outDir, `${name}.log`), { flags: 'w' });
    logFiles.push(file);
    const service = await spawnService({
      ...suiteService(name),
      port: ports[name],
      env: { ...runCommandEnv(name, ports), ...FUZZ_ENV[name] },
      onLine: (line) => {
        file.write(`${line}\n`);
        if (errorLevel(line)) errors.get(name)!.push(line);
      },
      readyTimeoutMs: 180_000,
    });
    void service.exited.then(() => exited.add(name));
    running.set(name, service);
  };
  const leaves = SUITE_ORDER.filter((s) => needed.has(s) && s !== 'vendor-bff');
  await Promise.all(leaves.map(startOne));
  if (needed.has('vendor-bff')) await startOne('vendor-bff');
  return running;
}

function runSchemathesis(exe: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    // Run from .run/fuzz (gitignored): Hypothesis keeps its working files in the current directory.
    const child = spawn(exe, args, { cwd: outDir, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

async function main(): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  log(`starting ${targets.join(', ')} (logs in ${relative(process.cwd(), outDir)}/)`);
  const running = await startAll();
  const stopAll = async () => Promise.all([...running.values()].map((s) => s.stop()));
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  const tokens = {
    FUZZ_SERVICE_TOKEN: await devToken('--service', 'schemathesis'),
    FUZZ_OWNER_TOKEN: await devToken('--operator', '--sub', 'schemathesis-operator'),
  };
  log(`services ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  if (values.serve) {
    for (const [name, s] of running) process.stdout.write(`${name.padEnd(11)} ${s.origin}/openapi.json\n`);
    for (const [k, v] of Object.entries(tokens)) process.stdout.write(`${k}=${v}\n`);
    process.stdout.write('Ctrl-C stops them.\n');
    await new Promise(() => undefined);
  }

  const failed: string[] = [];
  for (const name of targets) {
    const service = running.get(name)!;
    const t0 = Date.now();
    rmSync(join(outDir, name), { recursive: true, force: true });
    const errorsBefore = new Map([...errors].map(([s, lines]) => [s, lines.length]));
    log(`--- ${name}: schemathesis run ${service.origin}/openapi.json`);
    const code = await runSchemathesis(
      values.schemathesis!,
      [
        '--config-file',
        join(here, 'schemathesis.toml'),
        'run',
        `${service.origin}/openapi.json`,
        '--checks',
        'all',
        '--max-examples',
        values['max-examples'],
        '--seed',
        values.seed,
        '--workers',
        '1',
        '--generation-database',
        'none',
        '--request-timeout',
        '30',
        '--no-color',
        '--report',
        'junit,ndjson',
        '--report-dir',
        join(outDir, name),
        ...positionals,
      ],
      {
        ...process.env,
        ...tokens,
        // fuzz_hooks.py, beside this file.
        SCHEMATHESIS_HOOKS: 'fuzz_hooks',
        PYTHONPATH: here,
        PYTHONDONTWRITEBYTECODE: '1',
      },
    );
    if (exited.size > 0) {
      const dead = [...exited];
      log(`${dead.join(', ')} exited during the run of ${name} (see ${relative(process.cwd(), outDir)}/)`);
      failed.push(`${name} (a service died)`);
      break;
    }
    log(`--- ${name}: exit ${code} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (code !== 0) failed.push(name);
    for (const [other, lines] of errors) {
      const fresh = lines.slice(errorsBefore.get(other));
      if (fresh.length === 0) continue;
      log(`${other} logged ${fresh.length} error line(s) while ${name} was fuzzed; the first:`);
      for (const line of fresh.slice(0, 3)) process.stderr.write(`  ${line.slice(0, 2000)}\n`);
      failed.push(`${name} (${other} logged errors)`);
    }
  }

  const statuses = await stopAll();
  if (statuses.some((s) => s.killed)) failed.push('a service ignored SIGTERM');
  await Promise.all(logFiles.map((f) => new Promise<void>((resolve) => f.end(() => resolve()))));
  log(
    `${failed.length === 0 ? 'passed' : `FAILED: ${failed.join(', ')}`} ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s in all)`,
  );
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
