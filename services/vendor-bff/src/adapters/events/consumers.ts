/**
 * The event consumers (ROLE=events; also ROLE=all on the in-process bus): one consumer group reads
 * `orders` and `predictions` a batch at a time and applies each batch in one Postgres transaction
 * (adapters/db/live-events.ts) before its offsets are committed; a timer writes the live per-dong
 * statistics where Geo reads them (Redis, REDIS_URL) and another prunes what the windows no longer need.
 * The join's transaction also writes the training rows (docs/adr/0007-training-rows.md); shipping them to
 * BigQuery is training-shipper.ts's, beside these, never in their way. docs/adr/0006-event-consumers.md.
 */
import {
  DLQ_REASONS,
  EVENTS_BATCH_SECONDS,
  EVENTS_CONSUMED_TOTAL,
  EVENTS_DEAD_LETTERED_TOTAL,
  LIVE_ACCURACY_ABS_ERROR_MINUTES_TOTAL,
  LIVE_ACCURACY_COVERED_TOTAL,
  LIVE_ACCURACY_ERROR_MINUTES_SUM,
  LIVE_ACCURACY_ORDERS_TOTAL,
  LIVE_DONG_STATS_DONGS,
  LIVE_DONG_STATS_WRITTEN_SECONDS,
  ORDERS_TOPIC,
  PREDICTIONS_TOPIC,
  predictionWithoutOrder,
  prefixedTopic,
  TRAINING_ROWS_WRITTEN_TOTAL,
  writeLiveDongStats,
  type LiveStatsRedis,
} from '@eta/contracts';
import {
  createConsumer,
  type EventBus,
  type EventLog,
  type EventProducer,
  type EventSubscriber,
  openProducer,
} from '@eta/events';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Config } from '../../config.ts';
import {
  applyOrderEvents,
  applyPredictions,
  type JoinedOutcome,
  liveDongStats,
  prune,
  type Retention,
} from '../db/live-events.ts';
import type { Database } from '../db/database.ts';

export interface EventConsumers {
  readonly transport: 'kafka' | 'bus';
  readonly groupId: string;
  /**
   * Starts the timers and joins the group (Kafka) or subscribes to the bus; resolves once joined. A
   * failed join is retried until close(), so the caller need not wait for it.
   */
  start(): Promise<void>;
  /** True once started and until closed. */
  running(): boolean;
  /** Writes the live per-dong statistics now (also run by the timer); answers the dongs written. */
  writeLiveStats(): Promise<number>;
  /** Stops the timers, leaves the group after the batch in hand, closes what it opened. */
  close(): Promise<void>;
}

export interface EventConsumersOptions {
  readonly db: Database;
  readonly registry: Registry;
  readonly log: EventLog;
  readonly clientId: string;
  /** With KAFKA_BROKERS unset: the process's in-process bus (the prediction log publishes to it). */
  readonly bus?: EventBus;
  /** Where live per-dong statistics are written; none without REDIS_URL. */
  readonly redis?: LiveStatsRedis;
  readonly now?: () => Date;
}

interface ConsumerMetrics {
  consumed(topic: string, outcome: 'applied' | 'duplicate' | 'ignored', n: number): void;
  poisoned(topic: string, reason: string): void;
  batch(topic: string, seconds: number): void;
  joined(outcomes: readonly JoinedOutcome[]): void;
  trainingRows(n: number): void;
  liveWritten(dongs: number, at: Date): void;
}

