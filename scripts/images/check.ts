/**
 * Runs every image built by scripts/images/build.ts as a container and checks it (docs/images.md):
 *
 *   node scripts/images/check.ts [--keep]        (scripts/images/check.sh builds first, then runs this)
 *
 * podman loads each image from the OCI layout (so the layout, digests and config are what a container
 * engine accepts) into a private store under ~/.cache/eta-suite/podman, and runs it the way the chart does:
 * read-only root file system, the image's own non-root user, an empty /tmp, host network on 127.0.0.1 with a
 * free port given through the image's PORT. Geo and the ML proxy start first; the BFF then runs against
 * them in each role; the prescaler runs `--help`; the ml image runs the retrain job itself on a replay of
 * served rows in Postgres and must publish a new model version. For each server: ready (GET /readyz 200), running as a
 * non-root uid, unable to write its root file system, answering a real request through its dependencies,
 * and draining to exit code 0 on SIGTERM. Prints each image's size and cold start (`podman run` to the
 * first /readyz 200, and the Node process's own start to it); exits 1 on any failure.
 *
 * The OCI runtime is runc: Debian 12's crun (1.8) refuses this machine's hybrid cgroup v1/v2 layout.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '@eta/testing/ports';
import type { BuildSummary, ImageSummary } from './build.ts';

const execFileP = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = process.env['ETA_IMAGES_OUT'] ?? join(root, 'dist', 'images');
const cacheHome = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
const keep = process.argv.includes('--keep');
const READY_TIMEOUT_MS = 90_000;
/** The names this run gives containers, so a cleanup can never touch anyone else's. */
const prefix = `eta-images-${process.pid}`;

const PODMAN = [
  '--root',
  process.env['ETA_PODMAN_ROOT'] ?? join(cacheHome, 'eta-suite', 'podman', 'storage'),
  '--runroot',
  '/run/eta-suite-podman',
  '--runtime',
  'runc',
  '--cgroup-manager',
  'cgroupfs',
  '--events-backend',
  'file',
];

