/**
 * Issue 13's drift run, end to end on the running suite: a SIMULATED shift on top of the replay of real
 * orders raises the live error in the shifted dongs, the retrain job learns it from the served rows, the
 * ML proxy shadows the new version, the promotion rule flips it to serving, and the error falls back.
 * Without the shift the same job declines (no better model).
 *
 * Each replay is one compressed service day of real orders (`pnpm replay`, --speed 1200, the estimate's
 * orderedAt on the order's own hour: --estimate-clock dataset), so "the newest day held back" is the last
 * replay before a retrain (the job's --holdout-from its start):
 *
 *   1. before, beforeheld: ORDERS.before and ORDERS.beforeheld orders, no shift; the retrain job on them
 *      must DECLINE (no better model).
 *   2. shift, shiftheld: deliveries to urban dongs take 1.3x as long (the replay's --shift-class urban
 *      --shift-factor 1.3, labelled SIMULATED SHIFT); the job on every row so far, shiftheld held back,
 *      must PUBLISH; the ML proxy's next repository scan mirrors the candidate (shadow).
 *   3. shadow: shifted orders while the candidate is mirrored; then `pnpm model promote` with the promotion
 *      rule's defaults (1,000 shadow comparisons, 0 shadow errors, not worse on >= 200 orders delivered
 *      since the publish) and --wait until the proxy serves it.
 *   4. after: shifted orders served by the promoted version.
 *   5. afterheld, then the next run of the job (continuing from the promoted version's saved trees, on every
 *      row so far); when it publishes, shadow2, promote and after2 as in 3 and 4. Its decision is reported
 *      either way (a decline is not a failure: it may have nothing more to learn).
 *
 * Reported: per phase, the MAE / bias of the served p50 against the actual minutes in the shifted
 * (urban) dongs and elsewhere, by the version that served them (from `training_rows`, the rows the BFF
 * wrote by joining each checkout estimate to its delivered order); both retrain reports' figures and
 * decisions; the time from the shift's start to the promotion, in wall seconds and in the replay's
 * compressed minutes (x speed).
 *
 * Configuration: the run command's services (lib/suite.ts) with DATABASE_URL on a fresh schema of the
 * backing services' Postgres (the retrain job reads the BFF's training rows there; the embedded PGlite is
 * not reachable from Python), the ML proxy on a temporary copy of ml/models (never the committed one) and
 * MODEL_SETTINGS mirroring the candidate to 100 % of calls instead of 10 %, so the rule's 1,000
 * comparisons come from 1,000 orders; KAFKA_BROKERS is removed for the run (the events go through the
 * BFF's in-process bus, the run command's). The replay runs at `--speed 1200` (the dataset's day in under
 * a minute). The shift, the speed and the mirror share are this run's, not the product's.
 *
 * Needs DATABASE_URL (`eval "$(scripts/backing-services.sh env)"`) and ml/.venv (`make -C ml .venv`, which
 * the test command builds). About 8 minutes; BENCH_QUICK=1 replays the same orders at --speed 4800 (about
 * 3 minutes).
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createTestSchema, type TestSchema } from '@eta/testing';
import { printTable, runStandalone, SkipScenario, type ScenarioOptions } from '../lib/index.ts';
import { requireBacking } from '../lib/events/kafka.ts';
import { parseReplayArgs, type ReplayOptions } from '../lib/replay/options.ts';
import { runFailed, type ReplayReport } from '../lib/replay/report.ts';
import { runReplay } from '../lib/replay/replay.ts';
import { devServiceToken, startSuite } from '../lib/suite.ts';

const execFileAsync = promisify(execFile);
const MODEL = 'eta-precise';
/** Dataset seconds per wall second; BENCH_QUICK replays the same orders four times as fast. */
const SPEED = 1200;
const QUICK_SPEED = 4800;
const SHIFT = { cls: 'urban', code: 1, factor: 1.3 } as const;
const MODEL_SETTINGS = JSON.stringify({ [MODEL]: { candidateShadow: { percent: 100 } } });

