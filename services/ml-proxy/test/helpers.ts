import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '@eta/config';
import { sumSamples } from '@eta/service-kit';
import { afterEach } from 'vitest';
import { createFsModelSource } from '../src/adapters/fs-repository.ts';
import { type AppDeps, buildApp, type MlProxyApp } from '../src/app.ts';
import { type Config, configSchema, DEFAULT_MODEL_REPOSITORY } from '../src/config.ts';
import { parseGolden } from '../src/domain/golden.ts';
import { signatureFromMetadata } from '../src/domain/model.ts';
import { compareVersions, type ModelLoader } from '../src/domain/registry.ts';

export const MODELS = ['eta-rough', 'eta-precise'] as const;

/** The committed reference models are the fixtures: tests serve exactly what production serves. */
export const REFERENCE_REPOSITORY = DEFAULT_MODEL_REPOSITORY;

/** The reference repository's versions (both models ship the same ones), oldest first, as the service lists them. */
export const REFERENCE_VERSIONS: readonly string[] = (
  await createFsModelSource(REFERENCE_REPOSITORY).listVersions('eta-precise')
)
  .map((l) => l.version)
  .sort(compareVersions);
/** What unpinned requests get from the reference repository. */
export const NEWEST = REFERENCE_VERSIONS.at(-1)!;

export function testConfig(env: Record<string, string> = {}): Config {
  return parseEnv(configSchema, {
    LOG_LEVEL: 'silent',
    MODEL_REPOSITORY: REFERENCE_REPOSITORY,
    MODEL_POLL_INTERVAL_SECONDS: '0',
    WARMUP_RUNS: '2',
    MAX_BATCH_ROWS: '1000',
    // Tests check behaviour, not speed: on a busy shared machine a call may take far longer than the
    // production budget, and a deadline fallback would make model answers flaky. Deadline tests set
    // their own per-model budget.
    MODEL_DEADLINE_MS: '10000',
    // The same for the kit's per-request deadline (default 10 s, less the event-loop lag a request waited
    // before its first hook): a request must never be answered 504 here unless a test asks for it.
    REQUEST_TIMEOUT_MS: '60000',
    // These tests are about the repository's versions side by side (pinned calls, hot reloads of one of
    // several): every version loaded. The shipped default, MODEL_LOAD_VERSIONS=served, has its own tests
    // (served-versions.test.ts).
    MODEL_LOAD_VERSIONS: 'all',
    // No load shedding (its own tests are in service-kit), as in the BFF's tests: admission control sheds
    // on a standing event-loop queue, which a test runner starved of CPU shows during a burst, and the
    // event-loop-delay shedder on a loop that a model load in `inline` mode just blocked (the execution
    // test's first call after such a load was answered 503 in about half of its runs).
    MAX_QUEUE_MS: '0',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
}

export async function startApp(env: Record<string, string> = {}, deps: AppDeps = {}): Promise<MlProxyApp> {
  const app = await buildApp(testConfig(env), deps);
  await app.mlProxy.loaded;
  return app;
}

/** A private copy of the reference repository (version 1 of each model) that a test may change. */
export async function tempRepository(): Promise<{
  root: string;
  /** Publishes `files` as a new version the way operators should: fill a temp folder, then rename. */
  publish(model: string, version: string, edit?: (dir: string) => Promise<void>): Promise<void>;
  /** Takes a version out of the repository (a rollback). */
  remove(model: string, version: string): Promise<void>;
  cleanup(): Promise<void>;
}> {
  const root = await mkdtemp(join(tmpdir(), 'ml-proxy-repo-'));
  for (const model of MODELS)
    await cp(join(REFERENCE_REPOSITORY, model, '1'), join(root, model, '1'), { recursive: true });
  return {
    root,
    async publish(model, version, edit) {
      const staging = join(root, model, `.tmp-${version}`);
      await cp(join(REFERENCE_REPOSITORY, model, '1'), staging, { recursive: true });
      if (edit) await edit(staging);
      await rename(staging, join(root, model, version));
    },
    remove: (model, version) => rm(join(root, model, version), { recursive: true, force: true }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export interface Fixture {
  readonly width: number;
  readonly features: readonly { name: string; nullable: boolean }[];
  /** Valid rows (from golden.json, whose inputs the exporter generated within the feature ranges); NaN as null. */
  readonly rows: (number | null)[][];
  /** golden.json's expected outputs for `rows`, and its tolerance. */
  readonly expected: Readonly<Record<string, readonly number[]>>;
  readonly tolerance: number;
  /** Declared output shape with the batch dimension as `n` rows. */
  outputShape(n: number): number[];
}

/** Rows and golden outputs of one reference version: '1' is what `tempRepository` copies. */
export async function fixture(model: string, version = '1'): Promise<Fixture> {
  const dir = join(REFERENCE_REPOSITORY, model, version);
  const signature = signatureFromMetadata(JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')));
  const width = signature.features.length;
  const golden = parseGolden(JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8')), width);
  const rows: (number | null)[][] = [];
  for (let r = 0; r < golden.rows; r++) {
    rows.push(
      Array.from(golden.input.subarray(r * width, (r + 1) * width), (v) => (Number.isNaN(v) ? null : v)),
    );
  }
  return {
    width,
    features: signature.features,
    rows,
    expected: golden.expected,
    tolerance: golden.atol,
    outputShape: (n) => signature.outputs[0]!.shape.map((d) => (d === -1 ? n : d)),
  };
}

export function inferBody(fx: Fixture, rows = 1, extra: Record<string, unknown> = {}) {
  const data: (number | null)[] = [];
  for (let r = 0; r < rows; r++) data.push(...fx.rows[r % fx.rows.length]!);
  return { inputs: [{ name: 'features', shape: [rows, fx.width], datatype: 'FP32', data }], ...extra };
}

/** The sum of `name`'s samples whose labels include `labels`, from the app's registry; 0 when absent. */
export async function metricValue(
  app: MlProxyApp,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return sumSamples(await app.metricsRegistry.metrics(), name, labels);
}

/** Polls `what` every 25 ms until it holds; throws after `timeoutMs`. */
export async function until(what: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * For a test file whose tests each serve a temporary copy of the reference repository: registers an
 * afterEach that closes every app (terminating its model worker threads) and removes its repository.
 * Call once at the top level of the file. `track` adds any other cleanup to the same list.
 */
export function appsPerTest() {
  let cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  }, 60_000);
  const track = (cleanup: () => Promise<unknown>): void => {
    cleanups.push(cleanup);
  };
  async function served(env: Record<string, string>, loader?: ModelLoader) {
    const repo = await tempRepository();
    track(repo.cleanup);
    const app = await startApp({ MODEL_REPOSITORY: repo.root, ...env }, loader ? { loader } : {});
    track(() => app.close());
    return { repo, app };
  }
  return { served, track };
}

/**
 * For `publish`: keeps the valid model but makes golden.json claim other outputs, which is what a
 * feature-order mix-up looks like; such a version must be refused.
 */
export async function wrongGolden(dir: string): Promise<void> {
  const golden = JSON.parse(await readFile(join(dir, 'golden.json'), 'utf8'));
  for (const c of golden.cases ?? []) for (const k of Object.keys(c.expected)) c.expected[k] += 5;
  await writeFile(join(dir, 'golden.json'), JSON.stringify(golden));
}
