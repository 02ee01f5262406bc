/**
 * The faults soak (issue 12): the suite as the run command starts it, a Toxiproxy on every hop the BFF
 * makes (lib/faults.ts: Geo and the ML proxy; Redis and Postgres too when REDIS_URL and DATABASE_URL are
 * set), an open-loop load of precise (90 %) and rough (10 %, 5 stores) estimates, each carrying its own
 * deadline in x-request-timeout-ms, and every 20 s a fault drawn at random (latency above or below the
 * deadline, a black hole, resets, the hop down, a 1 KB/s pipe, a slow close) on a hop drawn at random,
 * replacing the one before. Reports answers by source, the degraded share, p99, errors by kind and the
 * answers later than their budget (the deadline plus BENCH_FAULTS_SLACK_MS).
 *
 * Goal: 0 errors and every answer within its budget.
 *
 *   pnpm bench faults                          10 minutes at 500/s (do it on a quiet machine)
 *   BENCH_FAULTS_SECONDS=60 BENCH_FAULTS_RATE=100 BENCH_FAULTS_SLACK_MS=1500 node loadtest/scenarios/faults.bench.ts
 *                                              the 60 s version the test command runs
 *                                              (services/vendor-bff/test/faults/soak.integration.test.ts)
 *   BENCH_FAULTS_DEADLINE_MS (default 500)     the deadline each request carries
 *   BENCH_FAULTS_SLOT_SECONDS (default 20)     how long each fault lasts
 *   BENCH_FAULTS_SEED (default 1)              the draw of faults and hops (and the requests)
 *   BENCH_FAULTS_OUT=<file>                    also writes the figures there as JSON
 *   BENCH_FAULTS_SHEDDING=off                  no load shedding in the BFF (MAX_QUEUE_MS=0,
 *                                              MAX_EVENT_LOOP_DELAY_MS=0): for a machine busy with other work,
 *                                              where a shed request would say nothing about the faults
 *
 * Standalone, the exit code is 1 when the goal was missed. Nothing here asserts on speed.
 */
import { writeFileSync } from 'node:fs';
import {
  fmtMs,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  seededRandom,
  type LoadResult,
  type MixEntry,
  type ScenarioOptions,
} from '../lib/index.ts';
import { bearerHeaders, preciseMix, roughMix } from '../lib/estimates.ts';
import { FAULTS, startFaultSuite, type FaultHop } from '../lib/faults.ts';
import { devServiceToken } from '../lib/suite.ts';

/** The seed's store ids are 1..5,000 (PGlite as shipped, and the Postgres schema the soak seeds). */
const STORES = 5_000;
const ROUGH_STORES = 5;

export interface FaultSlot {
  readonly atSeconds: number;
  readonly hop: FaultHop;
  readonly fault: string;
}

export interface FaultsFigures {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly deadlineMs: number;
  readonly slackMs: number;
  readonly hops: readonly FaultHop[];
  readonly bffEnv: Readonly<Record<string, string>>;
  readonly schedule: readonly FaultSlot[];
  readonly scheduled: number;
  readonly ok: number;
  readonly errors: number;
  readonly errorsByKind: LoadResult['errorsByKind'];
  readonly errorSamples: LoadResult['errorSamples'];
  /** Answers (estimates: one per precise request, one per store of a rough one) by source. */
  readonly bySource: Readonly<Record<string, number>>;
  readonly degradedShare: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Requests the BFF refused with 503 OVERLOADED (load shedding), counted in `errors` too. */
  readonly shed: number;
  /** Successful answers later than deadline + slack after their scheduled time. */
  readonly overBudget: number;
  readonly goalMet: boolean;
}