const PHASES = [
  'before',
  'beforeheld',
  'shift',
  'shiftheld',
  'shadow',
  'after',
  'afterheld',
  'shadow2',
  'after2',
] as const;
type Phase = (typeof PHASES)[number];

/**
 * What a model told of the shift could reach: v2's answer times the factor, for the shifted dongs' orders
 * it served after the shift started. The shift makes those deliveries 1.3x as long and their spread 1.3x as
 * wide, so their error cannot fall back to its level before the shift; this is the level it can fall to.
 */
const SHIFTED_PHASES: readonly Phase[] = ['shift', 'shiftheld', 'shadow'];

export interface PhaseAccuracy {
  readonly phase: Phase;
  readonly shifted: boolean;
  readonly version: string;
  /** MAE of p50 x the shift's factor (only meaningful for v2's rows in SHIFTED_PHASES). */
  readonly scaledMae: number;
  readonly rows: number;
  readonly mae: number;
  readonly bias: number;
}

export interface RetrainOutcome {
  readonly action: string;
  readonly version: string | null;
  readonly reason: string;
  readonly rows: { readonly train: number; readonly holdout: number };
  readonly holdoutMae: { readonly candidate: number; readonly live: number } | null;
  readonly validationMae: { readonly candidate: number; readonly live: number } | null;
  /** Where the job's change scan found the live model's error moved (rows before it left out of the fit). */
  readonly changes: readonly RetrainChange[];
  readonly rowsLeftOut: number;
  readonly seconds: number;
}

export interface RetrainChange {
  readonly segment: string;
  readonly at: string;
  readonly mean_before: number;
  readonly mean_after: number;
}

