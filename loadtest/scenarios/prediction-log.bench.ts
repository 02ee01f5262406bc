/**
 * What the prediction log costs the estimate path, and what a Kafka outage does to it (issue 18).
 *
 * The chain as the run command starts it (scripts/suite.ts: Geo, the ML proxy, vendor-bff ROLE=all on
 * embedded PGlite with the seeded stores, L1 caches), called with the credential the README hands a
 * calling service (a service JWT), precise requests with a fresh destination each, open loop:
 *
 *   1. log ON against OFF, in the same run: two suites started side by side, both with KAFKA_BROKERS (the
 *      real broker, from the environment) and a topic prefix of this run's own (KAFKA_TOPIC_PREFIX; its
 *      `predictions` topic is created here with 3 partitions and deleted after); OFF adds
 *      PREDICTION_LOG=false, so the log is the only difference. With KAFKA_BROKERS set, ROLE=all does not
 *      run the event consumers (EVENT_CONSUMERS=auto). Each suite first takes 40 s at 1,000/s (the cold
 *      row, as in bff-chain; not judged); then, at 1,000 and then 2,000/s, ROUNDS rounds of one window per
 *      side (15 s measured after 5 s at the rate), the side that goes first alternating (off, on / on, off
 *      / off, on), so neither a drift of the machine nor its passing stalls favour one side. One window's
 *      p99 here moves by 2-3x between windows of the same configuration (the VM's neighbours; a single
 *      pair of 20-s runs gave on/off ratios from 0.54 to 4.88 for one build): a side's figure is the
 *      median of its windows, and each round's own ratio is printed beside it to show the spread.
 *      Reported: p50/p95/p99 per window, per rate and side the median p99 and p50, the p99 ratio on/off
 *      of the medians (goal <= 1.10) and the p50 ratio, the events published
 *      and dropped (`events_published_total`, `events_dropped_total` on the BFF's /metrics; goal 0 drops)
 *      against the estimates answered, the BFF's CPU per request and, of it, its producer thread's (read
 *      from /proc by the thread's name), and the broker's CPU per request when it is the local one the
 *      backing services started (it shares these two cores with the chain; with the log off it shows the
 *      broker's idle cost).
 *   2. outage: a suite with the log ON whose broker goes away mid-run while the load goes on: 1,000/s,
 *      10 s with the broker, 20 s without, 10 s with it again (after 10 s of warm-up; each its own run).
 *      The broker is a private one (lib/events/proxied-broker.ts) that advertises a Toxiproxy proxy in
 *      front of it, and the proxy is disabled: a proxy in front of the shared broker would not cut the BFF
 *      off (a Kafka client connects to the address the broker advertises, not to the one it bootstrapped
 *      from), and the shared broker is never stopped. Reported per window: estimates not answered 200
 *      (goal 0), p50/p99, events published and dropped by reason, and how long after the proxy came back
 *      the BFF published again.
 *
 * DATABASE_URL and REDIS_URL, which the backing services' environment exports beside KAFKA_BROKERS, are not
 * given to the suite: the chain measured is the run command's (PGlite, L1 only). Other service keys set in
 * the environment reach the services as in bff-chain, and the header lists them (NOT AS SHIPPED).
 *
 *   KAFKA_BROKERS=127.0.0.1:9092 pnpm bench prediction-log    (fails without KAFKA_BROKERS)
 *   BENCH_QUICK=1 node loadtest/scenarios/prediction-log.bench.ts
 *
 * Figures are printed and returned; nothing here asserts on speed.
 */
