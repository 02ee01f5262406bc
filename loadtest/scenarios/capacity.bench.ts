/**
 * Capacity per role (issue 14): for the BFF's precise, rough and admin roles, Geo and the ML proxy, the
 * highest request rate ONE process serves with its p99 within the SLO and no failed request, and what that
 * costs it: CPU per request, CPU at capacity (in % of one core, and in % of the chart's CPU request, the unit
 * the HPA sees), the busiest second's CPU (the ceiling), start time (spawn to ready) and resident set after
 * load. Written to the capacity file the pre-scale plan and the simulator read (deploy/capacity.json, format
 * services/prescaler/src/learn/capacity.schema.json), and to loadtest/results/<time>.json as every scenario.
 *
 * What runs: the role under test is one process started with the run command's configuration
 * (scripts/suite.ts) and the images' Node flags; a BFF role gets ROLE=<role>, as the chart runs each role as
 * its own Deployment (the run command's ROLE=all would serve every route from one process: not a pod). Its
 * callers' credentials are the real kinds: a service JWT from `pnpm dev:token --service` for the estimate
 * roles, store owners' JWTs (signed with the dev key as `pnpm dev:token --store` signs them, in process, one
 * per owner so none reaches the admin API's per-owner rate limit) for the admin role. A BFF role's Geo and ML
 * proxy are separate processes, also as the run command starts them, that only have to keep up (their CPU is
 * printed). Geo and the ML proxy are driven directly with the calls the BFF makes: the precise path's (one
 * pair, one row) and a rough cache miss's (one origin to 51 points, 50 rows), in the meal-peak mix's
 * proportion. Service keys set in the environment reach every process as they would reach the run command,
 * and make the header say NOT AS SHIPPED.
 *
 * Cache effect: precise and rough are searched twice, (cold) a fresh uniform destination and uniform stores on
 * every request, and (warm) the meal-peak mix: Zipf store popularity and destinations around the subway
 * stations people arrive at. Each search starts a fresh process. The BFF's /metrics are read before and after
 * every step for the L1/L2 hit ratios (@eta/cache's cache_{hits,stale,misses}_total per cache and tier; L2 is
 * Redis, only with REDIS_URL). The capacity file takes the cold figure (the conservative one) and keeps the
 * warm one, its hit ratios and the ratio warm/cold in the role's meta.
 *
 * Search (lib/capacity/search.ts): a geometric ramp (× 2) from a start rate per role, then a bisection between
 * the highest rate that passed and the lowest that missed until they are within 5 %. Every step is a fresh
 * open-loop run at a fixed rate (latency from each request's scheduled time): 5 s of unmeasured load at the
 * rate, 10 s measured, 2 s pause. A step passes with 0 failed requests (a degraded estimate fails its check),
 * p99 within the SLO, and a generator that kept up (send lag p99 <= 25 ms; otherwise the step measured the
 * generator and counts as a miss, said as such). SLOs: the meal-peak scenario's per route (p99 250 ms, the
 * BFF's estimate budget); Geo and the ML proxy the BFF's per-call timeouts (50 and 80 ms).
 *
 *   pnpm bench capacity                       (BENCH_QUICK=1: short functional run, file under loadtest/results/)
 *   node loadtest/scenarios/capacity.bench.ts
 *   BENCH_CAPACITY_ROLES=geo,ml-proxy BENCH_CAPACITY_SLO_P99_MS=precise=25 ... (lib/capacity/options.ts)
 *
 * Full run: each search takes at most ~12 steps of ~18 s plus a start; seven searches, about 20-30 minutes.
 * On a two-core machine the generator and the role's dependencies share the cores with the role under test,
 * so a BFF role's figure is a lower bound for a dedicated core; the CPU columns show how close to a core the
 * role itself got. Nothing here asserts on speed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { AbortSearch, searchCapacity, worstCaseSteps, type SearchBounds } from '../lib/capacity/search.ts';
import { chartCpuRequests } from '../lib/capacity/charts.ts';
import {
  capacityFile,
  capacityStep,
  isLowerBound,
  type CapacityDoc,
  type RoleMeasurement,
  type StepFigures,
} from '../lib/capacity/file.ts';
import { generatorOnly, judgeStep } from '../lib/capacity/judge.ts';
import {
  adminLoad,
  estimateLoad,
  geoLoad,
  mlLoad,
  ownersFor,
  type Owner,
  type RoleLoad,
  type WarmDeps,
} from '../lib/capacity/mixes.ts';
import {
  CACHE_ROLES,
  CAPACITY_USAGE,
  parseCapacityOptions,
  TARGET_OF,
  type CacheCase,
  type CapacityOptions,
  type CapacityRole,
} from '../lib/capacity/options.ts';
import { exitedYet, roleEnvOf, serviceOf, startRole } from '../lib/capacity/processes.ts';
import { CpuSampler, peakCores, readCpuSeconds, readMemory, type CpuSample } from '../lib/capacity/proc.ts';
import { devSigner } from '../lib/capacity/tokens.ts';
import { bearerHeaders } from '../lib/estimates.ts';
import {
  fmtMs,
  formatMachineInfo,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  type LoadResult,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';
import { loadServiceArea } from '../lib/meal-peak/area.ts';
import { HotSpotSampler, parseHotSpots } from '../lib/meal-peak/hotspots.ts';
import { hitRatios, parseScrape, type Scrape } from '../lib/meal-peak/metrics.ts';
import { StorePopularity } from '../lib/meal-peak/zipf.ts';
import { devServiceToken, suiteOverrides, suiteRoot } from '../lib/suite.ts';

/** The admin API's default per-subject limit is 120/min (2/s); each owner is kept well under it. */
const ADMIN_PER_OWNER_PER_SECOND = 1.5;
/** The BFF's AUTH_VERIFIED_CACHE_ENTRIES default: more owners than this and verifications stop being cached. */
const VERIFIED_CACHE_ENTRIES = 10_000;
/** Stores each owner holds (as the meal-peak scenario's owners). */
const STORES_PER_OWNER = 3;
/** Rough per-step overhead beyond warm-up, window and pause (building the requests, scrapes), and per start. */
const STEP_OVERHEAD_S = 1.5;
const START_S: Readonly<Record<string, number>> = { 'vendor-bff': 40, geo: 5, 'ml-proxy': 10 };

