import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestSchema,
  requireEnv,
  seededRandom,
  spawnService,
  type SpawnedService,
  suiteService,
  type TestSchema,
} from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFsModelSource } from '../../src/adapters/fs-repository.ts';
import { createOnnxLoader } from '../../src/adapters/onnx.ts';
import { type MlProxyApp } from '../../src/app.ts';
import { budgetOf, type InferenceBackend, type ModelSignature } from '../../src/domain/model.ts';
import { loadCheckedVersion, type ModelLoader } from '../../src/domain/registry.ts';
import { parseRelease } from '../../src/domain/release.ts';
import { fixture, inferBody, REFERENCE_REPOSITORY, startApp, until } from '../helpers.ts';
import { candidateRelease, releaseRepository } from '../release-helpers.ts';

/**
 * Shadow, then promote, against real processes: an ML proxy process serving a repository whose
 * release.json names v1 serving and v2 (the committed eta-precise versions) as candidate; `pnpm model`
 * run as its own process, reading the proxy's /metrics and training rows from a real Postgres table with
 * the shared contract's DDL, rows whose actual minutes are drawn from one version's own quantiles so that
 * version is the better one; and a steady stream of requests that must see no failure while promotion
 * and rollback flip what unpinned calls get.
 */

const CLI = fileURLToPath(new URL('../../src/cli/release.ts', import.meta.url));
const MODEL = 'eta-precise';
const body = inferBody(await fixture(MODEL), 2);
const bigBody = inferBody(await fixture(MODEL), 50);

/** issue 13's shared contract (services/vendor-bff/migrations/0003_training_rows.sql). */
const TRAINING_ROWS_DDL = `
CREATE TABLE training_rows (
  order_id        text PRIMARY KEY,
  prediction_id   uuid NOT NULL,
  store_id        bigint NOT NULL,
  dong_code       text NOT NULL,
  ordered_at      timestamptz NOT NULL,
  delivered_at    timestamptz NOT NULL,
  predicted_at    timestamptz NOT NULL,
  seoul_date      date NOT NULL,
  seoul_hour      smallint NOT NULL,
  model           text NOT NULL,
  model_version   text NOT NULL,
  features        jsonb NOT NULL,
  p10             double precision NOT NULL,
  p50             double precision NOT NULL,
  p90             double precision NOT NULL,
  shown_minutes   double precision NOT NULL,
  actual_minutes  double precision NOT NULL,
  written_at      timestamptz NOT NULL,
  shipped_at      timestamptz
);
CREATE INDEX training_rows_seoul_date ON training_rows (seoul_date);`;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `pnpm model ...` as its own process (the script runs exactly this file). */
function cli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 180_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A valid served row for `signature`: codes for categorical features, values inside ranges, some unknowns. */
function randomFeatures(signature: ModelSignature, random: () => number): Record<string, number | null> {
  const row: Record<string, number | null> = {};
  for (const f of signature.features) {
    if (f.nullable && random() < 0.1) {
      row[f.name] = null;
    } else if (f.codes) {
      row[f.name] = f.codes[Math.floor(random() * f.codes.length)]!;
    } else if (f.range) {
      const [lo, hi] = f.range;
      const v = lo + random() * (hi - lo);
      // Hours, days, ages and counts are whole numbers in what the BFF sends.
      row[f.name] =
        Number.isInteger(lo) && Number.isInteger(hi) && hi - lo < 100
          ? Math.round(v)
          : Math.round(v * 100) / 100;
    } else {
      row[f.name] = random();
    }
  }
  return row;
}

interface Scored {
  p10: number;
  p50: number;
  p90: number;
}

async function scoreAll(
  backend: InferenceBackend,
  signature: ModelSignature,
  rows: Record<string, number | null>[],
): Promise<Scored[]> {
  const width = signature.features.length;
  const input = new Float32Array(rows.length * width);
  rows.forEach((r, i) =>
    signature.features.forEach((f, c) => (input[i * width + c] = r[f.name] ?? Number.NaN)),
  );
  const out = await backend.infer(input, rows.length, ['p10', 'p50', 'p90'], budgetOf(60_000));
  return rows.map((_, i) => ({ p10: out['p10']![i]!, p50: out['p50']![i]!, p90: out['p90']![i]! }));
}