import {
  BFF_ESTIMATES_TOTAL,
  EVENTS_BUFFERED,
  EVENTS_CONSUMED_TOTAL,
  EVENTS_DROPPED_TOTAL,
  EVENTS_PUBLISHED_TOTAL,
  PREDICTIONS_TOPIC,
  PRODUCER_THREAD_NAME,
} from '@eta/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  fmtMs,
  formatMachineInfo,
  machineInfo,
  median,
  printSummary,
  printTable,
  runLoad,
  runStandalone,
  type LoadResult,
  type MixEntry,
  type ScenarioOptions,
} from '../lib/index.ts';
import { benchTopicPrefix, openBenchKafka, requireBacking, type BenchKafka } from '../lib/events/kafka.ts';
import { byLabel, scrape, series, sum } from '../lib/events/metrics.ts';
import { startProxiedBroker, type ProxiedBroker } from '../lib/events/proxied-broker.ts';
import { localKafkaBrokerPid, readCpuSeconds, readThreadCpuSeconds } from '../lib/capacity/proc.ts';
import { bearerHeaders, preciseAnswered, preciseMix } from '../lib/estimates.ts';
import { devServiceToken, startSuite, suiteOverrides, type Suite } from '../lib/suite.ts';

const RATES = [1000, 2000] as const;
const OUTAGE_RATE = 1000;
const PARTITIONS = 3;
const RATIO_GOAL = 1.1;
/** Windows per side and rate (BENCH_QUICK: 1). Odd, so each side's median is one of its windows. */
const ROUNDS = 3;
/** The seed's store ids are 1..5,000. */
const STORES = 5000;
/** Set on the BFF by this scenario, so not overrides. */
const SET_HERE = ['KAFKA_BROKERS', 'KAFKA_TOPIC_PREFIX', 'PREDICTION_LOG'];
/** Exported by `scripts/backing-services.sh env` beside KAFKA_BROKERS; withheld from the suite (see above). */
const WITHHELD = ['DATABASE_URL', 'REDIS_URL'];

/** What one run moved on the BFF's /metrics (warm-up included), the buffer drained first. */
export interface LogCounts {
  /** Precise estimates the BFF answered (bff_estimates_total). */
  readonly answered: number;
  readonly published: number;
  readonly dropped: Readonly<Record<string, number>>;
  /** Still in the publisher's buffer when read. */
  readonly buffered: number;
  /** BFF CPU microseconds per offered request. */
  readonly bffCpuUsPerRequest: number;
}

/** Where the log's CPU goes, per offered request, read from /proc over the run (warm-up and drain included). */
export interface LogCpu {
  /** The BFF's producer thread (part of bffCpuUsPerRequest); null with the log off (no such thread). */
  readonly producerThreadUsPerRequest: number | null;
  /**
   * The broker's CPU, when it is the local one scripts/backing-services.sh started (null otherwise). It
   * shares this machine's cores with the chain, as a broker in a cluster does not; with the log off it is
   * the broker's idle cost, the baseline to read the ON figure against.
   */
  readonly brokerUsPerRequest: number | null;
}

export interface LogRun extends LoadResult {
  readonly log: 'on' | 'off';
  readonly kind: 'cold' | 'rate';
  /** The round of a `rate` window (0-based); 0 for `cold`. */
  readonly round: number;
  readonly counts: LogCounts;
  readonly cpu: LogCpu;
}

export interface OutageWindow extends LoadResult {
  readonly window: 'before' | 'outage' | 'after';
  /** Requests not answered 200 (timeouts and connection errors included; degraded 200s are in `degraded`). */
  readonly non200: number;
  readonly degraded: number;
  readonly counts: LogCounts;
}

export interface PredictionLogFigures {
  readonly machine: string;
  readonly durationMs: number;
  readonly warmupMs: number;
  readonly configuration: {
    readonly credential: 'jwt';
    readonly topicPrefix: string;
    readonly partitions: number;
    readonly overrides: Readonly<Record<string, string>>;
    readonly withheld: readonly string[];
    readonly asShipped: boolean;
  };
  readonly runs: readonly LogRun[];
  readonly rounds: number;
  readonly ratios: readonly {
    readonly rate: number;
    /** Medians of the side's windows. */
    readonly p99On: number;
    readonly p99Off: number;
    /** p99On / p99Off: the goal's figure. */
    readonly ratio: number;
    /** Each round's on/off p99 ratio, in round order (the spread one pair of windows shows). */
    readonly roundRatios: readonly number[];
    readonly p50On: number;
    readonly p50Off: number;
    readonly dropsOn: number;
    /** Failed requests of both sides at this rate (the goal needs 0). */
    readonly errors: number;
  }[];
  readonly outage: {
    readonly rate: number;
    readonly windows: readonly OutageWindow[];
    /** Seconds from re-enabling the proxy to the first event published again; null when none came. */
    readonly republishedAfterSeconds: number | null;
  };
}

