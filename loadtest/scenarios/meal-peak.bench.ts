/**
 * A day of Seoul delivery demand, compressed (issue 14): the share of orders per 15-minute slot from the real
 * order times (loadtest/meal-peak/demand-curve.json, derived from the dataset's Time_Orderd), on Seoul's clock,
 * scaled so the busiest slot offers --peak-rate requests/s, one simulated day in 86,400 / --speed seconds
 * (default 200 s) after a short warm-up. Open model: every slot's requests are due on schedule whatever the
 * suite does, latency counts from the scheduled time (lib/meal-peak/day.ts).
 *
 * Requests (lib/meal-peak/requests.ts): store-list pages (rough, 50 stores each), store detail and checkout
 * (precise), and a trickle of store owners reading their settings (admin API, owner JWTs); stores by Zipf
 * popularity over the 5,000 seeded ids; destinations within --jitter-m of subway stations weighted by the
 * people arriving there (loadtest/meal-peak/hot-spots.json), always inside the service area.
 *
 * Local (default): the suite started exactly as the run command starts it (lib/suite.ts), called with a
 * service JWT from `pnpm dev:token --service` as real callers are; service keys set in the environment reach
 * the services and make the header say NOT AS SHIPPED. Remote: `--target <http://base>` starts nothing and
 * sends to that suite with BENCH_TARGET_TOKEN (a service credential) and, for the admin traffic,
 * BENCH_TARGET_OWNER_TOKENS (comma-separated owner JWTs; without them there is no admin traffic). Options:
 * lib/meal-peak/options.ts (`node loadtest/scenarios/meal-peak.bench.ts --help`).
 *
 * Verdict: per-route SLOs (p99, error rate, degraded share; defaults are the suite's stated SLOs) in every
 * slot with enough requests and over the whole day. A broken SLO fails the scenario (`pnpm bench` exits 1)
 * naming the route and slot; a generator that could not keep the schedule makes the run INVALID (also a
 * failure, but not the suite's). Report: loadtest/results/meal-peak/<time>/ (report.json, summary.md,
 * report.html with ECharts inlined). How the data was derived: loadtest/meal-peak/README.md.
 *
 *   pnpm bench meal-peak                                  (BENCH_QUICK=1 for a short functional run)
 *   pnpm bench meal-peak --peak-rate 300 --speed 288
 *   BENCH_TARGET_TOKEN=... pnpm bench meal-peak --target http://127.0.0.1:8080
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import {
  defaultEngine,
  formatMachineInfo,
  printTable,
  runStandalone,
  SkipScenario,
  type ScenarioOptions,
} from '../lib/index.ts';
import { bearerHeaders } from '../lib/estimates.ts';
import { loadServiceArea } from '../lib/meal-peak/area.ts';
import { runDay } from '../lib/meal-peak/day.ts';
import { parseDemandCurve, planDay, slotLabel, SLOT_MINUTES } from '../lib/meal-peak/demand.ts';
import { HotSpotSampler, parseHotSpots } from '../lib/meal-peak/hotspots.ts';
import { parseScrape, type Scrape } from '../lib/meal-peak/metrics.ts';
import { parseOptions, scenarioArgs, USAGE, type MealPeakOptions } from '../lib/meal-peak/options.ts';
import { dayCaches, verdictHeadline, writeReport, type MealPeakReport } from '../lib/meal-peak/report.ts';
import { seoulDate, slotMix, type Owner } from '../lib/meal-peak/requests.ts';
import { ROUTES } from '../lib/meal-peak/routes.ts';
import { evaluateSlo, generatorGuard, verdictOf } from '../lib/meal-peak/slo.ts';
import { StorePopularity } from '../lib/meal-peak/zipf.ts';
import { devServiceToken, startSuite, suiteOverrides, suiteRoot, type Suite } from '../lib/suite.ts';

const run_ = promisify(execFile);
/** Stores each local owner token holds (ranks 3j+1..3j+3 of the popularity order: owners of busy stores). */
const STORES_PER_OWNER = 3;

/** Store owners' tokens as the README makes them: `pnpm dev:token --store <ids> --sub <subject>`. */
async function localOwners(root: string, stores: StorePopularity, count: number): Promise<Owner[]> {
  const cli = join(root, 'services', 'vendor-bff', 'src', 'cli', 'dev-token.ts');
  const owners: Owner[] = [];
  // Two at a time: each is a Node start-up, and the suite is starting beside them.
  for (let j = 0; j < count; j += 2) {
    const batch = [j, j + 1].filter((k) => k < count);
    owners.push(
      ...(await Promise.all(
        batch.map(async (k) => {
          const storeIds = Array.from({ length: STORES_PER_OWNER }, (_, s) =>
            stores.idOfRank(((k * STORES_PER_OWNER + s) % stores.stores) + 1),
          );
          const { stdout } = await run_(process.execPath, [
            cli,
            '--store',
            storeIds.join(','),
            '--sub',
            `meal-peak-owner-${k + 1}`,
          ]);
          return { headers: { authorization: `Bearer ${stdout.trim()}` }, storeIds };
        }),
      )),
    );
  }
  return owners;
}

