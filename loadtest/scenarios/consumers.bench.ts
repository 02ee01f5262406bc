/**
 * Event consumer throughput on the real broker (issue 18, ADR 0006): how fast one vendor-bff process in
 * ROLE=events works through a backlog, and what it costs.
 *
 *   1. orders: N order events (N/4 orders x created, rider-assigned, picked-up, delivered; valid per
 *      @eta/contracts, ids from @eta/events' newEventId; lib/events/order-stream.ts) are published to a
 *      fresh `<prefix>orders` topic of 6 partitions BEFORE the consumer starts; then one BFF with ROLE=events
 *      starts on a fresh Postgres schema (migrated beforehand with the BFF's own migrate command) and a
 *      fresh consumer group, and the clock runs from its spawn until it has handled all N
 *      (`events_consumed_total` on its /metrics, polled every 250 ms; then `event_receipts` must hold N rows).
 *   2. predictions: the same with N precise predictions carrying those orders' ids (four per order: the
 *      checkout estimate and three tracking ones) on another prefix's `predictions` topic, into the same
 *      schema, so every batch also joins its orders to their deliveries (live accuracy); then
 *      `accuracy_predictions` and `accuracy_outcomes` must hold one row per order.
 *   3. rough: N/20 rough predictions (store lists: 50 stores an event, ~21 kB, no order id) as the prediction
 *      log publishes them, with the `eta-join: none` header: the consumer passes them over unread.
 *   4. rough-unmarked: the same events without the header (as an older producer sent them): decoded,
 *      checked, and ignored. 3 against 4 is what the header saves the `events` role.
 *      Both must count every event `ignored`, dead-letter none and store nothing.
 *
 * Reported per phase: events/s from the spawn (start-up and group join included) and from readiness
 * (joined), `events_batch_seconds` p50/p99 (estimated from the histogram's buckets), events per batch,
 * and the BFF's CPU (`process_cpu_seconds_total`): in all, and per 1,000 events after readiness. Schema,
 * topics and Redis keys are removed afterwards.
 *
 * Configuration: the run command's BFF keys (scripts/suite.ts) with ROLE=events, and what a deployment of
 * the role sets: DATABASE_URL (the schema), REDIS_URL, KAFKA_BROKERS, and for isolation on the shared
 * servers KAFKA_TOPIC_PREFIX, EVENTS_CONSUMER_GROUP and LIVE_STATS_NAMESPACE (a key prefix of its own, so
 * the live statistics it writes reach no Geo). Everything else at its default; other service keys set in
 * the environment reach the BFF and the header lists them (NOT AS SHIPPED).
 *
 * Needs KAFKA_BROKERS, DATABASE_URL and REDIS_URL (`eval "$(scripts/backing-services.sh env)"`); fails
 * without them.
 *
 *   pnpm bench consumers                       N = 200,000 per phase
 *   BENCH_CONSUMERS_EVENTS=400000 pnpm bench consumers   (rough phases: BENCH_CONSUMERS_ROUGH_EVENTS, default N/20)
 *   BENCH_QUICK=1 node loadtest/scenarios/consumers.bench.ts   (N = 4,000: a check that it works)
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  EVENTS_BATCH_SECONDS,
  EVENTS_CONSUMED_TOTAL,
  EVENTS_DEAD_LETTERED_TOTAL,
  ORDERS_TOPIC,
  PREDICTIONS_TOPIC,
  predictionHeaders,
  prefixedTopic,
} from '@eta/contracts';
import { createTestRedis, createTestSchema, uniqueId, type TestRedis, type TestSchema } from '@eta/testing';
import { runCommandEnv } from '../../scripts/suite.ts';
import {
  formatMachineInfo,
  freePort,
  machineInfo,
  printTable,
  runStandalone,
  spawnService,
  type ScenarioOptions,
  type SpawnedService,
} from '../lib/index.ts';
import { benchTopicPrefix, openBenchKafka, requireBacking, type BenchKafka } from '../lib/events/kafka.ts';
import { buckets, byLabel, histogramQuantile, scrape, sum } from '../lib/events/metrics.ts';
import {
  orderEvents,
  planStream,
  predictionEvents,
  roughPredictionEvents,
} from '../lib/events/order-stream.ts';
import { publishAll } from '../lib/events/publish.ts';
import { loadEventsPackage } from '../lib/replay/events-package.ts';
import { suiteOverrides } from '../lib/suite.ts';

const execFileAsync = promisify(execFile);
const PARTITIONS = 6;
const POLL_MS = 250;
/** Keys this scenario sets on the BFF itself (said in the header), beside the run command's. */
const SET_HERE = [
  'ROLE',
  'DATABASE_URL',
  'REDIS_URL',
  'KAFKA_BROKERS',
  'KAFKA_TOPIC_PREFIX',
  'EVENTS_CONSUMER_GROUP',
  'LIVE_STATS_NAMESPACE',
];