const nonZero = (r: Readonly<Record<string, number>>) =>
  Object.entries(r)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ') || '0';
const totalOf = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);

export async function run(opts: ScenarioOptions): Promise<PredictionLogFigures> {
  const brokers = requireBacking('KAFKA_BROKERS', 'prediction-log');
  const root = opts.root;
  // Windows of 15 s after 5 s at the rate, ROUNDS per side and rate; the first load after start is the
  // `cold` row, as in bff-chain.
  const durationMs = opts.quick ? 2000 : 15_000;
  const warmupMs = opts.quick ? 500 : 5_000;
  const rounds = opts.quick ? 1 : ROUNDS;
  const coldMs = opts.quick ? 1000 : 40_000;
  const outage = opts.quick
    ? { warmupMs: 500, beforeMs: 1000, outageMs: 2000, afterMs: 1000, waitRepublishMs: 15_000 }
    : { warmupMs: 10_000, beforeMs: 10_000, outageMs: 20_000, afterMs: 10_000, waitRepublishMs: 60_000 };

  const overrides = Object.fromEntries(
    Object.entries(suiteOverrides(root)).filter(([k]) => !SET_HERE.includes(k) && !WITHHELD.includes(k)),
  );
  const withheld = WITHHELD.filter((k) => (process.env[k] ?? '') !== '');
  const asShipped = Object.keys(overrides).length === 0;
  const prefix = benchTopicPrefix('predlog');
  const topic = `${prefix}${PREDICTIONS_TOPIC.name}`;
  const machine = formatMachineInfo(machineInfo());
  const said =
    `${asShipped ? 'AS SHIPPED' : 'NOT AS SHIPPED'} (the run command's configuration, service JWT) plus the ` +
    `prediction log's broker: KAFKA_BROKERS=${brokers}, KAFKA_TOPIC_PREFIX=${prefix} (topic ${topic}, ` +
    `${PARTITIONS} partitions); OFF adds PREDICTION_LOG=false` +
    (withheld.length > 0
      ? `; not given to the suite: ${withheld.join(', ')} (the run command uses PGlite and L1)`
      : '') +
    (asShipped ? '' : `; overrides from the environment: ${JSON.stringify(overrides)}`);
  console.log(`prediction-log: ${said}`);
  console.log(machine);

  const token = devServiceToken(root, 'bench');
  const mix: readonly MixEntry[] = preciseMix(bearerHeaders(token), STORES);
  // spawnService leaves out a key given as undefined; startSuite's type only lets strings through.
  const unset = Object.fromEntries(WITHHELD.map((k) => [k, undefined])) as unknown as Record<string, string>;
  const suiteEnv = (bff: Record<string, string>) => ({
    geo: unset,
    'ml-proxy': unset,
    'vendor-bff': { ...unset, ...bff },
  });

  const counters = async (origin: string) => {
    const text = await scrape(origin);
    return {
      answered: sum(text, BFF_ESTIMATES_TOTAL, { kind: 'precise' }),
      published: sum(text, EVENTS_PUBLISHED_TOTAL, { topic }),
      dropped: byLabel(text, EVENTS_DROPPED_TOTAL, 'reason', { topic }),
      buffered: sum(text, EVENTS_BUFFERED),
      cpu: sum(text, 'process_cpu_seconds_total'),
    };
  };
  type Counters = Awaited<ReturnType<typeof counters>>;
  const countsBetween = (a: Counters, b: Counters, offered: number): LogCounts => ({
    answered: b.answered - a.answered,
    published: b.published - a.published,
    dropped: Object.fromEntries(Object.entries(b.dropped).map(([k, v]) => [k, v - (a.dropped[k] ?? 0)])),
    buffered: b.buffered,
    bffCpuUsPerRequest: Math.round(((b.cpu - a.cpu) * 1e6) / offered),
  });
  /** After a run: the buffer sent (up to `ms`), so `published` counts the run's own events. */
  const drained = async (origin: string, ms = 10_000): Promise<Counters> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const c = await counters(origin);
      if (c.buffered === 0 || Date.now() > deadline) return c;
      await sleep(100);
    }
  };
  const load = (origin: string, rate: number, duration: number, warmup: number, label: string) =>
    runLoad({
      origin,
      mix,
      rate,
      durationMs: duration,
      warmupMs: warmup,
      timeoutMs: 2000,
      label,
      seed: rate,
      check: preciseAnswered,
    });

  // The broker's and the producer thread's CPU, read from /proc around each run.
  const brokerPid = localKafkaBrokerPid(root, brokers);
  console.log(
    brokerPid === undefined
      ? `broker CPU: not read (KAFKA_BROKERS=${brokers} is not the broker scripts/backing-services.sh started here)`
      : `broker CPU: read from /proc/${brokerPid} (the broker scripts/backing-services.sh started, on these cores)`,
  );
  const cpuNow = (bffPid: number) => ({
    producer: readThreadCpuSeconds(bffPid, PRODUCER_THREAD_NAME),
    broker: brokerPid === undefined ? undefined : readCpuSeconds(brokerPid),
  });
  const perRequest = (a: number | undefined, b: number | undefined, offered: number) =>
    a === undefined || b === undefined ? null : Math.round(((b - a) * 1e6) / offered);

  const kafka: BenchKafka = await openBenchKafka(brokers, `bench-predlog-admin-${process.pid}`);
  const suites: Suite[] = [];
  let proxied: ProxiedBroker | undefined;
  try {
    await kafka.createTopics([topic], PARTITIONS);

    // ---- 1. on against off, both suites up, measured in turn.
    const on = await startSuite({
      root,
      extraEnv: suiteEnv({ KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix }),
    });
    suites.push(on);
    const off = await startSuite({
      root,
      extraEnv: suiteEnv({ KAFKA_BROKERS: brokers, KAFKA_TOPIC_PREFIX: prefix, PREDICTION_LOG: 'false' }),
    });
    suites.push(off);
    const side = { on, off } as const;
    // ROLE=all with KAFKA_BROKERS runs no consumers (EVENT_CONSUMERS=auto); their work would be measured too.
    for (const s of suites) {
      if (series(await scrape(s.bff.origin), EVENTS_CONSUMED_TOTAL).length > 0) {
        console.log(
          'WARNING: a BFF under test runs the event consumers (EVENT_CONSUMERS from the environment?)',
        );
      }
    }

    const runs: LogRun[] = [];
    const measure = async (
      log: 'on' | 'off',
      kind: LogRun['kind'],
      rate: number,
      d: number,
      w: number,
      round = 0,
    ) => {
      const { origin, pid } = side[log].bff;
      const before = await counters(origin);
      const cpuBefore = cpuNow(pid);
      const result = await load(
        origin,
        rate,
        d,
        w,
        `${kind}-${log}@${rate}${kind === 'rate' ? `#${round}` : ''}`,
      );
      const after = await drained(origin);
      const cpuAfter = cpuNow(pid);
      const offered = (rate * (d + w)) / 1000;
      const counts = countsBetween(before, after, offered);
      const cpu: LogCpu = {
        producerThreadUsPerRequest: perRequest(cpuBefore.producer, cpuAfter.producer, offered),
        brokerUsPerRequest: perRequest(cpuBefore.broker, cpuAfter.broker, offered),
      };
      printSummary(result);
      console.log(
        `  answered ${counts.answered}, published ${counts.published}, dropped ${nonZero(counts.dropped)}, ` +
          `buffered ${counts.buffered}, bff cpu ${counts.bffCpuUsPerRequest} us/req (producer thread ` +
          `${cpu.producerThreadUsPerRequest ?? '-'}), broker cpu ${cpu.brokerUsPerRequest ?? '-'} us/req`,
      );
      runs.push({ ...result, log, kind, round, counts, cpu });
    };
    for (const log of ['on', 'off'] as const) await measure(log, 'cold', 1000, coldMs, 0);
    for (const rate of RATES) {
      for (let round = 0; round < rounds; round++) {
        const sides = round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
        for (const log of sides) await measure(log, 'rate', rate, durationMs, warmupMs, round);
      }
    }
    for (const s of suites.splice(0)) await s.stop();

    // ---- 2. the broker away mid-run.
    proxied = await startProxiedBroker({ partitions: PARTITIONS });
    const privateAdmin = await openBenchKafka(proxied.direct, `bench-predlog-admin-private-${process.pid}`);
    try {
      await privateAdmin.createTopics([topic], PARTITIONS);
    } finally {
      await privateAdmin.close();
    }
    const cut = await startSuite({
      root,
      extraEnv: suiteEnv({ KAFKA_BROKERS: proxied.viaProxy, KAFKA_TOPIC_PREFIX: prefix }),
    });
    suites.push(cut);
    const origin = cut.bff.origin;
    const cold = await load(origin, OUTAGE_RATE, coldMs, 0, `outage-cold@${OUTAGE_RATE}`);
    printSummary(cold);
    // Its events sent before the first window is counted.
    await drained(origin);
    const windows: OutageWindow[] = [];
    const measureWindow = async (window: OutageWindow['window'], d: number, w: number, drain: boolean) => {
      const before = await counters(origin);
      const result = await load(origin, OUTAGE_RATE, d, w, `${window}@${OUTAGE_RATE}`);
      // Outage: nothing can drain, so read at once; the buffer's level is part of the figure.
      const after = drain ? await drained(origin) : await counters(origin);
      const counts = countsBetween(before, after, (OUTAGE_RATE * (d + w)) / 1000);
      const degraded = result.errorsByKind.body_check ?? 0;
      printSummary(result);
      console.log(
        `  answered ${counts.answered}, published ${counts.published}, dropped ${nonZero(counts.dropped)}, ` +
          `buffered ${counts.buffered}`,
      );
      windows.push({ ...result, window, non200: result.errors - degraded, degraded, counts });
    };
    await measureWindow('before', outage.beforeMs, outage.warmupMs, true);
    await proxied.proxy.disable();
    await measureWindow('outage', outage.outageMs, 0, false);
    const publishedAtReenable = (await counters(origin)).published;
    await proxied.proxy.enable();
    const reenabledAt = performance.now();
    // Watched beside the `after` run (twice a second, cheap next to 1,000 requests a second).
    let republishedAfterSeconds: number | null = null;
    let watching = true;
    const watch = (async () => {
      while (watching && performance.now() - reenabledAt < outage.waitRepublishMs) {
        if ((await counters(origin)).published > publishedAtReenable) {
          republishedAfterSeconds = Math.round((performance.now() - reenabledAt) / 100) / 10;
          return;
        }
        await sleep(500);
      }
    })();
    await measureWindow('after', outage.afterMs, 0, false);
    await watch;
    watching = false;

    // ---- Report.
    console.log(
      `\nprediction log, ${said}:\ncold = the first ${coldMs / 1000}s at 1,000/s after start (not judged); rates ` +
        `${durationMs / 1000}s after ${warmupMs / 1000}s at the rate, ${rounds} round(s) per rate, the first side ` +
        `alternating${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}`,
    );
    printTable(
      runs.map((r) => ({
        kind: r.kind === 'rate' ? `rate #${r.round}` : r.kind,
        log: r.log,
        rate: r.offeredRate,
        achieved: Math.round(r.achievedRate),
        p50: fmtMs(r.latencyMs.p50),
        p95: fmtMs(r.latencyMs.p95),
        p99: fmtMs(r.latencyMs.p99),
        'p99.9': fmtMs(r.latencyMs.p999),
        errors: r.errors,
        answered: r.counts.answered,
        published: r.log === 'on' ? r.counts.published : '-',
        dropped: r.log === 'on' ? nonZero(r.counts.dropped) : '-',
        'bff cpu us/req': r.counts.bffCpuUsPerRequest,
        'of it producer thread': r.cpu.producerThreadUsPerRequest ?? '-',
        'broker cpu us/req': r.cpu.brokerUsPerRequest ?? '-',
      })),
    );
    const ratios = RATES.map((rate) => {
      const windows = (log: 'on' | 'off') =>
        runs
          .filter((r) => r.kind === 'rate' && r.log === log && r.offeredRate === rate)
          .sort((x, y) => x.round - y.round);
      const [on, off] = [windows('on'), windows('off')];
      const p99On = median(on.map((r) => r.latencyMs.p99));
      const p99Off = median(off.map((r) => r.latencyMs.p99));
      return {
        rate,
        p99On,
        p99Off,
        ratio: p99On / p99Off,
        roundRatios: on.map((r, i) => r.latencyMs.p99 / off[i]!.latencyMs.p99),
        p50On: median(on.map((r) => r.latencyMs.p50)),
        p50Off: median(off.map((r) => r.latencyMs.p50)),
        dropsOn: on.reduce((n, r) => n + totalOf(r.counts.dropped), 0),
        errors: [...on, ...off].reduce((n, r) => n + r.errors, 0),
      };
    });
    console.log('');
    printTable(
      ratios.map((x) => ({
        rate: x.rate,
        'p99 on/off (medians)': `${fmtMs(x.p99On)} / ${fmtMs(x.p99Off)}`,
        ratio: x.ratio.toFixed(2),
        'per round': x.roundRatios.map((r) => r.toFixed(2)).join(' '),
        'p50 on/off (medians)': `${fmtMs(x.p50On)} / ${fmtMs(x.p50Off)}`,
        'p50 ratio': (x.p50On / x.p50Off).toFixed(2),
        [`goal <=${RATIO_GOAL}`]: x.errors === 0 && x.ratio <= RATIO_GOAL ? 'met' : 'MISSED',
        'drops (on)': x.dropsOn,
        'goal 0 drops': x.dropsOn === 0 ? 'met' : 'MISSED',
      })),
    );
    console.log(
      `\noutage at ${OUTAGE_RATE}/s (log on, private broker behind Toxiproxy; the proxy disabled for the ` +
        `${outage.outageMs / 1000}s window): ${cold.errors} errors in the ${coldMs / 1000}s cold run first`,
    );
    printTable(
      windows.map((w) => ({
        window: w.window,
        seconds: w.durationMs / 1000,
        p50: fmtMs(w.latencyMs.p50),
        p99: fmtMs(w.latencyMs.p99),
        max: fmtMs(w.latencyMs.max),
        'not 200': w.non200,
        degraded: w.degraded,
        'goal 0 not 200': w.non200 === 0 ? 'met' : 'MISSED',
        answered: w.counts.answered,
        published: w.counts.published,
        dropped: nonZero(w.counts.dropped),
        'buffered at end': w.counts.buffered,
      })),
    );
    console.log(
      `published again ${republishedAfterSeconds === null ? `NOT within ${outage.waitRepublishMs / 1000}s` : `${republishedAfterSeconds}s`} after the proxy came back`,
    );

    return {
      machine,
      durationMs,
      warmupMs,
      rounds,
      configuration: {
        credential: 'jwt',
        topicPrefix: prefix,
        partitions: PARTITIONS,
        overrides,
        withheld,
        asShipped,
      },
      runs,
      ratios,
      outage: { rate: OUTAGE_RATE, windows, republishedAfterSeconds },
    };
  } finally {
    for (const s of suites) await s.stop();
    await proxied?.stop();
    const gone = await kafka.deleteTopicsWithPrefix(prefix).catch((err: unknown) => {
      console.error(`prediction-log: deleting the topics failed: ${String(err)}`);
      return [];
    });
    console.log(`  deleted topics: ${gone.join(', ') || '(none)'}`);
    await kafka.close();
  }
}

// Standalone: `node loadtest/scenarios/prediction-log.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