/** An actual delivery time drawn from a version's own quantiles: p10/p50/p90 are its 10/50/90 % points. */
function drawActual(q: Scored, random: () => number): number {
  const u = random();
  if (u < 0.1) return q.p10 - ((0.1 - u) / 0.1) * Math.max(1, q.p50 - q.p10);
  if (u < 0.5) return q.p10 + ((u - 0.1) / 0.4) * (q.p50 - q.p10);
  if (u < 0.9) return q.p50 + ((u - 0.5) / 0.4) * (q.p90 - q.p50);
  return q.p90 + ((u - 0.9) / 0.1) * Math.max(1, q.p90 - q.p50);
}

/**
 * A training_rows table in a schema of its own: `late` rows delivered after `publishedAt` with actual
 * minutes drawn from version `betterLate`'s quantiles, and `early` rows delivered before it drawn from the
 * other version's (the rule must not read those: the candidate may have trained on them).
 */
async function trainingRows(args: {
  versions: Record<'1' | '2', { backend: InferenceBackend; signature: ModelSignature }>;
  publishedAt: Date;
  betterLate: '1' | '2';
  late: number;
  early: number;
  seed: number;
}): Promise<TestSchema> {
  const schema = await createTestSchema({ prefix: 'mlrelease', max: 2 });
  await schema.pool.query(TRAINING_ROWS_DDL);
  const random = seededRandom(args.seed);
  const signature = args.versions['1'].signature;
  const total = args.late + args.early;
  const features = Array.from({ length: total }, () => randomFeatures(signature, random));
  const s1 = await scoreAll(args.versions['1'].backend, signature, features);
  const s2 = await scoreAll(args.versions['2'].backend, args.versions['2'].signature, features);
  const values: unknown[] = [];
  const tuples: string[] = [];
  for (let i = 0; i < total; i++) {
    const late = i < args.late;
    const better = late ? args.betterLate : args.betterLate === '1' ? '2' : '1';
    const actual = drawActual(better === '1' ? s1[i]! : s2[i]!, random);
    const delivered = new Date(args.publishedAt.getTime() + (late ? 1 : -1) * (60_000 + i * 1000));
    const ordered = new Date(delivered.getTime() - actual * 60_000);
    const served = s1[i]!;
    const row = [
      `order-${i}`,
      randomUUID(),
      1 + (i % 50),
      '11440660',
      ordered.toISOString(),
      delivered.toISOString(),
      ordered.toISOString(),
      ordered.toISOString().slice(0, 10),
      12,
      MODEL,
      '1',
      JSON.stringify(features[i]),
      served.p10,
      served.p50,
      served.p90,
      Math.round(served.p50),
      actual,
      delivered.toISOString(),
    ];
    tuples.push(`(${row.map((_, c) => `$${values.length + c + 1}`).join(', ')})`);
    values.push(...row);
  }
  await schema.pool.query(
    `INSERT INTO training_rows (order_id, prediction_id, store_id, dong_code, ordered_at, delivered_at, predicted_at,
       seoul_date, seoul_hour, model, model_version, features, p10, p50, p90, shown_minutes, actual_minutes, written_at)
     VALUES ${tuples.join(', ')}`,
    values,
  );
  return schema;
}