async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  try {
    const { stdout } = await execFileP('podman', [...PODMAN, ...args], {
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
    });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`podman ${args.slice(0, 3).join(' ')}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Limits set explicitly: podman's defaults are above this machine's hard limits, which root here cannot
 * raise (no CAP_SYS_RESOURCE), and the OCI runtime would refuse to start the container. */
async function ulimits(): Promise<string[]> {
  const { stdout } = await execFileP('sh', ['-c', 'ulimit -Hn']);
  const nofile = Math.min(Number(stdout.trim()) || 1024, 65_536);
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=16384:16384'];
}

/** `podman run` of a container that runs to its exit: removed after, host network, read-only root. */
async function runToExit(): Promise<string[]> {
  return ['run', '--rm', '--network', 'host', '--read-only', ...(await ulimits())];
}

interface Result {
  readonly name: string;
  readonly image: string;
  runToReadyMs?: number;
  processToReadyMs?: number;
  readonly checks: string[];
  error?: string;
}

const results: Result[] = [];
const started = new Set<string>();
const log = (msg: string) => process.stderr.write(`check: ${msg}\n`);

function fail(message: string): never {
  throw new Error(message);
}

async function http(
  port: number,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {},
): Promise<{ status: number; text: string; type: string }> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(5_000),
    });
    const answer = {
      status: res.status,
      text: await res.text(),
      type: res.headers.get('content-type') ?? '',
    };
    // Load shedding right after start on a busy machine (event-loop delay from the warm-up): a caller
    // retries after Retry-After, and so does this check, a few times.
    if (res.status !== 503 || !answer.text.includes('"OVERLOADED"') || attempt >= 5) return answer;
    await sleep(Math.min(Number(res.headers.get('retry-after') ?? '1') * 1000 || 1000, 2_000));
  }
}

interface Running {
  readonly container: string;
  readonly port: number;
}

/** `podman run -d` of an image as the chart runs it; resolves once /readyz answers 200. */
async function startServer(
  result: Result,
  image: ImageSummary,
  env: Record<string, string>,
): Promise<Running> {
  const port = await freePort();
  const container = `${prefix}-${result.name.replace(/[^a-zA-Z0-9_.-]+/g, '-').toLowerCase()}`;
  const envArgs = Object.entries({ PORT: String(port), SHUTDOWN_DELAY_MS: '0', ...env }).flatMap(([k, v]) => [
    '--env',
    `${k}=${v}`,
  ]);
  const limits = await ulimits();
  const t0 = performance.now();
  started.add(container);
  await podman([
    'run',
    '-d',
    '--name',
    container,
    '--network',
    'host',
    '--read-only',
    ...limits,
    ...envArgs,
    tagOf(image),
  ]);
  const deadline = t0 + READY_TIMEOUT_MS;
  let polls = 0;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) {
        const readyAt = Date.now();
        result.runToReadyMs = performance.now() - t0;
        const startedAt = Date.parse(
          await podman([
            'inspect',
            '--format',
            '{{.State.StartedAt.Format "2006-01-02T15:04:05.000Z07:00"}}',
            container,
          ]),
        );
        if (Number.isFinite(startedAt)) result.processToReadyMs = readyAt - startedAt;
        return { container, port };
      }
    } catch {
      // Not listening yet.
    }
    if (++polls % 40 === 0) {
      const state = await podman(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', container]);
      if (!state.startsWith('running')) fail(`exited before ready (${state}):\n${await logsOf(container)}`);
    }
    await sleep(25);
  }
  fail(`not ready after ${READY_TIMEOUT_MS / 1000} s:\n${await logsOf(container)}`);
}

async function logsOf(container: string): Promise<string> {
  try {
    return (await podman(['logs', '--tail', '30', container]))
      .split('\n')
      .map((l) => `    ${l.slice(0, 400)}`)
      .join('\n');
  } catch (err) {
    return `    (no logs: ${(err as Error).message})`;
  }
}

/** The process runs as the image's non-root user and cannot write its root file system, only /tmp. */
async function checkConfinement(result: Result, container: string): Promise<void> {
  const pid = await podman(['inspect', '--format', '{{.State.Pid}}', container]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!uid || uid[1] === '0' || uid[2] === '0') fail(`runs as uid ${uid?.[1]}`);
  const readOnly = await podman(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', container]);
  if (readOnly !== 'true') fail('the root file system is not read-only');
  const probe = await podman([
    'exec',
    container,
    '/nodejs/bin/node',
    '-e',
    `const fs = require('node:fs'); const out = [];
     for (const p of ['/app/probe', '/probe', '/tmp/probe']) {
       try { fs.writeFileSync(p, ''); fs.rmSync(p); out.push(p + ':ok'); } catch (e) { out.push(p + ':' + e.code); }
     }
     console.log(out.join(' '));`,
  ]);
  if (probe !== '/app/probe:EROFS /probe:EROFS /tmp/probe:ok') fail(`file system writes: ${probe}`);
  result.checks.push(`uid ${uid[1]}`, 'read-only root (EROFS), /tmp writable');
}

/** SIGTERM (the image's STOPSIGNAL) and the drain must end the process with 0 well within the grace period. */
async function stopGracefully(result: Result, container: string): Promise<void> {
  await podman(['stop', '--time', '20', container], 60_000);
  const code = await podman(['inspect', '--format', '{{.State.ExitCode}}', container]);
  await podman(['rm', '--force', container]);
  started.delete(container);
  if (code !== '0') fail(`exit code ${code} after SIGTERM`);
  result.checks.push('SIGTERM: exit 0');
}

function tagOf(image: ImageSummary): string {
  return `localhost/eta-suite/${image.name}:${image.config.slice(7, 19)}`;
}

/** podman reads the image from the OCI layout; its image id must be the config digest we wrote. */
async function load(image: ImageSummary): Promise<void> {
  const existing = await podman([
    'images',
    '--noheading',
    '--format',
    '{{.Id}}',
    '--filter',
    `reference=${tagOf(image)}`,
  ]);
  const id = image.config.slice(7);
  if (existing.startsWith(id.slice(0, 12))) return;
  const pulled = (await podman(['pull', '--quiet', image.ref], 300_000)).split('\n').at(-1) ?? '';
  if (!pulled.startsWith(id.slice(0, 12))) fail(`podman loaded image ${pulled}, expected ${id}`);
  await podman(['tag', id, tagOf(image)]);
  // The pull names the image after the layout's path; only our tag stays.
  const names = await podman(['image', 'inspect', '--format', '{{join .RepoTags " "}}', id]);
  for (const n of names.split(' '))
    if (n && n !== tagOf(image)) await podman(['untag', id, n]).catch(() => undefined);
}

/** A JWT signed with a key made for this run (ROLE=admin needs a token issuer, never the dev key). */
function jwt(key: KeyObject, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

/** Runs one check of an image; an image whose service does not exist (yet) is skipped, not failed. */
async function check(
  name: string,
  image: ImageSummary | string,
  fn: (r: Result, image: ImageSummary) => Promise<void>,
): Promise<void> {
  if (typeof image === 'string') {
    if (image !== 'ml' && !existsSync(join(root, 'services', image, 'package.json'))) {
      log(`${name}: no services/${image} yet; skipped`);
      return;
    }
    results.push({ name, image, checks: [], error: 'not built: no such image in dist/images/images.json' });
    return;
  }
  const result: Result = { name, image: image.name, checks: [] };
  results.push(result);
  const t0 = performance.now();
  try {
    await fn(result, image);
    log(`${name}: ok in ${((performance.now() - t0) / 1000).toFixed(1)} s (${result.checks.join('; ')})`);
  } catch (err) {
    result.error = (err as Error).message;
    log(`${name}: FAILED: ${result.error}`);
  }
}

async function main(): Promise<number> {
  const t0 = performance.now();
  const summary = JSON.parse(readFileSync(join(outDir, 'images.json'), 'utf8')) as BuildSummary;
  const image = (n: string) => summary.images.find((i) => i.name === n) ?? n;
  log(`podman ${(await podman(['--version'])).replace(/^podman version /, '')}, runc; store ${PODMAN[1]}`);
  for (const i of summary.images) {
    const t = performance.now();
    await load(i);
    log(`${i.name}: loaded by podman as ${tagOf(i)} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }

  let geo: Running | undefined;
  let ml: Running | undefined;
  await check('geo', image('geo'), async (r, img) => {
    geo = await startServer(r, img, {});
    await checkConfinement(r, geo.container);
    const res = await http(geo.port, '/v1/regions/lookup?lat=37.5663&lng=126.9779');
    if (res.status !== 200 || !res.text.includes('"inServiceArea":true'))
      fail(`lookup: ${res.status} ${res.text.slice(0, 200)}`);
    r.checks.push('geodata: City Hall is in Seoul');
  });
  await check('ml-proxy', image('ml-proxy'), async (r, img) => {
    ml = await startServer(r, img, {});
    await checkConfinement(r, ml.container);
    for (const model of ['eta-precise', 'eta-rough']) {
      const res = await http(ml.port, `/v2/models/${model}/ready`);
      if (res.status !== 200) fail(`${model} not ready: ${res.status} ${res.text.slice(0, 200)}`);
    }
    r.checks.push('models ready: eta-precise, eta-rough');
  });

  const serviceToken = randomBytes(24).toString('base64url');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = 'urn:eta:images-check';
  const bffEnv = (role: string): Record<string, string> => ({
    ROLE: role,
    GEO_URL: `http://127.0.0.1:${geo?.port ?? 9}`,
    ML_PROXY_URL: `http://127.0.0.1:${ml?.port ?? 9}`,
    SERVICE_TOKENS: `images-check:${serviceToken}`,
    AUTH_ISSUER: issuer,
    AUTH_AUDIENCE: issuer,
    AUTH_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  });
  const precise = async (port: number) => {
    const res = await http(port, '/v1/estimates/precise', {
      method: 'POST',
      token: serviceToken,
      body: { storeId: 42, destination: { lat: 37.5572, lng: 126.9245 } },
    });
    if (
      res.status !== 200 ||
      !res.text.includes('"source":"model"') ||
      !res.text.includes('"degraded":false')
    ) {
      fail(`precise estimate: ${res.status} ${res.text.slice(0, 300)}`);
    }
  };
  const rough = async (port: number) => {
    const res = await http(port, '/v1/estimates/rough', {
      method: 'POST',
      token: serviceToken,
      body: { destination: { lat: 37.5572, lng: 126.9245 }, storeIds: [1, 2, 3] },
    });
    if (res.status !== 200 || !res.text.includes('"estimates"'))
      fail(`rough estimate: ${res.status} ${res.text.slice(0, 300)}`);
  };
  const adminWeb = async (port: number) => {
    const page = await http(port, '/admin/');
    if (page.status !== 200 || !page.type.startsWith('text/html') || !page.text.includes('id="root"')) {
      fail(`/admin/: ${page.status} ${page.type} ${page.text.slice(0, 200)}`);
    }
    const asset = /\/admin\/assets\/[^"]+\.js/.exec(page.text)?.[0] ?? fail('/admin/ names no script');
    const js = await http(port, asset);
    if (js.status !== 200) fail(`${asset}: ${js.status}`);
    const now = Math.floor(Date.now() / 1000);
    const token = jwt(privateKey, {
      iss: issuer,
      aud: issuer,
      sub: 'images-check',
      role: 'operator',
      iat: now,
      exp: now + 300,
    });
    const me = await http(port, '/v1/me', { token });
    if (me.status !== 200) fail(`/v1/me: ${me.status} ${me.text.slice(0, 200)}`);
  };
  // The prediction log's Kafka producer runs on a worker thread started from a file of @eta/events: that the
  // image has it and the thread runs there is seen from the thread's own log line (the broker the test
  // command starts; the topic need not exist for the producer to connect).
  const kafka = process.env['KAFKA_BROKERS'];
  const producerThread = async (r: Result, container: string) => {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const logs = await podman(['logs', container]);
      const line = logs
        .split('\n')
        .find((l) => l.includes('"thread":"kafka-producer"') && l.includes('Kafka producer connected'));
      if (line !== undefined) break;
      if (performance.now() > deadline)
        fail(`no producer thread connected to ${kafka}:\n${await logsOf(container)}`);
      await sleep(200);
    }
    r.checks.push(`prediction log: Kafka producer thread connected to ${kafka}`);
  };
  const bff = (
    role: string,
    requests: ((port: number) => Promise<void>)[],
    what: string,
    extra: { env?: Record<string, string>; after?: (r: Result, container: string) => Promise<void> } = {},
  ) =>
    check(`vendor-bff ROLE=${role}`, image('vendor-bff'), async (r, img) => {
      if (!geo || !ml) fail('needs the geo and ml-proxy containers');
      const s = await startServer(r, img, { ...bffEnv(role), ...extra.env });
      if (role === 'all') await checkConfinement(r, s.container);
      for (const request of requests) await request(s.port);
      r.checks.push(what);
      await extra.after?.(r, s.container);
      await stopGracefully(r, s.container);
    });
  await bff(
    'all',
    [precise, rough, adminWeb],
    'precise and rough estimates from the model, admin web and API',
  );
  await bff(
    'precise',
    [precise],
    'precise estimate from the model',
    kafka === undefined
      ? {}
      : {
          env: {
            KAFKA_BROKERS: kafka,
            KAFKA_TOPIC_PREFIX: `images-check-${randomBytes(4).toString('hex')}.`,
          },
          after: producerThread,
        },
  );
  await bff('rough', [rough], 'rough estimates');
  await bff('admin', [adminWeb], 'admin web (index and assets) and /v1/me');

  for (const [name, running] of [
    ['geo', geo],
    ['ml-proxy', ml],
  ] as const) {
    const result = results.find((x) => x.name === name);
    if (!running || !result || result.error) continue;
    try {
      await stopGracefully(result, running.container);
    } catch (err) {
      result.error = (err as Error).message;
    }
  }

  await check('prescaler', image('prescaler'), async (r, img) => {
    const t = performance.now();
    const out = await podman([...(await runToExit()), tagOf(img), '--help']);
    r.runToReadyMs = performance.now() - t;
    if (!out.includes('usage: prescaler')) fail(`--help printed ${out.slice(0, 200)}`);
    // As the suite chart's CronJob runs it: its own command, `node` found on the image's PATH.
    const asChart = await podman([
      ...(await runToExit()),
      '--entrypoint',
      'node',
      tagOf(img),
      'src/main.ts',
      '--help',
    ]);
    if (!asChart.includes('usage: prescaler'))
      fail(`node src/main.ts --help printed ${asChart.slice(0, 200)}`);
    r.checks.push('--help: exit 0 with the usage, as the image runs it and as `node src/main.ts`');
  });

  // The retrain job's image, as the ML proxy chart's CronJob runs it (its flags, RETRAIN_SOURCE, the model
  // repository and the reference file mounted, HOME=/tmp): on the fixed replay of ml/tests' publish case
  // (real orders as served rows, 15 days, a simulated 1.3x shift in urban dongs from day 4), written into a
  // schema of its own by the image's replay_rows, it must train, pass the golden and parity checks and
  // publish version 3 into the mounted copy of ml/models. So Python, LightGBM (OpenMP), the ONNX export and
  // ONNX Runtime, psycopg and the repository writes all run inside the image, as the non-root user.
  await check('ml', image('ml'), async (r, img) => {
    const t = performance.now();
    const help = await podman([...(await runToExit()), tagOf(img), '--help']);
    r.runToReadyMs = performance.now() - t;
    if (!help.includes('usage:') || !help.includes('--models-dir'))
      fail(`--help printed ${help.slice(0, 200)}`);
    r.checks.push('--help: exit 0 with the usage');

    const databaseUrl = process.env['DATABASE_URL'];
    if (!databaseUrl) {
      if (process.env['CI']) fail('DATABASE_URL is not set: the test command exports it');
      r.checks.push('retrain run SKIPPED: no DATABASE_URL (scripts/backing-services.sh env)');
      return;
    }
    const reference =
      process.env['ETA_TRAIN_DATA'] ??
      join(root, '..', 'shared', 'data', 'food-delivery-india', 'orders-train.csv.gz');
    if (!existsSync(reference)) fail(`reference orders not found: ${reference} (ETA_TRAIN_DATA)`);
    const work = mkdtempSync(join(tmpdir(), 'eta-images-ml-'));
    const models = join(work, 'models');
    cpSync(join(root, 'ml', 'models'), models, { recursive: true });
    // The container's user (65532) writes the new version, as the CronJob does on its volume.
    chmodSync(work, 0o755);
    await execFileP('chmod', ['-R', 'a+rwX', models]);
    const schema = `images_check_${process.pid}`;
    const mounts = ['-v', `${models}:/models`, '-v', `${dirname(reference)}:/reference:ro`];
    const data = `/reference/${basename(reference)}`;
    const python = [...mounts, '--entrypoint', '/usr/bin/python3.11', tagOf(img)];
    try {
      await podman(
        [
          ...(await runToExit()),
          ...python,
          '-m',
          'eta_models.replay_rows',
          `--database-url=${databaseUrl}`,
          `--schema=${schema}`,
          '--models-dir=/models',
          `--data=${data}`,
          '--days=15',
          '--rows-per-day=800',
          '--last-day=2026-11-30',
          '--shift-from-day=4',
          '--seed=11',
        ],
        300_000,
      );
      const source = `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-csearch_path=${schema}`)}`;
      const out = await podman(
        [
          ...(await runToExit()),
          ...mounts,
          '-e',
          `RETRAIN_SOURCE=${source}`,
          '-e',
          'HOME=/tmp',
          tagOf(img),
          '--model=eta-precise',
          '--days=15',
          '--holdout-days=1',
          '--until=2026-11-30',
          '--models-dir=/models',
          '--report-dir=/models/reports/retrain',
          `--data=${data}`,
        ],
        900_000,
      );
      const decision = out
        .split('\n')
        .find((l) => l.startsWith('[retrain] publish') || l.startsWith('[retrain] decline'));
      if (!decision?.startsWith('[retrain] publish'))
        fail(`the job did not publish: ${decision ?? out.slice(-400)}`);
      const release = JSON.parse(readFileSync(join(models, 'eta-precise', 'release.json'), 'utf8')) as {
        candidate?: string;
      };
      if (release.candidate !== '3') fail(`release.json candidate is ${String(release.candidate)}, not 3`);
      if (!existsSync(join(models, 'eta-precise', '3', 'model.onnx'))) fail('no eta-precise/3/model.onnx');
      const reports = readdirSync(join(models, 'reports', 'retrain'));
      if (!reports.some((f) => f.endsWith('.json')) || !reports.some((f) => f.endsWith('.md')))
        fail(`reports written: ${reports.join(', ')}`);
      r.checks.push(
        'retrain job on a shifted replay: published eta-precise v3 (model.onnx, release.json candidate, report)',
      );
    } finally {
      await podman(
        [
          ...(await runToExit()),
          ...python,
          '-c',
          'import sys, psycopg; psycopg.connect(sys.argv[1], autocommit=True).execute(f\'DROP SCHEMA IF EXISTS "{sys.argv[2]}" CASCADE\')',
          databaseUrl,
          schema,
        ],
        120_000,
      ).catch((err: Error) => log(`ml: could not drop schema ${schema}: ${err.message}`));
      rmSync(work, { recursive: true, force: true });
    }
  });

  report(summary);
  const failed = results.filter((r) => r.error);
  log(
    `${failed.length === 0 ? 'all images ok' : `${failed.length} FAILED`} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return failed.length === 0 ? 0 : 1;
}