function createConsumerMetrics(registry: Registry, topics: readonly string[]): ConsumerMetrics {
  const consumed = new Counter({
    name: EVENTS_CONSUMED_TOTAL,
    help: 'Events the consumers handled, by topic and outcome (applied; duplicate: seen before; ignored: nothing to do).',
    labelNames: ['topic', 'outcome'] as const,
    registers: [registry],
  });
  const dead = new Counter({
    name: EVENTS_DEAD_LETTERED_TOTAL,
    help: 'Messages the consumers could not handle, sent to <topic>.dlq, by topic and reason.',
    labelNames: ['topic', 'reason'] as const,
    registers: [registry],
  });
  const batches = new Histogram({
    name: EVENTS_BATCH_SECONDS,
    help: 'Seconds to apply one batch of events, its database transaction included.',
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const orders = new Counter({
    name: LIVE_ACCURACY_ORDERS_TOTAL,
    help: 'Delivered orders joined to their prediction, by model.',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const absError = new Counter({
    name: LIVE_ACCURACY_ABS_ERROR_MINUTES_TOTAL,
    help: 'Sum of |predicted - actual| minutes over joined orders, by model (MAE = this / orders).',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const error = new Gauge({
    name: LIVE_ACCURACY_ERROR_MINUTES_SUM,
    help: 'Sum of (predicted - actual) minutes over joined orders since start, by model (bias = this / orders).',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const covered = new Counter({
    name: LIVE_ACCURACY_COVERED_TOTAL,
    help: 'Joined orders whose actual minutes fell inside the predicted p10-p90, by model.',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const training = new Counter({
    name: TRAINING_ROWS_WRITTEN_TOTAL,
    help: 'Training rows written in Postgres: delivered orders joined to an eta-precise answer (docs/adr/0007).',
    registers: [registry],
  });
  const written = new Gauge({
    name: LIVE_DONG_STATS_WRITTEN_SECONDS,
    help: 'When the live per-dong statistics were last written to Redis (seconds since the epoch).',
    registers: [registry],
  });
  const dongs = new Gauge({
    name: LIVE_DONG_STATS_DONGS,
    help: 'Dongs written at the last write of the live per-dong statistics.',
    registers: [registry],
  });
  for (const topic of topics) {
    for (const outcome of ['applied', 'duplicate', 'ignored'] as const) consumed.inc({ topic, outcome }, 0);
    for (const reason of DLQ_REASONS) dead.inc({ topic, reason }, 0);
  }
  return {
    consumed: (topic, outcome, n) => {
      if (n > 0) consumed.inc({ topic, outcome }, n);
    },
    poisoned: (topic, reason) => dead.inc({ topic, reason }),
    batch: (topic, seconds) => batches.observe({ topic }, seconds),
    joined: (outcomes) => {
      for (const o of outcomes) {
        const labels = { model: o.model };
        orders.inc(labels);
        absError.inc(labels, Math.abs(o.predictedMm - o.actualMm) / 1000);
        error.inc(labels, (o.predictedMm - o.actualMm) / 1000);
        if (o.actualMm >= o.lowMm && o.actualMm <= o.highMm) covered.inc(labels);
      }
    },
    trainingRows: (n) => {
      if (n > 0) training.inc(n);
    },
    liveWritten: (n, at) => {
      dongs.set(n);
      written.set(at.getTime() / 1000);
    },
  };
}

/** How often the live statistics are written and the state pruned. */
const PRUNE_EVERY_MS = 60_000;

export function openEventConsumers(config: Config, opts: EventConsumersOptions): EventConsumers {
  const now = opts.now ?? (() => new Date());
  const orders = prefixedTopic(ORDERS_TOPIC, config.KAFKA_TOPIC_PREFIX);
  const predictions = prefixedTopic(PREDICTIONS_TOPIC, config.KAFKA_TOPIC_PREFIX);
  const metrics = createConsumerMetrics(opts.registry, [orders.name, predictions.name]);
  const groupId = config.EVENTS_CONSUMER_GROUP;
  const brokers = config.KAFKA_BROKERS;
  const retention: Retention = {
    receiptsMs: config.EVENTS_RECEIPT_RETENTION_HOURS * 3_600_000,
    joinWindowMs: config.ACCURACY_JOIN_WINDOW_HOURS * 3_600_000,
    ordersMs: 6 * 3_600_000,
    outcomesMs: config.ACCURACY_RETENTION_DAYS * 86_400_000,
    // With BigQuery a row leaves Postgres only once shipped; without, Postgres is where it is read.
    trainingRows: {
      ageMs: config.TRAINING_ROWS_RETENTION_DAYS * 86_400_000,
      shippedMs:
        config.BIGQUERY_PROJECT !== undefined
          ? config.TRAINING_ROWS_SHIPPED_RETENTION_HOURS * 3_600_000
          : null,
    },
  };

  const onPoison = (topic: string, reason: string) => metrics.poisoned(topic, reason);
  const deadLetter: EventProducer | undefined =
    brokers !== undefined
      ? openProducer({
          brokers,
          clientId: `${opts.clientId}-dlq`,
          log: opts.log,
          sendTimeoutMs: config.EVENTS_SEND_TIMEOUT_MS,
          ...config.kafkaSecurity,
        })
      : undefined;
  if (brokers === undefined && opts.bus === undefined) {
    throw new Error('event consumers without KAFKA_BROKERS need the in-process bus');
  }

  const timed = async <T>(topic: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      metrics.batch(topic, (performance.now() - started) / 1000);
    }
  };

  /** A fresh group member with both subscriptions (a failed first join is retried with a new one). */
  function member(): EventSubscriber {
    const subscriber =
      brokers !== undefined
        ? createConsumer({
            brokers,
            clientId: opts.clientId,
            groupId,
            log: opts.log,
            ...config.kafkaSecurity,
            ...(deadLetter !== undefined ? { deadLetter } : {}),
            onPoison,
          })
        : opts.bus!.subscriber({ groupId, deadLetter: true, onPoison });

    subscriber.subscribeBatch(orders, async (events) => {
      const applied = await timed(orders.name, () =>
        applyOrderEvents(
          opts.db,
          orders.name,
          events.map((e) => ({ eventId: e.value.eventId, value: e.value })),
          now(),
        ),
      );
      metrics.consumed(orders.name, 'applied', applied.applied);
      metrics.consumed(orders.name, 'duplicate', applied.received - applied.applied);
      metrics.joined(applied.joined);
      metrics.trainingRows(applied.trainingRows);
    });

    // Predictions with no order to join (rough answers, precise ones without an orderId) say so in a
    // header and are passed over undecoded (@eta/contracts PREDICTION_JOIN_HEADER); counted as ignored.
    subscriber.subscribeBatch(
      predictions,
      async (events) => {
        const applied = await timed(predictions.name, () =>
          applyPredictions(
            opts.db,
            events.map((e) => e.value),
            now(),
          ),
        );
        metrics.consumed(predictions.name, 'applied', applied.withOrder);
        metrics.consumed(predictions.name, 'ignored', applied.received - applied.withOrder);
        metrics.joined(applied.joined);
        metrics.trainingRows(applied.trainingRows);
      },
      {
        skip: predictionWithoutOrder,
        onSkipped: (n) => metrics.consumed(predictions.name, 'ignored', n),
      },
    );
    return subscriber;
  }

  let state: 'new' | 'joining' | 'running' | 'closed' = 'new';
  let subscriber: EventSubscriber | undefined;
  let joining: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];

  async function writeLiveStats(): Promise<number> {
    const redis = opts.redis;
    if (redis === undefined) return 0;
    const at = now();
    const stats = await liveDongStats(opts.db, at);
    await Promise.all(
      [...stats].map(([dong, s]) =>
        writeLiveDongStats(redis, dong, s, { namespace: config.LIVE_STATS_NAMESPACE }),
      ),
    );
    metrics.liveWritten(stats.size, at);
    return stats.size;
  }

  // A timer's run never overlaps the previous one; a failure is logged by `run` and tried again next time.
  const inFlight = new Set<Promise<unknown>>();
  function every(ms: number, run: () => Promise<unknown>): void {
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (running !== undefined) return;
      const p = run().finally(() => {
        running = undefined;
        inFlight.delete(p);
      });
      running = p;
      inFlight.add(p);
    }, ms);
    timer.unref();
    timers.push(timer);
  }

  return {
    transport: brokers !== undefined ? 'kafka' : 'bus',
    groupId,
    start() {
      if (state !== 'new') throw new Error(`event consumers cannot start: they are ${state}`);
      state = 'joining';
      if (opts.redis !== undefined) {
        every(config.LIVE_STATS_INTERVAL_MS, () =>
          writeLiveStats().catch((err: unknown) =>
            opts.log.warn({ err }, 'live dong statistics: write failed; retrying at the next interval'),
          ),
        );
      }
      every(PRUNE_EVERY_MS, () =>
        prune(opts.db, retention, now())
          .then((pruned) => opts.log.info({ pruned }, 'event consumers: state pruned'))
          .catch((err: unknown) => opts.log.warn({ err }, 'event consumers: prune failed')),
      );
      // Joining waits for the broker as long as it takes (a consumer that cannot join has nothing to do;
      // the pod stays unready, it does not crash-loop); after the first join the client reconnects itself.
      joining = (async () => {
        for (let attempt = 1; state === 'joining'; attempt++) {
          const candidate = member();
          subscriber = candidate;
          try {
            await candidate.start();
            if (state === 'joining') state = 'running';
            opts.log.info(
              {
                transport: brokers !== undefined ? 'kafka' : 'bus',
                groupId,
                topics: [orders.name, predictions.name],
                liveStats: opts.redis !== undefined ? 'redis' : 'off (REDIS_URL unset)',
              },
              'event consumers started',
            );
            return;
          } catch (err) {
            opts.log.warn({ err, attempt, groupId }, 'event consumers: joining the group failed; retrying');
            await candidate.close().catch(() => undefined);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6)));
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
        }
      })();
      return joining;
    },
    running: () => state === 'running',
    writeLiveStats,
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      for (const t of timers) clearInterval(t);
      wake?.();
      await Promise.allSettled([...inFlight, joining]);
      await subscriber?.close();
      await deadLetter?.close();
    },
  };
}