/** Requests in a loop until stopped; every answer recorded in order. */
function stream(origin: string, body: unknown) {
  const answers: { status: number; version: string | undefined; fallback: boolean; error?: string }[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const res = await fetch(`${origin}/v2/models/${MODEL}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
        const json = (await res.json()) as { model_version?: string; parameters?: { fallback?: boolean } };
        answers.push({
          status: res.status,
          version: json.model_version,
          fallback: json.parameters?.fallback === true,
        });
      } catch (err) {
        answers.push({ status: 0, version: undefined, fallback: false, error: (err as Error).message });
      }
    }
  })();
  return {
    answers,
    /** Answers given since the n-th one by `version`. */
    countSince: (n: number, version: string) => answers.slice(n).filter((a) => a.version === version).length,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Consecutive duplicates removed: ['1', '1', '2', '2', '1'] -> ['1', '2', '1']. */
const runs = (versions: (string | undefined)[]) =>
  versions.filter((v, i) => i === 0 || v !== versions[i - 1]);

async function metric(origin: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      total += Number(line.split(' ').at(-1));
  }
  return total;
}

describe(
  'shadow, then promote: pnpm model against a real ML proxy process and real training rows',
  { timeout: 300_000 },
  () => {
    const publishedAt = new Date(Date.now() - 3_600_000);
    let repo: Awaited<ReturnType<typeof releaseRepository>>;
    let better: TestSchema; // the candidate (2) is better on the rows delivered after its publish
    let worse: TestSchema; // the candidate is worse there
    let proxy: SpawnedService;
    const rowsUrl = () => requireEnv('DATABASE_URL');

    beforeAll(async () => {
      repo = await releaseRepository(['1', '2']);
      await repo.writeRelease(candidateRelease(publishedAt));
      // Both versions loaded the way the command and the proxy load them, to make the rows.
      const source = createFsModelSource(REFERENCE_REPOSITORY);
      const loader = createOnnxLoader({ intraOpThreads: 1, execution: 'inline' });
      const load = (version: string) =>
        loadCheckedVersion({ source, loader, model: MODEL, version, requireGolden: true });
      const v1 = await load('1');
      const v2 = await load('2');
      try {
        const versions = { '1': v1, '2': v2 };
        better = await trainingRows({
          versions,
          publishedAt,
          betterLate: '2',
          late: 300,
          early: 2000,
          seed: 13,
        });
        worse = await trainingRows({
          versions,
          publishedAt,
          betterLate: '1',
          late: 300,
          early: 2000,
          seed: 31,
        });
      } finally {
        await v1.backend.close();
        await v2.backend.close();
      }
      proxy = await spawnService({
        ...suiteService('ml-proxy'),
        env: {
          MODEL_REPOSITORY: repo.root,
          MODELS: MODEL,
          MODEL_LOAD_VERSIONS: 'served',
          MODEL_POLL_INTERVAL_SECONDS: '0.25',
          MODEL_SETTINGS: JSON.stringify({ [MODEL]: { candidateShadow: { percent: 100 } } }),
          LOG_LEVEL: 'warn',
          SHUTDOWN_DELAY_MS: '0',
          WARMUP_RUNS: '2',
          // Behaviour, not speed: a busy machine must not turn an answer into a deadline fallback, and no
          // load shedding (a version load blocks the loop briefly): a failure here is the flip's.
          MODEL_DEADLINE_MS: '10000',
          REQUEST_TIMEOUT_MS: '60000',
          MAX_EVENT_LOOP_DELAY_MS: '0',
          MAX_QUEUE_MS: '0',
        },
        readyPath: '/v2/health/ready',
        readyTimeoutMs: 110_000,
      });
    }, 240_000);

    afterAll(async () => {
      await proxy?.stop();
      await better?.cleanup();
      await worse?.cleanup();
      await repo?.cleanup();
    });

    const release = async () => parseRelease(await readFile(join(repo.root, MODEL, 'release.json'), 'utf8'));
    const promoteArgs = (rows: TestSchema, extra: string[] = []) => [
      'promote',
      '--model',
      MODEL,
      '--repository',
      repo.root,
      '--by',
      'integration-test',
      '--reason',
      'shadow clean and more accurate on delivered orders',
      '--proxy',
      proxy.origin,
      '--rows',
      rowsUrl(),
      '--rows-table',
      `${rows.schema}.training_rows`,
      '--min-comparisons',
      '200',
      ...extra,
    ];

    it('shadows the candidate, refuses to promote it too early or when it is worse, promotes then rolls back without a failed request', async () => {
      const sequential = stream(proxy.origin, body);
      // Batches too: calls of more than ORT_INLINE_MAX_ROWS rows run in the version's worker thread, so some
      // are in flight on the old version when a flip retires it.
      const parallel = [
        stream(proxy.origin, body),
        stream(proxy.origin, bigBody),
        stream(proxy.origin, bigBody),
      ];
      try {
        // The candidate is mirrored and never served unpinned.
        await until(
          async () =>
            (await metric(proxy.origin, 'ml_proxy_shadow_comparisons_total', { version: '2' })) >= 200,
          120_000,
        );
        expect(sequential.answers.every((a) => a.version === '1')).toBe(true);

        // Too few comparisons for a stricter rule: refused, nothing written.
        const before = await readFile(join(repo.root, MODEL, 'release.json'), 'utf8');
        const early = await cli(promoteArgs(better, ['--min-comparisons', '100000000']));
        expect(early.code, early.stderr).toBe(3);
        expect(early.stderr).toMatch(/too few shadow comparisons: \d+ of the 100000000 required/);
        expect(early.stderr).not.toMatch(/less accurate/);
        expect(early.stdout).toBe('');

        // Enough clean comparisons, but worse than v1 on the orders delivered since it was published.
        const worseRun = await cli(promoteArgs(worse));
        expect(worseRun.code, worseRun.stderr).toBe(3);
        expect(worseRun.stderr).toMatch(
          /the candidate is less accurate on 300 delivered orders: MAE [\d.]+ vs [\d.]+ for version 1/,
        );
        expect(worseRun.stderr).not.toMatch(/too few/);
        expect(worseRun.stderr).not.toMatch(/Error|\n\s+at /); // a message, never a stack trace
        expect(await readFile(join(repo.root, MODEL, 'release.json'), 'utf8')).toBe(before);

        // Promotion: the rule passes on the rows after the publish (the 2,000 earlier rows favour v1).
        const mark = sequential.answers.length;
        const promoted = await cli(promoteArgs(better, ['--wait']));
        expect(promoted.code, promoted.stderr).toBe(0);
        const logged = JSON.parse(promoted.stdout.trim()) as Record<string, unknown>;
        expect(promoted.stdout.trim().split('\n')).toHaveLength(1);
        expect(logged).toMatchObject({
          msg: 'model release changed',
          action: 'promote',
          version: '2',
          from: '1',
          by: 'integration-test',
        });
        const rule = logged['rule'] as {
          comparisons: number;
          shadowErrors: number;
          rows: number;
          serving: { mae: number };
          candidate: { mae: number };
          since: string;
        };
        expect(rule.comparisons).toBeGreaterThanOrEqual(200);
        expect(rule.shadowErrors).toBe(0);
        expect(rule.rows).toBe(300);
        expect(rule.since).toBe(publishedAt.toISOString());
        expect(rule.candidate.mae).toBeLessThan(rule.serving.mae);
        expect(await release()).toMatchObject({ serving: '2' });
        expect((await release()).candidate).toBeUndefined();
        await until(() => sequential.countSince(mark, '2') >= 30, 120_000);

        // Rollback: back to what served before, from the history.
        const mark2 = sequential.answers.length;
        const rolled = await cli([
          'rollback',
          '--model',
          MODEL,
          '--repository',
          repo.root,
          '--by',
          'integration-test',
          '--reason',
          'customer complaints',
          '--proxy',
          proxy.origin,
          '--wait',
        ]);
        expect(rolled.code, rolled.stderr).toBe(0);
        expect(JSON.parse(rolled.stdout.trim())).toMatchObject({
          action: 'rollback',
          version: '1',
          from: '2',
          serving: '1',
        });
        await until(() => sequential.countSince(mark2, '1') >= 30, 120_000);
      } finally {
        await sequential.stop();
        await Promise.all(parallel.map((p) => p.stop()));
      }

      // Not one failed request, and every answer from a model: old, then new, then old again.
      for (const s of [sequential, ...parallel]) {
        const bad = s.answers.filter(
          (a) => a.status !== 200 || a.fallback || (a.version !== '1' && a.version !== '2'),
        );
        expect(bad, JSON.stringify(bad.slice(0, 5))).toEqual([]);
      }
      expect(runs(sequential.answers.map((a) => a.version))).toEqual(['1', '2', '1']);

      // Recorded: who, when, why, and the rule's figures.
      const history = (await release()).history;
      expect(history.map((e) => [e.action, e.version, e.from])).toEqual([
        ['publish', '2', '1'],
        ['promote', '2', '1'],
        ['rollback', '1', '2'],
      ]);
      expect(history[1]).toMatchObject({
        by: 'integration-test',
        reason: 'shadow clean and more accurate on delivered orders',
      });
      expect(history[1]!.forced).toBeUndefined();
      expect(history[2]).toMatchObject({ by: 'integration-test', reason: 'customer complaints' });

      const status = await cli([
        'status',
        '--model',
        MODEL,
        '--repository',
        repo.root,
        '--proxy',
        proxy.origin,
      ]);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/serving\s+1\n/);
      expect(status.stdout).toMatch(/rollback 1 \(from 2\)\s+by integration-test: customer complaints/);
    });

    it('keeps serving the last good release when release.json is malformed, and the command refuses to act on it', async () => {
      await repo.writeRelease('{"serving": "2", "candidate": "2"');
      await until(
        async () => (await metric(proxy.origin, 'ml_proxy_release_refused', { model: MODEL })) === 1,
        60_000,
      );
      const res = await fetch(`${proxy.origin}/v2/models/${MODEL}/infer`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { model_version: string }).model_version).toBe('1');
      expect(await metric(proxy.origin, 'ml_proxy_release_refusals_total', { model: MODEL })).toBe(1);
      const rolled = await cli([
        'rollback',
        '--model',
        MODEL,
        '--repository',
        repo.root,
        '--by',
        't',
        '--reason',
        'r',
        '--to',
        '2',
      ]);
      expect(rolled.code).toBe(4);
      expect(rolled.stderr).toMatch(/release\.json is malformed/);
      expect(proxy.output()).toMatch(/release\.json refused; the last good release keeps applying/);
    });
  },
);

describe('the promotion rule refuses a candidate whose shadow calls failed', { timeout: 180_000 }, () => {
  let app: MlProxyApp | undefined;
  let rows: TestSchema | undefined;
  let repo: Awaited<ReturnType<typeof releaseRepository>> | undefined;

  afterAll(async () => {
    await app?.close();
    await rows?.cleanup();
    await repo?.cleanup();
  });

  it('one failed mirrored call is enough, even with enough comparisons and better accuracy', async () => {
    const publishedAt = new Date(Date.now() - 3_600_000);
    repo = await releaseRepository(['1', '2']);
    await repo.writeRelease(candidateRelease(publishedAt));
    const source = createFsModelSource(REFERENCE_REPOSITORY);
    const offline = createOnnxLoader({ intraOpThreads: 1, execution: 'inline' });
    const v1 = await loadCheckedVersion({
      source,
      loader: offline,
      model: MODEL,
      version: '1',
      requireGolden: true,
    });
    const v2 = await loadCheckedVersion({
      source,
      loader: offline,
      model: MODEL,
      version: '2',
      requireGolden: true,
    });
    try {
      rows = await trainingRows({
        versions: { '1': v1, '2': v2 },
        publishedAt,
        betterLate: '2',
        late: 250,
        early: 0,
        seed: 7,
      });
    } finally {
      await v1.backend.close();
      await v2.backend.close();
    }
    // The candidate passes its golden check (its sessions, `parts`, are checked unwrapped), then its
    // third served call fails: a real proxy listening on a port, with one broken model call.
    const onnx = createOnnxLoader({ intraOpThreads: 1 });
    let calls = 0;
    const loader: ModelLoader = {
      platform: onnx.platform,
      async load(args) {
        const backend = await onnx.load(args);
        if (args.version !== '2') return backend;
        return {
          ...backend,
          infer: async (...a) => {
            if (++calls === 3) throw new Error('candidate crashed');
            return backend.infer(...a);
          },
        };
      },
    };
    app = await startApp(
      {
        MODEL_REPOSITORY: repo.root,
        MODELS: MODEL,
        MODEL_LOAD_VERSIONS: 'served',
        MODEL_SETTINGS: JSON.stringify({ [MODEL]: { candidateShadow: { percent: 100 } } }),
        // Every mirrored call runs (none skipped for being over the in-flight cap), so counts are exact.
        SHADOW_MAX_INFLIGHT: '1000',
      },
      { loader },
    );
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    for (let i = 0; i < 12; i++) {
      const res = await app.inject({
        method: 'POST',
        url: `/v2/models/${MODEL}/infer`,
        payload: inferBody(await fixture(MODEL), 1),
      });
      expect(res.json()).toMatchObject({ model_version: '1' });
    }
    await until(
      async () =>
        (await metric(origin, 'ml_proxy_shadow_comparisons_total', { version: '2' })) +
          (await metric(origin, 'ml_proxy_shadow_errors_total', { version: '2' })) ===
        12,
    );
    const result = await cli([
      'promote',
      '--model',
      MODEL,
      '--repository',
      repo.root,
      '--by',
      't',
      '--reason',
      'r',
      '--proxy',
      origin,
      '--rows',
      requireEnv('DATABASE_URL'),
      '--rows-table',
      `${rows.schema}.training_rows`,
      '--min-comparisons',
      '10',
    ]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/the candidate failed 1 shadow call\(s\); 0 are allowed/);
    expect(result.stderr).not.toMatch(/too few|less accurate/);
    expect(
      (await parseRelease(await readFile(join(repo.root, MODEL, 'release.json'), 'utf8'))).candidate,
    ).toBe('2');

    // Forced: written, and recorded as forced with what the rule found.
    const forced = await cli([
      'promote',
      '--model',
      MODEL,
      '--repository',
      repo.root,
      '--by',
      'oncall',
      '--reason',
      'the crash is understood',
      '--proxy',
      origin,
      '--min-comparisons',
      '10',
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    const entry = (
      await parseRelease(await readFile(join(repo.root, MODEL, 'release.json'), 'utf8'))
    ).history.at(-1)!;
    expect(entry).toMatchObject({ action: 'promote', version: '2', forced: true, by: 'oncall' });
    expect(entry.rule?.refusals).toEqual([
      'the candidate failed 1 shadow call(s); 0 are allowed',
      'no delivered orders were read (--rows)',
    ]);
  });
});