/** Remote owners: each token's stores from `GET /v1/me`, as the admin web learns them. */
async function remoteOwners(
  target: string,
  tokens: readonly string[],
  stores: StorePopularity,
): Promise<Owner[]> {
  return Promise.all(
    tokens.map(async (token, k) => {
      const headers = { authorization: `Bearer ${token}` };
      const res = await fetch(`${target}/v1/me`, { headers });
      if (!res.ok) throw new Error(`owner token ${k + 1}: GET /v1/me answered ${res.status}`);
      const me = (await res.json()) as { storeIds?: number[] };
      // An operator's token names no stores: it may read any, so take the most popular ones.
      const storeIds =
        me.storeIds !== undefined && me.storeIds.length > 0
          ? me.storeIds
          : [1, 2, 3].map((r) => stores.idOfRank(r));
      return { headers, storeIds };
    }),
  );
}

function echartsSource(root: string): string | null {
  try {
    const require = createRequire(join(root, 'services', 'admin-web', 'package.json'));
    return readFileSync(require.resolve('echarts/dist/echarts.min'), 'utf8');
  } catch {
    return null;
  }
}

function describePlan(o: MealPeakOptions, slots: number, dayMs: number, requests: number): string {
  return (
    `${slots} slots of ${SLOT_MINUTES} min (${slotLabel(o.fromSlot)}-${slotLabel(o.toSlot)} Seoul) in ${(dayMs / 1000).toFixed(0)} s ` +
    `(speed ${o.speed}), peak ${o.peakRate}/s, floor ${o.floor * 100} % of peak, ${requests} requests after a ${o.warmupMs / 1000} s warm-up`
  );
}