export interface CapacityFigures {
  readonly header: string;
  readonly options: CapacityOptions;
  readonly cpuRequestMilli: Readonly<Record<CapacityRole, number>>;
  readonly expectedSeconds: number;
  readonly measurements: readonly RoleMeasurement[];
  readonly capacityFile: CapacityDoc;
  /** Where the file was written; null when not (BENCH_CAPACITY_OUT=none, or no role had a capacity). */
  readonly capacityFilePath: string | null;
}

interface ParseCapacityModule {
  parseCapacity(text: string): unknown;
}

function gitCommit(root: string): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    return dirty === '' ? sha : `${sha} with uncommitted changes`;
  } catch {
    return 'unknown commit';
  }
}

async function metricsScrape(origin: string): Promise<Scrape> {
  return parseScrape(await (await fetch(`${origin}/metrics`)).text());
}

/** The resident set now and at its peak; nulls when the process is gone. */
function memoryOf(pid: number): { rssMb: number | null; peakRssMb: number | null } {
  try {
    return readMemory(pid);
  } catch {
    return { rssMb: null, peakRssMb: null };
  }
}

/**
 * One step: a fresh open-loop run at `rate` against the role, with its CPU read from /proc before and after
 * (and sampled for the busiest second), the dependencies' CPU, and the BFF's cache counters around it.
 */