function report(summary: BuildSummary): void {
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const rows = results.map((r) => {
    const img = summary.images.find((i) => i.name === r.image);
    return [
      r.name,
      img ? mb(img.compressedBytes) : '-',
      img ? mb(img.uncompressedBytes) : '-',
      s(r.runToReadyMs),
      s(r.processToReadyMs),
      r.error ? `FAILED: ${r.error.split('\n')[0]}` : 'ok',
    ];
  });
  const head = ['image', 'compressed', 'uncompressed', 'run→ready', 'process→ready', 'result'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: string[]) =>
    row.map((v, c) => (c === row.length - 1 ? v : v.padEnd(widths[c] ?? 0))).join('  ');
  process.stdout.write(`\n${line(head)}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(
    'run→ready: `podman run` to the first GET /readyz 200 (prescaler, ml: `podman run ... --help` to its exit);\n' +
      'process→ready: the container process start (podman StartedAt) to it. Compressed: what a registry stores.\n',
  );
  for (const r of results.filter((x) => x.error)) process.stdout.write(`\n${r.name}: ${r.error}\n`);
}

async function cleanup(): Promise<void> {
  for (const c of started) await podman(['rm', '--force', '--time', '0', c]).catch(() => undefined);
  started.clear();
  if (keep) return;
  // This check's images of earlier builds; the current ones stay, so the next run need not load them again,
  // and so do other images of the store (dockerfile-check.sh's stand-ins and build cache).
  const summary = JSON.parse(readFileSync(join(outDir, 'images.json'), 'utf8')) as BuildSummary;
  const current = new Set(summary.images.map(tagOf));
  const tags = (
    await podman(['images', '--noheading', '--format', '{{.Repository}}:{{.Tag}}']).catch(() => '')
  ).split('\n');
  for (const tag of tags) {
    const name = /^localhost\/eta-suite\/([a-z0-9-]+):/.exec(tag)?.[1];
    if (name && summary.images.some((i) => i.name === name) && !current.has(tag)) {
      await podman(['rmi', tag]).catch(() => undefined);
    }
  }
}

let code = 1;
const interrupted = () => {
  void cleanup().finally(() => process.exit(130));
};
process.once('SIGINT', interrupted);
process.once('SIGTERM', interrupted);
try {
  code = await main();
} catch (err) {
  log((err as Error).message);
} finally {
  await cleanup();
}
process.exitCode = code;