export async function run(opts: ScenarioOptions): Promise<MealPeakReport> {
  const o = parseOptions(scenarioArgs(), opts.quick);
  if (defaultEngine() !== 'go') {
    throw new SkipScenario(
      "meal-peak needs the go engine's per-request records (BENCH_ENGINE=node cannot give them)",
    );
  }
  const data = join(opts.root, 'loadtest', 'meal-peak');
  const curve = parseDemandCurve(JSON.parse(readFileSync(join(data, 'demand-curve.json'), 'utf8')));
  const hot = parseHotSpots(JSON.parse(readFileSync(join(data, 'hot-spots.json'), 'utf8')));
  const inArea = await loadServiceArea(opts.root);
  const spots = new HotSpotSampler(hot.spots, { radiusM: o.jitterM, inArea });
  const stores = new StorePopularity(o.stores, o.zipfExponent, o.seed);
  const plan = planDay(curve.share, {
    peakRate: o.peakRate,
    speed: o.speed,
    floor: o.floor,
    fromSlot: o.fromSlot,
    toSlot: o.toSlot,
  });
  const startedAt = new Date();
  const date = seoulDate(startedAt);

  let suite: Suite | null = null;
  let origin: string;
  let token: string;
  let owners: Owner[] = [];
  let credential: string;
  let adminTraffic: string;
  let asShipped: boolean | null = null;
  let overrides: Record<string, string> = {};
  try {
    if (o.target !== null) {
      const t = process.env.BENCH_TARGET_TOKEN;
      if (t === undefined || t === '')
        throw new Error('--target needs BENCH_TARGET_TOKEN (a service credential the target accepts)');
      origin = o.target;
      token = t;
      credential = 'BENCH_TARGET_TOKEN';
      const ownerTokens = (process.env.BENCH_TARGET_OWNER_TOKENS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      owners = await remoteOwners(origin, ownerTokens, stores);
      adminTraffic =
        owners.length > 0
          ? `${owners.length} owner tokens (BENCH_TARGET_OWNER_TOKENS)`
          : 'none (BENCH_TARGET_OWNER_TOKENS not set)';
      console.log(
        `meal-peak: REMOTE target ${origin}; nothing started here; ${describePlan(o, plan.slots.length, plan.dayMs, plan.requests)}`,
      );
    } else {
      const root = suiteRoot(opts.root);
      overrides = suiteOverrides(opts.root);
      if (root !== opts.root) overrides.BENCH_SUITE_ROOT = root;
      asShipped = Object.keys(overrides).length === 0;
      suite = await startSuite({ root });
      origin = suite.bff.origin;
      token = devServiceToken(root, 'meal-peak');
      owners = await localOwners(root, stores, o.mix.admin > 0 ? o.owners : 0);
      credential = 'service JWT from pnpm dev:token --service';
      adminTraffic =
        owners.length > 0
          ? `${owners.length} owners (pnpm dev:token --store), ${STORES_PER_OWNER} stores each`
          : 'none (--mix admin=0)';
      console.log(
        `meal-peak: ${asShipped ? 'AS SHIPPED' : `NOT AS SHIPPED (overrides from the environment: ${JSON.stringify(overrides)})`} ` +
          `(the run command's configuration; ${credential}); ${describePlan(o, plan.slots.length, plan.dayMs, plan.requests)}`,
      );
    }
    const weights = { ...o.mix, admin: owners.length > 0 ? o.mix.admin : 0 };
    if (Object.values(weights).every((w) => w === 0))
      throw new Error('the request mix is empty (only admin, and no owners)');
    const mixDeps = {
      serviceHeaders: bearerHeaders(token),
      owners,
      stores,
      spots,
      pageSize: o.pageSize,
      weights,
    };
    const processes =
      suite === null ? null : { bff: suite.bff.origin, geo: suite.geo.origin, ml: suite.ml.origin };

    const day = await runDay({
      origin,
      plan,
      warmupMs: o.warmupMs,
      timeoutMs: o.timeoutMs,
      seed: o.seed,
      pageSize: o.pageSize,
      mixFor: (slot, routes) =>
        slotMix(
          mixDeps,
          { date, startMinute: slot.minuteOfDay, minutes: SLOT_MINUTES, count: slot.requests },
          routes,
        ),
      scrape:
        processes === null
          ? null
          : async () => {
              const texts = await Promise.all(
                Object.entries(processes).map(
                  async ([name, base]) =>
                    [name, parseScrape(await (await fetch(`${base}/metrics`)).text())] as const,
                ),
              );
              return Object.fromEntries(texts) as Record<string, Scrape>;
            },
    });

    const { breaches, judged, notJudged } = evaluateSlo(day.slots, day.run, o.slo, o.minSamples);
    const guard = generatorGuard(
      day.slots.map((s) => s.generator),
      { maxLagMs: o.maxLagMs, maxStartSlip: o.maxStartSlip, minSamples: o.minSamples },
    );
    const verdict = verdictOf(breaches, guard);
    const reportBase = {
      scenario: 'meal-peak' as const,
      startedAt: startedAt.toISOString(),
      quick: opts.quick,
      verdict,
      breaches,
      guard,
      slotsJudged: judged,
      slotsNotJudged: notJudged,
      configuration: {
        mode: o.target === null ? ('local' as const) : ('remote' as const),
        target: o.target,
        asShipped,
        overrides,
        credential,
        adminTraffic,
        options: o,
        machine: formatMachineInfo(opts.machine),
      },
      plan: {
        speed: plan.speed,
        slotSeconds: plan.slotMs / 1000,
        daySeconds: plan.dayMs / 1000,
        peakRate: plan.peakRate,
        floor: plan.floor,
        requests: plan.requests,
        demand: `${curve.rows.used} orders' Time_Orderd (${curve.rows.missing} missing dropped), 15-min slots, one-hour moving average; ${curve.mapping}`,
        hotSpots: `${hot.spots.length} stations in the service area weighted by total inflow (loadtest/meal-peak/hot-spots.json)`,
      },
      warmup: day.warmup,
      run: day.run,
      caches: dayCaches(day.slots),
      slots: day.slots,
    };
    const report: MealPeakReport = { ...reportBase, summary: verdictHeadline(reportBase) };
    const files = writeReport(join(opts.root, 'loadtest', 'results'), report, echartsSource(opts.root));

    console.log('\nmeal-peak, whole day (latency of successful requests from their scheduled time):');
    printTable(
      ROUTES.map((r) => {
        const f = day.run[r];
        const v = (x: number | null) => (x === null ? '-' : x.toFixed(2));
        return {
          route: r,
          requests: f.scheduled,
          'offered/s': f.offeredRate,
          p50: v(f.p50Ms),
          p95: v(f.p95Ms),
          p99: v(f.p99Ms),
          'p99 SLO': o.slo[r].p99Ms,
          errors: f.errors,
          degraded: f.degradedShare === null ? '-' : `${(f.degradedShare * 100).toFixed(2)}%`,
        };
      }),
    );
    if (report.caches !== null) {
      printTable(
        Object.entries(report.caches)
          .sort()
          .map(([k, v]) => ({
            'process/cache/tier': k,
            lookups: v.lookups,
            'hit ratio': v.hitRatio === null ? '-' : `${(v.hitRatio * 100).toFixed(1)}%`,
            bypassed: v.bypassed,
          })),
      );
    }
    console.log(
      `generator: worst slot lag p99 ${guard.worstLagP99Ms.toFixed(2)} ms (limit ${o.maxLagMs}), worst start slip ` +
        `${guard.worstStartSlipMs} ms, ${guard.issues.length} issue(s)${guard.valid ? '' : ': RUN INVALID'}`,
    );
    console.log(`meal-peak: ${report.summary}`);
    console.log(`report: ${files.html}\n        ${files.markdown}\n        ${files.json}`);
    if (verdict !== 'pass') {
      // A verdict, not a bug: the message is what the runner shows, without a stack trace.
      const err = new Error(`meal-peak ${report.summary}. Report: ${relative(process.cwd(), files.html)}`);
      err.stack = err.message;
      throw err;
    }
    return report;
  } finally {
    await suite?.stop();
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
  } else {
    if (args.length > 0) process.env.BENCH_SCENARIO_ARGS = JSON.stringify(args);
    try {
      await runStandalone(run);
    } catch (err) {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exitCode = 1;
    }
  }
}