export async function run(opts: ScenarioOptions) {
  const { root, quick } = opts;
  const databaseUrl = requireBacking('DATABASE_URL', 'drift');
  const python = join(root, 'ml', '.venv', 'bin', 'python');
  if (!existsSync(python)) throw new SkipScenario('drift needs ml/.venv: make -C ml .venv');
  const speed = quick ? QUICK_SPEED : SPEED;
  const orders = {
    before: 3_000,
    beforeheld: 1_000,
    shift: 6_000,
    shiftheld: 1_000,
    shadow: 2_500,
    after: 2_000,
  };
  // The second cycle: the next retrain, continuing from the promoted version, with as many orders again.
  const all: Record<Phase, number> = {
    ...orders,
    afterheld: orders.beforeheld,
    shadow2: orders.shadow,
    after2: orders.after,
  };

  console.log(
    `\ndrift: issue 13's drift run. SIMULATED SHIFT on top of real orders: deliveries to ${SHIFT.cls} dongs ` +
      `x${SHIFT.factor} from the shift phase on.\n  phases (orders): ${Object.entries(all)
        .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
        .join(
          ', ',
        )}; replay --speed ${speed}\n  not the product's defaults: DATABASE_URL (a fresh schema), ` +
      `MODEL_REPOSITORY (a temp copy of ml/models), MODEL_SETTINGS=${MODEL_SETTINGS} (the candidate mirrored ` +
      `to every call, not 10 %), KAFKA_BROKERS removed (the in-process bus)` +
      (quick ? `; QUICK: --speed ${QUICK_SPEED} instead of ${SPEED}` : ''),
  );

  const cleanups: Array<() => Promise<void> | void> = [];
  const savedBrokers = process.env.KAFKA_BROKERS;
  delete process.env.KAFKA_BROKERS;
  cleanups.push(() => {
    if (savedBrokers !== undefined) process.env.KAFKA_BROKERS = savedBrokers;
  });
  try {
    const schema: TestSchema = await createTestSchema({ prefix: 'bench_drift', databaseUrl, max: 2 });
    // BENCH_DRIFT_KEEP=1 keeps the schema and the model repository copy, to look into a run afterwards.
    const keep = process.env.BENCH_DRIFT_KEEP === '1';
    if (!keep) cleanups.push(() => schema.cleanup());
    const dbUrl = new URL(databaseUrl);
    dbUrl.searchParams.set('options', `-c search_path=${schema.schema}`);
    // Migrated and seeded as a deployment's Jobs leave it: the BFF's own seed command (migrations first,
    // then the run command's SEED_STORES deterministic stores, which the replay places orders at).
    await execFileAsync(process.execPath, [join(root, 'services/vendor-bff/src/cli/seed.ts')], {
      cwd: join(root, 'services/vendor-bff'),
      env: { ...process.env, DATABASE_URL: dbUrl.toString(), LOG_LEVEL: 'warn' },
    });
    const work = mkdtempSync(join(tmpdir(), 'eta-drift-'));
    if (keep) console.log(`  kept: schema ${schema.schema}, ${work}`);
    else cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const repository = join(work, 'models');
    cpSync(join(root, 'ml', 'models'), repository, { recursive: true });

    const suite = await startSuite({
      root,
      extraEnv: {
        'vendor-bff': { DATABASE_URL: dbUrl.toString() },
        'ml-proxy': { MODEL_REPOSITORY: repository, MODEL_SETTINGS },
      },
    });
    cleanups.push(() => suite.stop());
    const token = devServiceToken(root, 'replay');
    const runId = `d${Date.now().toString(36)}`;

    const query = async <T>(sql: string, params: unknown[] = []): Promise<T[]> =>
      (await schema.pool.query(sql, params)).rows as T[];
    const rowCount = async (phase: Phase) =>
      Number(
        (
          await query<{ n: string }>('SELECT count(*) AS n FROM training_rows WHERE order_id LIKE $1', [
            `${runId}${phase}-%`,
          ])
        )[0]!.n,
      );

    const replay = async (phase: Phase, shifted: boolean): Promise<ReplayReport> => {
      // Each phase its own sample of the file's orders.
      const seed = 101 + PHASES.indexOf(phase);
      const args = [
        ...['--orders', String(all[phase]), '--speed', String(speed), '--seed', String(seed)],
        ...['--bff-url', suite.bff.origin, '--geo-url', suite.geo.origin, '--run-id', `${runId}${phase}`],
        // The model sees the hour the dataset's minutes were measured at, not the run's (messages.ts).
        ...['--estimate-clock', 'dataset'],
        ...(shifted ? ['--shift-class', SHIFT.cls, '--shift-factor', String(SHIFT.factor)] : []),
      ];
      const ropts = parseReplayArgs(args) as ReplayOptions;
      const t0 = Date.now();
      const report = await runReplay(ropts, {
        root,
        env: { ...process.env, REPLAY_TOKEN: token },
        log: () => {},
      });
      if (runFailed(report))
        throw new Error(`drift: the ${phase} replay failed: ${JSON.stringify(report.run)}`);
      const answered = report.run?.estimates.answered ?? 0;
      // Every delivered order answered by a model becomes a training row once the BFF has joined it (an
      // answer without the model's features, such as the heuristic's, does not): wait until the count has
      // not moved for 5 s after the last event was accepted.
      let last = -1;
      let still = Date.now();
      for (;;) {
        const n = await rowCount(phase);
        if (n >= answered) break;
        if (n !== last) [last, still] = [n, Date.now()];
        else if (Date.now() - still > 5_000) break;
        await sleep(500);
      }
      const byModel = await query<{ model: string; n: string }>(
        `SELECT model, count(*) AS n FROM accuracy_predictions WHERE order_id LIKE $1 GROUP BY 1 ORDER BY 1`,
        [`${runId}${phase}-%`],
      );
      console.log(
        `  ${phase}: ${all[phase]} orders replayed in ${((Date.now() - t0) / 1000).toFixed(0)} s, ` +
          `${answered} estimates answered (${byModel.map((r) => `${r.model} ${r.n}`).join(', ')}), ` +
          `${await rowCount(phase)} training rows`,
      );
      return report;
    };

    /** The retrain job on every row so far, holding back the orders placed from `heldFrom` on. */
    const retrain = async (label: string, heldFrom: string): Promise<RetrainOutcome> => {
      const source = new URL(databaseUrl);
      source.searchParams.set('options', `-csearch_path=${schema.schema}`);
      const seoulToday = new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 10);
      const reports = join(work, `reports-${label}`);
      const t0 = Date.now();
      await execFileAsync(
        python,
        [
          ...['-m', 'eta_models.retrain', '--source', source.toString(), '--model', MODEL],
          ...['--days', '2', '--until', seoulToday, '--holdout-from', heldFrom],
          ...['--models-dir', repository, '--report-dir', reports],
        ],
        { cwd: join(root, 'ml'), env: { ...process.env, PYTHONPATH: '.' }, maxBuffer: 16 << 20 },
      );
      const seconds = (Date.now() - t0) / 1000;
      const file = readdirJson(reports);
      const rep = JSON.parse(readFileSync(file, 'utf8')) as RetrainReport;
      const out: RetrainOutcome = {
        action: rep.decision.action,
        version: rep.decision.version,
        reason: rep.decision.reason,
        rows: { train: rep.rows.train, holdout: rep.rows.holdout },
        holdoutMae: rep.holdout ? { candidate: rep.holdout.candidate.mae, live: rep.holdout.live.mae } : null,
        validationMae: rep.validation
          ? { candidate: rep.validation.candidate.mae, live: rep.validation.live.mae }
          : null,
        changes: (rep.change?.changes ?? []).map(({ segment, at, mean_before, mean_after }) => ({
          segment,
          at,
          mean_before,
          mean_after,
        })),
        rowsLeftOut: rep.change?.rows_left_out ?? 0,
        seconds,
      };
      console.log(
        `  retrain (${label}): ${out.action.toUpperCase()} in ${seconds.toFixed(0)} s: ${out.reason}`,
      );
      for (const c of out.changes) {
        console.log(
          `    change found: ${c.segment} from ${c.at} (mean residual ${c.mean_before.toFixed(2)} -> ` +
            `${c.mean_after.toFixed(2)} min); ${out.rowsLeftOut} rows before it left out of the fit`,
        );
      }
      return out;
    };

    const promote = async (version: string): Promise<void> => {
      const { stdout, stderr } = await execFileAsync(
        process.execPath,
        [
          join(root, 'services/ml-proxy/src/cli/release.ts'),
          ...['promote', '--model', MODEL, '--by', 'drift-run', '--reason', `drift run: v${version}`],
          ...['--repository', repository, '--proxy', suite.ml.origin, '--rows', dbUrl.toString(), '--wait'],
        ],
        { cwd: root, env: process.env },
      );
      console.log(`  promote: ${(stderr + stdout).trim().split('\n').slice(-3).join(' | ')}`);
    };

    const started = (r: ReplayReport) => r.run!.startedAt;
    const t0 = Date.now();
    await replay('before', false);
    const control = await retrain('control', started(await replay('beforeheld', false)));
    if (control.action !== 'decline') throw new Error(`drift: without the shift the job ${control.action}ed`);

    const shiftAt = Date.now();
    await replay('shift', true);
    const shifted = await retrain('shift', started(await replay('shiftheld', true)));
    if (shifted.action !== 'publish') throw new Error(`drift: with the shift the job ${shifted.action}d`);
    // The proxy mirrors the candidate once a repository scan (MODEL_POLL_INTERVAL_SECONDS) has loaded it.
    const shadowAndPromote = async (version: string, shadow: Phase): Promise<number> => {
      const publishedAt = Date.now();
      await untilReady(`${suite.ml.origin}/v2/models/${MODEL}/versions/${version}/ready`);
      console.log(
        `  candidate v${version} loaded by the proxy ${((Date.now() - publishedAt) / 1000).toFixed(0)} s after the publish`,
      );
      await replay(shadow, true);
      await promote(version);
      return Date.now();
    };
    const promotedAt = await shadowAndPromote(shifted.version!, 'shadow');
    await replay('after', true);

    // The next day's run: the same job, continuing from the version it promoted, on every row so far.
    const second = await retrain('second', started(await replay('afterheld', true)));
    if (second.action === 'publish') {
      await shadowAndPromote(second.version!, 'shadow2');
      await replay('after2', true);
    }

    const accuracy = (
      await query<{
        phase: Phase;
        shifted: boolean;
        version: string;
        rows: string;
        mae: number;
        bias: number;
        scaled_mae: number;
      }>(
        `SELECT split_part(substr(order_id, $1), '-', 1) AS phase,
                (features->>'region_class')::float = $2 AS shifted, model_version AS version,
                count(*) AS rows, avg(abs(p50 - actual_minutes)) AS mae, avg(p50 - actual_minutes) AS bias,
                avg(abs(p50 * $4 - actual_minutes)) AS scaled_mae
         FROM training_rows WHERE order_id LIKE $3 GROUP BY 1, 2, 3`,
        [runId.length + 1, SHIFT.code, `${runId}%`, SHIFT.factor],
      )
    ).map(({ scaled_mae, ...r }): PhaseAccuracy => ({
      ...r,
      rows: Number(r.rows),
      mae: Number(r.mae),
      bias: Number(r.bias),
      scaledMae: Number(scaled_mae),
    }));
    const told = (a: PhaseAccuracy) => a.shifted && a.version === '2' && SHIFTED_PHASES.includes(a.phase);
    accuracy.sort(
      (a, b) =>
        PHASES.indexOf(a.phase) - PHASES.indexOf(b.phase) ||
        Number(b.shifted) - Number(a.shifted) ||
        a.version.localeCompare(b.version),
    );
    console.log('\n  served p50 against actual minutes, from training_rows (minutes):');
    printTable(
      accuracy.map((a) => ({
        phase: a.phase,
        dongs: a.shifted ? `${SHIFT.cls} (shifted)` : 'others',
        'served by': `v${a.version}`,
        orders: a.rows.toLocaleString('en-US'),
        MAE: a.mae.toFixed(2),
        bias: (a.bias >= 0 ? '+' : '') + a.bias.toFixed(2),
        [`MAE told of the shift (p50 x ${SHIFT.factor})`]: told(a) ? a.scaledMae.toFixed(2) : '',
      })),
    );
    const shiftToPromotion = (promotedAt - shiftAt) / 1000;
    console.log(
      `  shift to the first promotion: ${shiftToPromotion.toFixed(0)} s wall = ` +
        `${((shiftToPromotion * speed) / 3_600).toFixed(1)} h of the dataset's clock at --speed ${speed} ` +
        `(three replayed service days: shift, shiftheld, shadow); whole run ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    return {
      simulatedShift: { ...SHIFT },
      speed,
      orders,
      quick,
      retrain: { control, shift: shifted, second },
      accuracy,
      shiftToPromotionSeconds: shiftToPromotion,
      shiftToPromotionDatasetHours: (shiftToPromotion * speed) / 3_600,
    };
  } finally {
    for (const c of cleanups.reverse()) {
      await Promise.resolve()
        .then(c)
        .catch((err: unknown) => console.error(`drift: cleanup failed: ${String(err)}`));
    }
  }
}

interface RetrainReport {
  decision: { action: string; version: string | null; reason: string };
  rows: { train: number; holdout: number };
  holdout?: { candidate: { mae: number }; live: { mae: number } };
  validation?: { candidate: { mae: number }; live: { mae: number } };
  change?: { changes: RetrainChange[]; rows_left_out: number } | null;
}

async function untilReady(url: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > until) throw new Error(`drift: ${url} not ready after ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** The one JSON report a retrain run wrote into its own folder. */
function readdirJson(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`drift: expected one report in ${dir}, found ${files.length}`);
  return join(dir, files[0]!);
}

// Standalone: `node loadtest/scenarios/drift.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