async function measureStep(a: {
  target: SpawnedService;
  deps: Readonly<Record<string, SpawnedService>>;
  scrapeCaches: boolean;
  load: RoleLoad;
  rate: number;
  o: CapacityOptions;
  label: string;
}): Promise<{ result: LoadResult; figures: StepFigures }> {
  const { target, deps, load, rate, o } = a;
  const before = a.scrapeCaches ? await metricsScrape(target.origin) : null;
  const depBefore = Object.fromEntries(Object.entries(deps).map(([n, s]) => [n, readCpuSeconds(s.pid)]));
  const cpu0 = readCpuSeconds(target.pid);
  const sampler = new CpuSampler(target.pid);
  let samples: readonly CpuSample[];
  let result: LoadResult;
  try {
    result = await runLoad({
      origin: target.origin,
      mix: load.mix,
      rate,
      durationMs: o.stepMs,
      warmupMs: o.warmupMs,
      timeoutMs: o.timeoutMs,
      label: a.label,
      // A new seed per step: fresh destinations (cold), and no replay of an earlier step's keys (warm).
      seed: o.seed * 7919 + rate,
      check: load.check,
    });
  } finally {
    samples = sampler.stop();
  }
  const cpu1 = readCpuSeconds(target.pid);
  const after = a.scrapeCaches ? await metricsScrape(target.origin) : null;
  // The load period: warm-up and window at the rate (the generator builds the requests before it, when the
  // role is idle, and drains after it).
  const seconds = (o.warmupMs + o.stepMs) / 1000;
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  const l = result.latencyMs;
  const figures: StepFigures = {
    offeredRate: rate,
    achievedRate: Math.round(result.achievedRate),
    scheduled: result.scheduled,
    ok: result.ok,
    errors: result.errors,
    errorsByKind: result.errorsByKind as Record<string, number>,
    errorSamples: Object.fromEntries(
      Object.entries(result.errorSamples).map(([k, v]) => [k, String(v).slice(0, 300)]),
    ),
    p50Ms: l.p50,
    p99Ms: l.p99,
    p999Ms: l.p999,
    maxMs: l.max,
    lagP99Ms: result.schedulingLagMs.p99,
    cpuUsPerRequest: Math.round(((cpu1 - cpu0) * 1e6) / (rate * seconds)),
    cpuCores: round3((cpu1 - cpu0) / seconds),
    peakCores: round3(peakCores(samples)),
    depCores: Object.fromEntries(
      Object.entries(deps).map(([n, s]) => [n, round3((readCpuSeconds(s.pid) - depBefore[n]!) / seconds)]),
    ),
    rssMb: memoryOf(target.pid).rssMb,
    // By `<cache>/<tier>`: `stores/l1`, `rough-estimates/l1`, ...
    hitRatios:
      before !== null && after !== null
        ? Object.fromEntries(
            Object.entries(hitRatios({ bff: before }, { bff: after })).map(([k, v]) => [
              k.replace(/^bff\//, ''),
              v,
            ]),
          )
        : null,
  };
  return { result, figures };
}

/** The searches to run, in order: (role, cache case). */
function plan(o: CapacityOptions): { role: CapacityRole; cache: CacheCase | null }[] {
  return o.roles.flatMap((role): { role: CapacityRole; cache: CacheCase | null }[] =>
    CACHE_ROLES.includes(role) ? o.cacheCases.map((cache) => ({ role, cache })) : [{ role, cache: null }],
  );
}

function boundsOf(o: CapacityOptions, role: CapacityRole): SearchBounds {
  return { ...o.bounds[role], factor: o.factor, resolution: o.resolution, maxSteps: o.maxSteps };
}

/** At most how long the run takes: every search at its worst-case step count, plus the starts. */
export function expectedSeconds(o: CapacityOptions): number {
  const step = (o.warmupMs + o.stepMs + o.cooldownMs) / 1000 + STEP_OVERHEAD_S;
  return Math.round(
    plan(o).reduce(
      (s, p) => s + worstCaseSteps(boundsOf(o, p.role)) * step + (START_S[serviceOf(p.role)] ?? 10),
      0,
    ),
  );
}

function limitOf(m: Pick<RoleMeasurement, 'search'>, o: CapacityOptions, role: CapacityRole): string {
  const s = m.search;
  const missAt = s.steps.find((x) => !x.pass && x.rate === s.hi);
  switch (s.stop) {
    case 'upper-bound':
      return `passed at the search's upper bound ${o.bounds[role].max}/s: the capacity is at least that`;
    case 'below-min':
      return `missed even at the lowest rate ${o.bounds[role].min}/s: ${missAt?.reason ?? ''}`;
    case 'aborted':
      return `aborted: ${s.abortReason ?? ''}`;
    case 'max-steps':
      if (s.hi === null) {
        return `step limit ${o.maxSteps} reached with every step passing: the capacity is at least ${s.lo}/s`;
      }
      if (s.lo === null)
        return `step limit ${o.maxSteps} reached with every step missing: ${missAt?.reason ?? ''}`;
      return `${s.hi}/s missed: ${missAt?.reason ?? ''}${generatorNote(missAt?.reason ?? null)}; step limit ${o.maxSteps} reached before the resolution`;
    default:
      return `${s.hi}/s missed: ${missAt?.reason ?? ''}${generatorNote(missAt?.reason ?? null)}`;
  }
}

function generatorNote(reason: string | null): string {
  return generatorOnly(reason) ? ' (THE GENERATOR, not the role: the capacity is at least the figure)' : '';
}

export async function run(opts: ScenarioOptions): Promise<CapacityFigures> {
  const o = parseCapacityOptions(process.env, opts.quick);
  const root = suiteRoot(opts.root);
  const overrides = suiteOverrides(opts.root);
  if (root !== opts.root) overrides.BENCH_SUITE_ROOT = root;
  const asShipped = Object.keys(overrides).length === 0;
  const requests = await chartCpuRequests(opts.root);
  const searches = plan(o);

  // Callers' credentials, the kinds real callers use.
  const needsService = o.roles.some((r) => r === 'precise' || r === 'rough');
  const headers = needsService ? bearerHeaders(devServiceToken(root, 'capacity')) : {};
  let owners: Owner[] = [];
  if (o.roles.includes('admin')) {
    const signer = await devSigner(root);
    const n = ownersFor(o.bounds.admin.max, ADMIN_PER_OWNER_PER_SECOND);
    if (n > VERIFIED_CACHE_ENTRIES) {
      console.log(
        `WARNING: ${n} owners for an admin search up to ${o.bounds.admin.max}/s is more than the BFF's verified-token ` +
          `cache holds (AUTH_VERIFIED_CACHE_ENTRIES, ${VERIFIED_CACHE_ENTRIES}): requests will pay signature checks`,
      );
    }
    owners = Array.from({ length: n }, (_, k) => {
      const storeIds = Array.from(
        { length: STORES_PER_OWNER },
        (_, s) => ((k * STORES_PER_OWNER + s) % o.stores) + 1,
      );
      return { token: signer.owner(`capacity-owner-${k + 1}`, storeIds), storeIds };
    });
  }
  // The meal-peak mix's store popularity and hot spots, for the warm-cache searches.
  let warm: WarmDeps | null = null;
  if (searches.some((s) => s.cache === 'warm')) {
    const hot = parseHotSpots(
      JSON.parse(readFileSync(join(opts.root, 'loadtest', 'meal-peak', 'hot-spots.json'), 'utf8')),
    );
    warm = {
      stores: new StorePopularity(o.stores, o.zipfExponent, o.seed),
      spots: new HotSpotSampler(hot.spots, { radiusM: o.jitterM, inArea: await loadServiceArea(root) }),
    };
  }

  const expected = expectedSeconds(o);
  const configuration = {
    asShipped,
    overrides,
    processes:
      "each role one process with the run command's configuration (scripts/suite.ts) and the images' Node flags",
    roleOverride:
      'BFF roles get ROLE=<role> (precise, rough, admin), as the chart runs each role in its own Deployment; ' +
      "the run command's ROLE=all serves every route from one process, which no pod does",
    credentials:
      (needsService ? 'service JWT from pnpm dev:token --service capacity' : 'no service credential needed') +
      (owners.length > 0
        ? `; ${owners.length} store owners' JWTs (dev key, as pnpm dev:token --store), in turn, each under the admin API's per-owner limit`
        : ''),
    dependencies:
      "a BFF role's Geo and ML proxy: one process each, the run command's configuration, not the role under test",
    cpuRequestMilli: Object.fromEntries(o.roles.map((r) => [r, requests[r]])),
  };
  const header = [
    `capacity: ${asShipped ? 'AS SHIPPED' : `NOT AS SHIPPED (overrides from the environment: ${JSON.stringify(overrides)})`}: ` +
      configuration.processes,
    `  override: ${configuration.roleOverride}`,
    `  credentials: ${configuration.credentials}`,
    `  dependencies: ${configuration.dependencies}`,
    `  SLOs (p99 of successful requests from the scheduled time; max failed share, degraded estimates count as failed): ` +
      o.roles.map((r) => `${r} ${o.slo[r].p99Ms}ms/${o.slo[r].maxErrorRate}`).join(', '),
    `  search: ramp x${o.factor} from ${o.roles.map((r) => `${r} ${o.bounds[r].start}`).join(', ')}/s within ` +
      `[min, max], then bisection to ${o.resolution * 100}%, at most ${o.maxSteps} steps; each step a fresh open-loop run: ` +
      `${o.warmupMs / 1000}s warm-up + ${o.stepMs / 1000}s measured + ${o.cooldownMs / 1000}s pause; generator lag p99 <= ${o.maxLagMs}ms`,
    `  searches: ${searches.map((s) => `${s.role}${s.cache === null ? '' : `/${s.cache}`}`).join(', ')}; ` +
      `CPU requests from the charts: ${o.roles.map((r) => `${r} ${requests[r]}m`).join(', ')}`,
    `  expected duration: at most ~${Math.ceil(expected / 60)} min${opts.quick ? ' (BENCH_QUICK: a functional check, the numbers mean little)' : ''}`,
  ].join('\n');
  console.log(header);

  const measurements: RoleMeasurement[] = [];
  for (const { role, cache } of searches) {
    const label = `${role}${cache === null ? '' : `/${cache}`}`;
    console.log(
      `\n--- ${label}: starting ${serviceOf(role)}${serviceOf(role) === 'vendor-bff' ? ` (ROLE=${role}) with Geo and the ML proxy` : ''}`,
    );
    const procs = await startRole(root, role);
    try {
      const target = procs.role;
      const isBff = serviceOf(role) === 'vendor-bff';
      console.log(`${label}: ready in ${procs.startMs} ms (spawn to /readyz 200), pid ${target.pid}`);
      let describe = '';
      const loadFor = (total: number): RoleLoad => {
        if (role === 'precise' || role === 'rough')
          return estimateLoad(role, cache!, headers, o, warm, total);
        if (role === 'admin') return adminLoad(owners);
        if (role === 'geo') return geoLoad(o);
        return mlLoad(root, o);
      };
      const search = await searchCapacity<StepFigures>(boundsOf(o, role), async (rate, phase) => {
        for (const svc of [target, ...Object.values(procs.deps)]) {
          const gone = await exitedYet(svc);
          if (gone !== null) throw new AbortSearch(`${svc.name} exited (${gone})`);
        }
        const total = Math.round((rate * (o.warmupMs + o.stepMs)) / 1000);
        const load = loadFor(total);
        describe = load.describe;
        const { result, figures } = await measureStep({
          target,
          deps: procs.deps,
          scrapeCaches: isBff,
          load,
          rate,
          o,
          label: `${label}@${rate} ${phase}`,
        });
        const judged = judgeStep(result, o.slo[role], o.maxLagMs);
        printSummary(result);
        console.log(
          `  ${judged.pass ? 'PASS' : `MISS (${judged.reason})`}; ${role} CPU ${figures.cpuUsPerRequest} us/req, ` +
            `${(figures.cpuCores * 100).toFixed(0)}% of a core (busiest second ${(figures.peakCores * 100).toFixed(0)}%)` +
            `${
              Object.keys(figures.depCores).length > 0
                ? `; deps ${Object.entries(figures.depCores)
                    .map(([n, c]) => `${n} ${(c * 100).toFixed(0)}%`)
                    .join(', ')}`
                : ''
            }` +
            `${figures.hitRatios !== null ? `; hit ${hitLine(figures.hitRatios)}` : ''}`,
        );
        for (const [kind, sample] of Object.entries(figures.errorSamples)) {
          console.log(`    first ${kind}: ${sample}`);
        }
        if (o.cooldownMs > 0) await sleep(o.cooldownMs);
        return { pass: judged.pass, reason: judged.reason, figures };
      });
      const mem = memoryOf(target.pid);
      const m: RoleMeasurement = {
        role,
        cache,
        describe,
        roleEnv: roleEnvOf(role),
        requestMilli: requests[role],
        slo: o.slo[role],
        podStartMs: procs.startMs,
        search,
        rssMbAfterLoad: mem.rssMb,
        peakRssMb: mem.peakRssMb,
        limitedBy: '',
      };
      measurements.push({ ...m, limitedBy: limitOf(m, o, role) });
      console.log(
        `${label}: capacity ${search.capacity ?? 'none'}/s (${search.stop}; ${limitOf(m, o, role)}); ` +
          `RSS after load ${mem.rssMb} MB (peak ${mem.peakRssMb} MB)`,
      );
    } finally {
      await procs.stop();
    }
  }

  // Summary.
  console.log(
    `\ncapacity per role, one process each${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}:`,
  );
  printTable(
    measurements.map((m) => {
      const at = capacityStep(m);
      return {
        role: TARGET_OF[m.role],
        cache: m.cache ?? '-',
        'SLO p99': `${m.slo.p99Ms}ms`,
        'capacity/s':
          m.search.capacity === null ? 'none' : `${isLowerBound(m) ? '>=' : ''}${m.search.capacity}`,
        'missed at': m.search.hi ?? '-',
        steps: m.search.steps.length,
        'p99 at cap': at === null ? '-' : fmtMs(at.p99Ms),
        'cpu us/req': at?.cpuUsPerRequest ?? '-',
        '% core': at === null ? '-' : Math.round(at.cpuCores * 100),
        '% request': at === null ? '-' : Math.round((at.cpuCores * 100 * 1000) / m.requestMilli),
        'peak % core': Math.round(Math.max(0, ...m.search.steps.map((s) => s.figures?.peakCores ?? 0)) * 100),
        'start s': Math.round(m.podStartMs / 100) / 10,
        'rss MB': m.rssMbAfterLoad,
        'hit ratios at cap': at?.hitRatios ? hitLine(at.hitRatios) : '-',
      };
    }),
  );
  for (const role of CACHE_ROLES) {
    const cold = measurements.find((m) => m.role === role && m.cache === 'cold');
    const warmM = measurements.find((m) => m.role === role && m.cache === 'warm');
    const c = cold?.search.capacity;
    const w = warmM?.search.capacity;
    if (c && w) {
      const bound = isLowerBound(cold!) || isLowerBound(warmM!) ? ' (NOTE: a lower bound on one side)' : '';
      console.log(
        `${role}: warm/cold capacity ${(w / c).toFixed(2)} (${w}/s with the meal-peak mix, ${c}/s cold)${bound}`,
      );
    }
  }
  for (const m of measurements)
    console.log(`${TARGET_OF[m.role]}${m.cache ? `/${m.cache}` : ''}: ${m.limitedBy}`);

  // The capacity file.
  const measuredAt = new Date().toISOString();
  const outPath = o.out === null ? null : isAbsolute(o.out) ? o.out : join(opts.root, o.out);
  const schema = join(opts.root, 'services', 'prescaler', 'src', 'learn', 'capacity.schema.json');
  const doc = capacityFile({
    measuredAt,
    source:
      `pnpm bench capacity${opts.quick ? ' (BENCH_QUICK)' : ''} (loadtest/scenarios/capacity.bench.ts) on ` +
      `${opts.machine.cpuModel}, ${opts.machine.availableParallelism} usable cores; ${gitCommit(root)}`,
    ...(outPath !== null && { schemaRef: relative(dirname(outPath), schema) }),
    quick: opts.quick,
    machine: opts.machine,
    configuration: { ...configuration, machine: formatMachineInfo(opts.machine) },
    search: {
      factor: o.factor,
      resolution: o.resolution,
      maxSteps: o.maxSteps,
      warmupSeconds: o.warmupMs / 1000,
      stepSeconds: o.stepMs / 1000,
      cooldownSeconds: o.cooldownMs / 1000,
      maxLagMs: o.maxLagMs,
      bounds: Object.fromEntries(o.roles.map((r) => [r, o.bounds[r]])),
      callMix: o.callMix,
      pageSize: o.pageSize,
      stores: o.stores,
      zipfExponent: o.zipfExponent,
      jitterM: o.jitterM,
    },
    slo: Object.fromEntries(o.roles.map((r) => [r, o.slo[r]])),
    measurements,
  });
  let written: string | null = null;
  if (Object.keys(doc.roles).length === 0) {
    console.log('capacity file NOT written: no role had a capacity (see above)');
  } else {
    // The prescaler's own reader checks it, the rules of the schema: a file it would refuse is never written.
    const { parseCapacity } = (await import(
      pathToFileURL(join(opts.root, 'services', 'prescaler', 'src', 'learn', 'capacity.ts')).href
    )) as ParseCapacityModule;
    const text = JSON.stringify(doc, null, 2) + '\n';
    parseCapacity(text);
    if (outPath !== null) {
      mkdirSync(dirname(outPath), { recursive: true });
      writeFileSync(outPath, text);
      written = outPath;
      console.log(
        `capacity file: ${relative(process.cwd(), outPath)}${opts.quick ? ' (quick: true, not a measurement)' : ''}`,
      );
    } else {
      console.log('capacity file not written (BENCH_CAPACITY_OUT=none); it is in the results JSON');
    }
  }
  return {
    header,
    options: o,
    cpuRequestMilli: requests,
    expectedSeconds: expected,
    measurements,
    capacityFile: doc,
    capacityFilePath: written,
  };
}

/** `stores/l1 99.9% rough-estimates/l1 42.0%`: tiers with lookups only. */
function hitLine(ratios: Readonly<Record<string, { lookups: number; hitRatio: number | null }>>): string {
  const parts = Object.entries(ratios)
    .filter(([, v]) => v.lookups > 0 && v.hitRatio !== null)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${(v.hitRatio! * 100).toFixed(1)}%`);
  return parts.length > 0 ? parts.join(' ') : 'no lookups';
}

// Standalone: `node loadtest/scenarios/capacity.bench.ts` (BENCH_QUICK=1 for a short run; --help: the options).
if (import.meta.main) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) console.log(CAPACITY_USAGE);
  else await runStandalone(run);
}