const envNumber = (name: string, fallback: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number >= 0, got ${v}`);
  return n;
};

export async function run(opts: ScenarioOptions): Promise<FaultsFigures> {
  const seconds = envNumber('BENCH_FAULTS_SECONDS', opts.quick ? 30 : 600);
  const rate = envNumber('BENCH_FAULTS_RATE', 500);
  const deadlineMs = envNumber('BENCH_FAULTS_DEADLINE_MS', 500);
  const slackMs = envNumber('BENCH_FAULTS_SLACK_MS', 0);
  const slotSeconds = envNumber('BENCH_FAULTS_SLOT_SECONDS', opts.quick ? 5 : 20);
  const seed = envNumber('BENCH_FAULTS_SEED', 1);
  const warmupMs = opts.quick ? 2_000 : 5_000;

  const shedding = process.env.BENCH_FAULTS_SHEDDING !== 'off';
  const suite = await startFaultSuite({
    root: opts.root,
    ...(shedding ? {} : { bffEnv: { MAX_QUEUE_MS: '0', MAX_EVENT_LOOP_DELAY_MS: '0' } }),
  });
  try {
    const hops = Object.keys(suite.hops) as FaultHop[];
    console.log(
      `faults: ${seconds} s at ${rate}/s, deadline ${deadlineMs} ms (+${slackMs} ms slack), a fault every ` +
        `${slotSeconds} s on one of ${hops.join(', ')}${shedding ? '' : ', no load shedding (BENCH_FAULTS_SHEDDING=off)'}; ` +
        `BFF keys beyond the run command's: ` +
        JSON.stringify(suite.bffEnv),
    );
    const token = devServiceToken(opts.root, 'faults');
    const headers = { ...bearerHeaders(token), 'x-request-timeout-ms': String(deadlineMs) };
    const mix: MixEntry[] = [
      { ...preciseMix(headers, STORES)[0]!, weight: 9 },
      { ...roughMix(headers, STORES, ROUGH_STORES)[0]!, weight: 1 },
    ];

    const bySource: Record<string, number> = {};
    let answers = 0;
    let degraded = 0;
    const count = (item: Record<string, unknown>): boolean => {
      if (item.error !== undefined) return false;
      const source = typeof item.source === 'string' ? item.source : 'none';
      bySource[source] = (bySource[source] ?? 0) + 1;
      answers += 1;
      if (item.degraded === true) degraded += 1;
      return source !== 'none';
    };
    const check = (res: { body: string }): boolean => {
      const body = JSON.parse(res.body) as Record<string, unknown>;
      const list = body.estimates;
      if (Array.isArray(list)) return list.map((e) => count(e as Record<string, unknown>)).every(Boolean);
      return count(body);
    };
    let overBudget = 0;

    // The faults: one slot after another from the end of the warm-up, each replacing the one before.
    const random = seededRandom(seed);
    const schedule: FaultSlot[] = [];
    let stopFaults = false;
    const faults = (async () => {
      await new Promise((r) => setTimeout(r, warmupMs));
      const t0 = performance.now();
      let remove: (() => Promise<void>) | undefined;
      try {
        for (let slot = 0; slot * slotSeconds < seconds && !stopFaults; slot++) {
          const hop = hops[Math.floor(random() * hops.length)]!;
          const fault = FAULTS[Math.floor(random() * FAULTS.length)]!;
          await remove?.();
          remove = await suite.apply(hop, fault);
          const atSeconds = Math.round((performance.now() - t0) / 100) / 10;
          schedule.push({ atSeconds, hop, fault: fault.name });
          console.log(`  ${atSeconds.toFixed(1)} s: ${fault.name} on ${hop}`);
          const until = t0 + (slot + 1) * slotSeconds * 1000;
          while (!stopFaults && performance.now() < until) {
            await new Promise((r) => setTimeout(r, Math.min(200, until - performance.now())));
          }
        }
      } finally {
        await remove?.();
      }
    })();

    let result;
    try {
      result = await runLoad({
        origin: suite.bff.origin,
        mix,
        rate,
        durationMs: seconds * 1000,
        warmupMs,
        // Longer than any budget: a late answer is counted as late rather than cut off as an error.
        timeoutMs: Math.max(5_000, deadlineMs + slackMs + 1_000),
        label: `faults@${rate}`,
        seed,
        check,
        onRecord: (r) => {
          if (r.kind === null && r.latencyMs > deadlineMs + slackMs) overBudget += 1;
        },
      });
    } finally {
      stopFaults = true;
      await faults;
    }
    printSummary(result);
    const metrics = await (await fetch(`${suite.bff.origin}/metrics`)).text();
    let shed = 0;
    for (const m of metrics.matchAll(/^http_requests_shed_total\{[^}]*\} (\S+)$/gm)) shed += Number(m[1]);

    const figures: FaultsFigures = {
      rate,
      durationSeconds: seconds,
      deadlineMs,
      slackMs,
      hops,
      bffEnv: suite.bffEnv,
      schedule,
      scheduled: result.scheduled,
      ok: result.ok,
      errors: result.errors,
      errorsByKind: result.errorsByKind,
      errorSamples: result.errorSamples,
      bySource,
      degradedShare: answers === 0 ? 0 : degraded / answers,
      p50Ms: result.latencyMs.p50,
      p99Ms: result.latencyMs.p99,
      maxMs: result.latencyMs.max,
      shed,
      overBudget,
      goalMet: result.errors === 0 && overBudget === 0,
    };
    printTable([
      {
        requests: figures.scheduled,
        errors: figures.errors,
        shed: figures.shed,
        'over budget': figures.overBudget,
        degraded: `${(figures.degradedShare * 100).toFixed(1)} %`,
        p50: fmtMs(figures.p50Ms),
        p99: fmtMs(figures.p99Ms),
        max: fmtMs(figures.maxMs),
        'by source': Object.entries(bySource)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      },
    ]);
    console.log(
      `faults: goal (0 errors, every answer within its budget) ${figures.goalMet ? 'met' : 'MISSED'}`,
    );
    const out = process.env.BENCH_FAULTS_OUT;
    if (out !== undefined && out !== '') writeFileSync(out, JSON.stringify(figures, null, 2));
    return figures;
  } finally {
    await suite.stop();
  }
}

if (import.meta.main) {
  await runStandalone(async (opts) => {
    const figures = await run(opts);
    if (!figures.goalMet) process.exitCode = 1;
    return figures;
  });
}