type Phase = 'orders' | 'predictions' | 'rough' | 'rough-unmarked';

export interface ConsumerPhase {
  readonly phase: Phase;
  readonly topic: string;
  readonly events: number;
  /** Spawn to /readyz 200 (the consumers joined their group). */
  readonly startToReadySeconds: number;
  /** Events handled by the first scrape after readiness. */
  readonly handledAtReady: number;
  /** Spawn to the scrape that saw every event handled (POLL_MS resolution). */
  readonly startToDoneSeconds: number;
  readonly eventsPerSecondFromStart: number;
  /** (events - handledAtReady) / (done - ready); NaN when all were handled by readiness. */
  readonly eventsPerSecondFromReady: number;
  readonly batches: number;
  readonly eventsPerBatch: number;
  readonly batchSecondsP50: number;
  readonly batchSecondsP99: number;
  /** process_cpu_seconds_total at done: the whole process, start-up included. */
  readonly cpuSeconds: number;
  /** CPU seconds per 1,000 events handled between readiness and done. */
  readonly cpuSecondsPer1000FromReady: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly deadLettered: number;
  /** What Postgres holds afterwards (the checks below). */
  readonly rows: Readonly<Record<string, number>>;
}

export interface ConsumersFigures {
  readonly machine: string;
  readonly configuration: {
    readonly role: 'events';
    readonly overrides: Readonly<Record<string, string>>;
    readonly asShipped: boolean;
  };
  readonly eventsPerPhase: number;
  /** Events in each rough phase. */
  readonly roughEvents: number;
  readonly orders: number;
  readonly partitions: number;
  readonly publishSeconds: Readonly<Record<string, number>>;
  readonly phases: readonly ConsumerPhase[];
}

function eventsPerPhase(quick: boolean): number {
  const raw = quick ? '4000' : (process.env.BENCH_CONSUMERS_EVENTS ?? '200000');
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 4)
    throw new Error(`BENCH_CONSUMERS_EVENTS must be an integer >= 4, got ${raw}`);
  return n - (n % 4);
}

function roughEvents(quick: boolean, events: number): number {
  const raw = quick
    ? '200'
    : (process.env.BENCH_CONSUMERS_ROUGH_EVENTS ?? String(Math.max(1, Math.floor(events / 20))));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`BENCH_CONSUMERS_ROUGH_EVENTS must be a positive integer, got ${raw}`);
  return n;
}

const round = (n: number, digits = 2) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : Number.NaN);

export async function run(opts: ScenarioOptions): Promise<ConsumersFigures> {
  const brokers = requireBacking('KAFKA_BROKERS', 'consumers');
  const databaseUrl = requireBacking('DATABASE_URL', 'consumers');
  const redisUrl = requireBacking('REDIS_URL', 'consumers');
  const root = opts.root;
  const events = eventsPerPhase(opts.quick);
  const orders = events / 4;
  const rough = roughEvents(opts.quick, events);
  const countOf = (phase: Phase) => (phase === 'rough' || phase === 'rough-unmarked' ? rough : events);

  const overrides = Object.fromEntries(
    Object.entries(suiteOverrides(root)).filter(([k]) => !SET_HERE.includes(k)),
  );
  const asShipped = Object.keys(overrides).length === 0;
  const machine = formatMachineInfo(machineInfo());
  console.log(
    `consumers: ${asShipped ? 'AS SHIPPED' : 'NOT AS SHIPPED'}: one vendor-bff, the run command's keys with ` +
      'ROLE=events, its own Postgres schema (migrated first), REDIS_URL, the broker at KAFKA_BROKERS; for ' +
      'isolation on the shared servers a topic prefix, consumer group and live-statistics key prefix of its own' +
      (asShipped ? '' : `; overrides from the environment: ${JSON.stringify(overrides)}`),
  );
  console.log(machine);
  console.log(
    `  ${events.toLocaleString('en')} events per phase (${orders.toLocaleString('en')} orders), topics of ` +
      `${PARTITIONS} partitions on ${brokers}${opts.quick ? ' (BENCH_QUICK: a check that it works, not a measurement)' : ''}`,
  );

  const base = benchTopicPrefix('consumers');
  const prefix: Record<Phase, string> = {
    orders: `${base}o.`,
    predictions: `${base}p.`,
    rough: `${base}r.`,
    'rough-unmarked': `${base}u.`,
  };
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) {
      await c().catch((err: unknown) => console.error(`consumers: cleanup failed: ${String(err)}`));
    }
  };
  const bffs = new Set<SpawnedService>();
  try {
    const kafka: BenchKafka = await openBenchKafka(brokers, `bench-consumers-admin-${process.pid}`);
    cleanups.push(
      () => kafka.close(),
      async () => {
        const gone = await kafka.deleteTopicsWithPrefix(base);
        console.log(`  deleted topics: ${gone.join(', ') || '(none)'}`);
      },
    );
    const schema: TestSchema = await createTestSchema({ prefix: 'bench_consumers', databaseUrl, max: 1 });
    cleanups.push(() => schema.cleanup());
    const redis: TestRedis = await createTestRedis({ url: redisUrl, base: 'bench-consumers' });
    cleanups.push(() => redis.cleanup());

    // The schema as a deployment's migrations Job leaves it: the BFF's own migrate command.
    const url = new URL(databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema.schema}`);
    await execFileAsync(process.execPath, [join(root, 'services/vendor-bff/src/cli/migrate.ts')], {
      cwd: join(root, 'services/vendor-bff'),
      env: { ...process.env, DATABASE_URL: url.toString(), LOG_LEVEL: 'warn' },
    });

    const topics = {
      orders: prefixedTopic(ORDERS_TOPIC, prefix.orders),
      predictions: prefixedTopic(PREDICTIONS_TOPIC, prefix.predictions),
      rough: prefixedTopic(PREDICTIONS_TOPIC, prefix.rough),
      'rough-unmarked': prefixedTopic(PREDICTIONS_TOPIC, prefix['rough-unmarked']),
    };
    // Each phase's BFF subscribes to both of its prefix's topics; the other one stays empty.
    await kafka.createTopics(
      Object.values(prefix).flatMap((p) => [`${p}${ORDERS_TOPIC.name}`, `${p}${PREDICTIONS_TOPIC.name}`]),
      PARTITIONS,
    );

    // The backlog, all of it before any consumer starts.
    const ev = await loadEventsPackage(root);
    const producer = await ev.createProducer({
      brokers: kafka.brokers,
      clientId: `bench-consumers-publisher-${process.pid}`,
      log: ev.silentLog,
    });
    const plan = planStream(root, orders, `bc${uniqueId()}`);
    const publishSeconds: Record<string, number> = {};
    const timed = async (phase: Phase, publish: () => Promise<number>) => {
      const t0 = performance.now();
      const n = await publish();
      publishSeconds[phase] = round((performance.now() - t0) / 1000);
      if (n !== countOf(phase)) throw new Error(`published ${n} ${phase} events, expected ${countOf(phase)}`);
      console.log(
        `  published ${n.toLocaleString('en')} ${phase} events to ${topics[phase].name} in ${publishSeconds[phase]} s`,
      );
    };
    try {
      const newId = () => ev.newEventId();
      await timed('orders', () =>
        publishAll({ producer, topic: topics.orders, events: orderEvents(plan, newId) }),
      );
      await timed('predictions', () =>
        publishAll({ producer, topic: topics.predictions, events: predictionEvents(plan, newId) }),
      );
      // The same rough events (same seed) with and without the header.
      await timed('rough', () =>
        publishAll({
          producer,
          topic: topics.rough,
          events: roughPredictionEvents(rough, 7, newId),
          headers: predictionHeaders,
          batchSize: 100,
        }),
      );
      await timed('rough-unmarked', () =>
        publishAll({
          producer,
          topic: topics['rough-unmarked'],
          events: roughPredictionEvents(rough, 7, newId),
          batchSize: 100,
        }),
      );
    } finally {
      await producer.close();
    }

    const count = async (sql: string, params: unknown[] = []): Promise<number> =>
      Number((await schema.pool.query<{ n: string }>(sql, params)).rows[0]!.n);

    const consume = async (phase: Phase): Promise<ConsumerPhase> => {
      const topic = topics[phase].name;
      const events = countOf(phase);
      const port = await freePort();
      const env = {
        ...runCommandEnv('vendor-bff', { geo: 8081, 'ml-proxy': 8082, 'vendor-bff': port }),
        ROLE: 'events',
        DATABASE_URL: url.toString(),
        REDIS_URL: redisUrl,
        KAFKA_BROKERS: brokers,
        KAFKA_TOPIC_PREFIX: prefix[phase],
        EVENTS_CONSUMER_GROUP: `bench-consumers-${uniqueId()}`,
        LIVE_STATS_NAMESPACE: redis.prefix,
      };
      const handled = (text: string) => sum(text, EVENTS_CONSUMED_TOTAL, { topic });
      const cpu = (text: string) => sum(text, 'process_cpu_seconds_total');

      const t0 = performance.now();
      const bff = await spawnService({
        entry: 'src/main.ts',
        cwd: join(root, 'services', 'vendor-bff'),
        name: `vendor-bff-events (${phase})`,
        port,
        env,
        stdout: 'ignore',
        readyTimeoutMs: 120_000,
      });
      bffs.add(bff);
      try {
        const tReady = performance.now();
        const atReady = await scrape(bff.origin);
        let last = atReady;
        let tDone = performance.now();
        // Generous: a consumer that stalls must end the run with what it did, not hang it.
        const deadline = Date.now() + Math.max(120_000, events * 5);
        while (handled(last) < events) {
          if (Date.now() > deadline) {
            throw new Error(
              `${phase}: ${handled(last)} of ${events} events handled after ${Math.round((performance.now() - t0) / 1000)} s; ` +
                `BFF output:\n${bff.output().slice(-4000)}`,
            );
          }
          await sleep(POLL_MS);
          last = await scrape(bff.origin);
          tDone = performance.now();
        }
        const startToDone = (tDone - t0) / 1000;
        const readyToDone = (tDone - tReady) / 1000;
        const handledAtReady = handled(atReady);
        const batchBuckets = buckets(last, EVENTS_BATCH_SECONDS, { topic });
        const batches = sum(last, `${EVENTS_BATCH_SECONDS}_count`, { topic });
        const rows: Record<string, number> =
          phase === 'orders'
            ? {
                event_receipts: await count('SELECT count(*) AS n FROM event_receipts WHERE topic = $1', [
                  topic,
                ]),
              }
            : {
                accuracy_predictions: await count('SELECT count(*) AS n FROM accuracy_predictions'),
                accuracy_outcomes: await count('SELECT count(*) AS n FROM accuracy_outcomes'),
              };
        const afterReady = events - handledAtReady;
        return {
          phase,
          topic,
          events,
          startToReadySeconds: round((tReady - t0) / 1000),
          handledAtReady,
          startToDoneSeconds: round(startToDone),
          eventsPerSecondFromStart: Math.round(events / startToDone),
          eventsPerSecondFromReady: afterReady > 0 ? Math.round(afterReady / readyToDone) : Number.NaN,
          batches,
          eventsPerBatch: batches > 0 ? round(events / batches, 1) : Number.NaN,
          batchSecondsP50: round(histogramQuantile(0.5, batchBuckets), 4),
          batchSecondsP99: round(histogramQuantile(0.99, batchBuckets), 4),
          cpuSeconds: round(cpu(last)),
          cpuSecondsPer1000FromReady:
            afterReady > 0
              ? round(((cpu(last) - cpu(atReady)) * 1000) / (handled(last) - handledAtReady), 4)
              : Number.NaN,
          outcomes: byLabel(last, EVENTS_CONSUMED_TOTAL, 'outcome', { topic }),
          deadLettered: sum(last, EVENTS_DEAD_LETTERED_TOTAL),
          rows,
        };
      } finally {
        bffs.delete(bff);
        const status = await bff.stop();
        if (status.code !== 0)
          console.error(`consumers: the ${phase} BFF exited with ${JSON.stringify(status)}`);
      }
    };

    const phases: ConsumerPhase[] = [];
    for (const phase of ['orders', 'predictions', 'rough', 'rough-unmarked'] as const)
      phases.push(await consume(phase));

    console.log(
      `\nconsumers, one vendor-bff ROLE=events, ${events.toLocaleString('en')} events per phase ` +
        `(${rough.toLocaleString('en')} in each rough one) on ${PARTITIONS} ` +
        `partitions${opts.quick ? ' (BENCH_QUICK: sanity check only)' : ''}:`,
    );
    printTable(
      phases.map((p) => ({
        phase: p.phase,
        events: p.events,
        'start->ready s': p.startToReadySeconds,
        'at ready': p.handledAtReady,
        'start->done s': p.startToDoneSeconds,
        'ev/s from start': p.eventsPerSecondFromStart,
        'ev/s from ready': Number.isNaN(p.eventsPerSecondFromReady) ? '-' : p.eventsPerSecondFromReady,
        batches: p.batches,
        'ev/batch': p.eventsPerBatch,
        'batch p50/p99 ms': `${round(p.batchSecondsP50 * 1000, 1)}/${round(p.batchSecondsP99 * 1000, 1)}`,
        'cpu s (all)': p.cpuSeconds,
        'cpu s /1k ev (from ready)': Number.isNaN(p.cpuSecondsPer1000FromReady)
          ? '-'
          : p.cpuSecondsPer1000FromReady,
        outcomes: Object.entries(p.outcomes)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
        dlq: p.deadLettered,
      })),
    );

    // Every event once: the run is only a figure if the consumer did all of the work.
    const problems: string[] = [];
    const [o, p, ...roughPhases] = phases as [ConsumerPhase, ConsumerPhase, ...ConsumerPhase[]];
    if (o.rows.event_receipts !== events)
      problems.push(`event_receipts holds ${o.rows.event_receipts}, expected ${events}`);
    if ((o.outcomes.duplicate ?? 0) > 0)
      problems.push(`${o.outcomes.duplicate} order events counted as duplicates`);
    if (p.rows.accuracy_predictions !== orders) {
      problems.push(`accuracy_predictions holds ${p.rows.accuracy_predictions}, expected ${orders}`);
    }
    if (p.rows.accuracy_outcomes !== orders) {
      problems.push(
        `accuracy_outcomes holds ${p.rows.accuracy_outcomes}, expected ${orders} (every order joined)`,
      );
    }
    for (const ph of phases)
      if (ph.deadLettered > 0) problems.push(`${ph.phase}: ${ph.deadLettered} dead-lettered`);
    for (const ph of roughPhases) {
      if ((ph.outcomes.ignored ?? 0) !== rough)
        problems.push(`${ph.phase}: ${ph.outcomes.ignored ?? 0} of ${rough} counted ignored`);
      // Nothing stored: the predictions table still holds the orders' checkout estimates only.
      if (ph.rows.accuracy_predictions !== orders)
        problems.push(
          `${ph.phase}: accuracy_predictions holds ${ph.rows.accuracy_predictions}, expected ${orders}`,
        );
    }
    console.log(
      problems.length === 0
        ? `  checks: event_receipts = ${events}, accuracy_predictions = accuracy_outcomes = ${orders}, ` +
            `every rough event ignored, nothing dead-lettered`
        : `  CHECKS FAILED: ${problems.join('; ')}`,
    );
    if (problems.length > 0) throw new Error(`consumers: ${problems.join('; ')}`);

    return {
      machine,
      configuration: { role: 'events', overrides, asShipped },
      eventsPerPhase: events,
      roughEvents: rough,
      orders,
      partitions: PARTITIONS,
      publishSeconds,
      phases,
    };
  } finally {
    for (const bff of bffs) await bff.stop();
    await cleanup();
  }
}

// Standalone: `node loadtest/scenarios/consumers.bench.ts` (BENCH_QUICK=1 for a short run).
if (import.meta.main) await runStandalone(run);
