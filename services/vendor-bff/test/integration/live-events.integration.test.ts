// The event consumers (ROLE=events) on the real broker, Postgres and Redis: order events and predictions
// published to topics of their own (KAFKA_TOPIC_PREFIX), every event published twice (as a producer retry
// or a redelivery would), predictions before and after their deliveries. What must hold: each event counted
// exactly once; live accuracy equal to an offline computation from the same events; the live per-dong
// statistics in Redis where Geo reads them; poison messages dead-lettered with their reason while the
// consumer goes on; the HTTP ingest refusing a bad batch whole and publishing a good one.
import { parseEnv } from '@eta/config';
import {
  DLQ_HEADERS,
  dlqTopicName,
  liveDongKey,
  LiveDongStats,
  ORDERS_TOPIC,
  PREDICTION_JOIN_HEADER,
  PREDICTIONS_TOPIC,
  prefixedTopic,
  type OrderEvent,
  type PrecisePrediction,
} from '@eta/contracts';
import { createProducer, type EventProducer, newEventId } from '@eta/events';
import type { ServiceApp } from '@eta/service-kit';
import {
  createTestKafka,
  pollUntil,
  createTestRedis,
  type TestKafka,
  type TestRedis,
  uniqueId,
  waitForLeaders,
} from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/adapters/db/index.ts';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { databaseUrl, postgresSchema, redisUrl, type SchemaDb, silentLog } from '../db/support.ts';
import { appEnv } from '../support/app-env.ts';
import { metricValue } from '../support/metrics.ts';

const SERVICE_TOKEN = 'live-events-integration-shared-token-0123';
const DONGS = ['1144012000', '1111051500', '1168064000'] as const;

let pg: SchemaDb;
let k: TestKafka;
let redis: TestRedis;
let app: ServiceApp;
let producer: EventProducer;
let prefix = '';
let namespace = '';
const topics = () => ({
  orders: prefixedTopic(ORDERS_TOPIC, prefix),
  predictions: prefixedTopic(PREDICTIONS_TOPIC, prefix),
});

const count = async (sql: string, params: unknown[] = []): Promise<number> =>
  Number((await pg.db.query<{ n: string }>(sql, params)).rows[0]!.n);

/** A counter of the consumers; an absent series reads 0 (their per-topic series start at 0 anyway). */
const metric = async (name: string, labels: Record<string, string>): Promise<number> =>
  (await metricValue(app, name, labels)) ?? 0;

beforeAll(async () => {
  [pg, k, redis] = await Promise.all([
    postgresSchema('live'),
    createTestKafka({ clientId: 'bff-live-events-test' }),
    createTestRedis(),
  ]);
  await runMigrations(pg.db, silentLog);
  prefix = `t${uniqueId()}.`;
  namespace = redis.prefix;
  const names = Object.values(topics()).flatMap((t) => [t.name, dlqTopicName(t.name)]);
  await k.admin.createTopics({
    topics: names.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
    waitForLeaders: false,
  });
  for (const name of names) await waitForLeaders(k.admin, name, 3);
  producer = await createProducer({
    brokers: k.brokers,
    clientId: 'bff-live-events-test',
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const url = new URL(databaseUrl());
  url.searchParams.set('options', `-c search_path=${pg.schema}`);
  const config = parseEnv(
    configSchema,
    appEnv({
      ROLE: 'events',
      LOG_LEVEL: process.env['DEBUG_LOG'] ?? 'silent',
      DATABASE_URL: url.toString(),
      DATABASE_POOL_MAX: '3',
      MIGRATE_ON_START: 'false',
      KAFKA_BROKERS: k.brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      EVENTS_CONSUMER_GROUP: `g-${uniqueId()}`,
      REDIS_URL: redisUrl(),
      LIVE_STATS_NAMESPACE: namespace,
      LIVE_STATS_INTERVAL_MS: '200',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
    }),
  );
  app = await buildApp(config);
  await app.ready();
  await pollUntil(
    async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode,
    (s) => s === 200,
    60_000,
  );
}, 120_000);

afterAll(async () => {
  await app?.close();
  await producer?.close();
  if (prefix !== '') {
    const names = Object.values(topics()).flatMap((t) => [t.name, dlqTopicName(t.name)]);
    await k.admin.deleteTopics({ topics: names }).catch(() => undefined);
  }
  await k?.cleanup();
  await redis?.cleanup();
  await pg?.drop();
});

interface Planned {
  readonly orderId: string;
  readonly storeId: number;
  readonly dongCode: string;
  readonly events: OrderEvent[];
  readonly predictions: PrecisePrediction[];
}

/** Spread-out values in [0, 1) from an index and a seed: enough variety for the figures, and repeatable. */
const spread = (i: number, seed: number): number => ((i * 7_919 + seed * 104_729) % 1_000) / 1_000;

function plan(run: string, orders: number, seed: number): Planned[] {
  const now = Date.now();
  const out: Planned[] = [];
  for (let i = 0; i < orders; i++) {
    const orderId = `${run}-${i}`;
    const storeId = 1 + (i % 4);
    const dongCode = DONGS[i % DONGS.length]!;
    const orderedAt = new Date(now - 30 * 60_000 + i * 1_000).toISOString();
    const common = { schemaVersion: 1 as const, orderId, storeId, dongCode, orderedAt };
    const actualMinutes = Math.round((15 + spread(i, seed) * 40) * 100) / 100;
    const at = (min: number) => new Date(Date.parse(orderedAt) + min * 60_000).toISOString();
    const events: OrderEvent[] = [
      { ...common, eventId: newEventId(), type: 'created', occurredAt: orderedAt },
      { ...common, eventId: newEventId(), type: 'rider-assigned', occurredAt: at(2) },
      { ...common, eventId: newEventId(), type: 'picked-up', occurredAt: at(10) },
    ];
    // A fifth of the orders stay in flight; the rest are delivered "now", inside the 20-minute window.
    if (i % 5 !== 0) {
      events.push({
        ...common,
        eventId: newEventId(),
        type: 'delivered',
        occurredAt: new Date().toISOString(),
        actualMinutes,
      });
    }
    const p50 = Math.round((20 + spread(i + 1, seed * 3) * 30) * 1000) / 1000;
    const prediction = (occurredAt: string, shift: number): PrecisePrediction => ({
      schemaVersion: 1,
      type: 'prediction',
      kind: 'precise',
      eventId: newEventId(),
      occurredAt,
      requestId: `req-${orderId}-${shift}`,
      orderId,
      storeId,
      destinationCell: '8930e1d8a6bffff',
      model: { name: 'eta-precise', version: '2' },
      features: { distance_km: 2 },
      quantiles: { p10: p50 - 6 + shift, p50: p50 + shift, p90: p50 + 9 + shift },
      shownMinutes: Math.round(p50),
      shownRange: { low: Math.round(p50 - 6), high: Math.round(p50 + 9) },
      source: 'model',
      degraded: false,
    });
    // The checkout estimate, and a later tracking one that must NOT be the one scored.
    const predictions = [prediction(at(-1), 0), prediction(at(5), 7)];
    out.push({ orderId, storeId, dongCode, events, predictions });
  }
  return out;
}

/** The figures computed here, independently of the service: the earliest prediction per delivered order. */
function offline(planned: readonly Planned[], storeId: number) {
  let n = 0;
  let abs = 0;
  let err = 0;
  let covered = 0;
  for (const p of planned) {
    if (p.storeId !== storeId) continue;
    const delivered = p.events.find((e) => e.type === 'delivered');
    if (delivered === undefined || delivered.type !== 'delivered') continue;
    const first = [...p.predictions].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt))[0]!;
    const mm = (x: number) => Math.round(x * 1000);
    const predicted = mm(first.quantiles!.p50);
    const actual = mm(delivered.actualMinutes);
    n += 1;
    abs += Math.abs(predicted - actual);
    err += predicted - actual;
    if (actual >= mm(first.quantiles!.p10) && actual <= mm(first.quantiles!.p90)) covered += 1;
  }
  const r = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
  return {
    orders: n,
    maeMinutes: r(abs / n / 1000, 3),
    biasMinutes: r(err / n / 1000, 3),
    coverage: r(covered / n, 4),
  };
}

describe('event consumers on the real broker', () => {
  const run = `o${uniqueId()}`;
  const planned = plan(run, 300, 42);

  it('counts every event once though each was published twice, in any order of predictions and deliveries', async () => {
    const { orders, predictions } = topics();
    const all = planned.flatMap((p) => p.events);
    // Half the orders' predictions go before their events, half after (the join waits for either side).
    const early = planned.filter((_, i) => i % 2 === 0).flatMap((p) => p.predictions);
    const late = planned.filter((_, i) => i % 2 === 1).flatMap((p) => p.predictions);
    const send = (evs: OrderEvent[]) =>
      producer.publish(
        orders,
        evs.map((value) => ({ key: value.orderId, value })),
      );
    await producer.publish(
      predictions,
      early.map((value) => ({ key: value.orderId!, value })),
    );
    await send(all);
    await send(all);
    await producer.publish(
      predictions,
      late.map((value) => ({ key: value.orderId!, value })),
    );
    await producer.publish(
      predictions,
      [...early, ...late].map((value) => ({ key: value.orderId!, value })),
    );

    const delivered = planned.filter((p) => p.events.some((e) => e.type === 'delivered')).length;
    await pollUntil(
      () => count('SELECT count(*) AS n FROM accuracy_outcomes'),
      (n) => n >= delivered,
      90_000,
    );
    await pollUntil(
      () => count('SELECT COALESCE(sum(count), 0) AS n FROM order_event_counts'),
      (n) => n >= all.length,
      90_000,
    );
    // Settled: nothing more arrives (the second copies were all seen).
    await pollUntil(
      () => metric('events_consumed_total', { topic: orders.name, outcome: 'duplicate' }),
      (n) => n >= all.length,
      90_000,
    );

    expect(await count('SELECT count(*) AS n FROM accuracy_outcomes')).toBe(delivered);
    expect(await count('SELECT COALESCE(sum(count), 0) AS n FROM order_event_counts')).toBe(all.length);
    for (const type of ['created', 'rider-assigned', 'picked-up', 'delivered'] as const) {
      expect(
        await count('SELECT COALESCE(sum(count), 0) AS n FROM order_event_counts WHERE type = $1', [type]),
      ).toBe(all.filter((e) => e.type === type).length);
    }
    expect(await metric('events_consumed_total', { topic: orders.name, outcome: 'applied' })).toBe(
      all.length,
    );
    expect(await metric('live_accuracy_orders_total', { model: 'eta-precise@2' })).toBe(delivered);
  }, 180_000);

  it('live accuracy equals an offline computation from the same events, to the last digit', async () => {
    const { date } = { date: new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 10) };
    for (const storeId of [1, 2, 3, 4]) {
      const expected = offline(planned, storeId);
      const row = (
        await pg.db.query<{ n: string; abs: string; err: string; covered: string }>(
          `SELECT count(*) AS n, sum(abs(predicted_mm - actual_mm)) AS abs, sum(predicted_mm - actual_mm) AS err,
             count(*) FILTER (WHERE actual_mm BETWEEN low_mm AND high_mm) AS covered
           FROM accuracy_outcomes WHERE store_id = $1`,
          [storeId],
        )
      ).rows[0]!;
      const { figuresOf } = await import('../../src/domain/live-events.ts');
      const { storeDayAccuracy } = await import('../../src/adapters/db/live-events.ts');
      const served = await storeDayAccuracy(pg.db, storeId, date, 500);
      // Orders placed in the last half hour may straddle Seoul midnight only if the test runs then; the
      // store's whole table is the reference, the API's day must hold the same when no day boundary passed.
      const all = figuresOf({
        orders: Number(row.n),
        absErrorMm: Number(row.abs),
        errorMm: Number(row.err),
        covered: Number(row.covered),
      });
      expect(all).toEqual(expected);
      if (served.day.orders === expected.orders) expect(figuresOf(served.day)).toEqual(expected);
    }
  });

  it('writes the live per-dong statistics where Geo reads them', async () => {
    // The test client puts every key under the prefix itself: the namespace the service was given.
    const raw = redis.redis;
    for (const dong of DONGS) {
      const mine = planned.filter((p) => p.dongCode === dong);
      const delivered = mine.flatMap((p) => p.events).filter((e) => e.type === 'delivered');
      const stats = await pollUntil(
        async () => {
          const text = await raw.get(liveDongKey(dong));
          return text === null ? null : LiveDongStats.parse(JSON.parse(text));
        },
        (s) => s !== null && s.deliveries20m === delivered.length,
        30_000,
      );
      expect(stats!.ordersInFlight).toBe(mine.length - delivered.length);
      const mean =
        delivered.reduce((sum, e) => sum + (e.type === 'delivered' ? e.actualMinutes : 0), 0) /
        delivered.length;
      expect(stats!.avgDeliveryMinutes20m).toBeCloseTo(mean, 2);
    }
  });

  it('dead-letters poison messages with their reason and goes on', async () => {
    const { orders } = topics();
    const good = plan(`${run}-after-poison`, 1, 7)[0]!.events[0]!;
    const rawProducer = k.kafka.producer();
    await rawProducer.connect();
    await rawProducer.send({
      topic: orders.name,
      messages: [
        { key: 'p-1', value: 'not json' },
        { key: 'p-2', value: JSON.stringify({ ...good, eventId: newEventId(), schemaVersion: 99 }) },
        { key: good.orderId, value: JSON.stringify(good) },
      ],
    });
    await rawProducer.disconnect();
    await pollUntil(
      () => count('SELECT count(*) AS n FROM live_orders WHERE order_id = $1', [good.orderId]),
      (n) => n === 1,
      60_000,
    );

    const reasons: string[] = [];
    const consumer = k.kafka.consumer({ groupId: `dlq-${uniqueId()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: dlqTopicName(orders.name), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        reasons.push(String(message.headers?.[DLQ_HEADERS.reason] ?? ''));
      },
    });
    try {
      await pollUntil(
        async () => reasons.length,
        (n) => n >= 2,
        60_000,
      );
    } finally {
      await consumer.disconnect();
    }
    expect(reasons.sort()).toEqual(['not-json', 'unknown-version']);
    expect(await metric('events_dead_lettered_total', { topic: orders.name, reason: 'not-json' })).toBe(1);
  }, 120_000);

  it('passes over predictions with no order to join by their header, unread, and counts them ignored', async () => {
    const { predictions } = topics();
    const ignored = () => metric('events_consumed_total', { topic: predictions.name, outcome: 'ignored' });
    const notJson = () =>
      metric('events_dead_lettered_total', { topic: predictions.name, reason: 'not-json' });
    const [ignoredBefore, notJsonBefore] = [await ignored(), await notJson()];
    const [withOrder] = plan(`${run}-join-header`, 1, 11);
    const sentinel = withOrder!.predictions[0]!;
    const rawProducer = k.kafka.producer();
    await rawProducer.connect();
    await rawProducer.send({
      topic: predictions.name,
      messages: [
        // As the prediction log sends a rough answer, but its body is not even JSON: never read.
        { key: 'rough-1', value: 'not json', headers: { [PREDICTION_JOIN_HEADER]: 'none' } },
        { key: 'rough-2', value: 'not json', headers: { [PREDICTION_JOIN_HEADER]: 'none' } },
        // With an order: decoded and applied as ever (same partition as nothing else: key = order id).
        { key: sentinel.orderId!, value: JSON.stringify(sentinel) },
      ],
    });
    await rawProducer.disconnect();
    await pollUntil(
      () => count('SELECT count(*) AS n FROM accuracy_predictions WHERE order_id = $1', [withOrder!.orderId]),
      (n) => n === 1,
      60_000,
    );
    await pollUntil(
      () => ignored(),
      (n) => n >= ignoredBefore + 2,
      60_000,
    );
    expect(await ignored()).toBe(ignoredBefore + 2);
    expect(await notJson()).toBe(notJsonBefore);
  }, 120_000);

  it('the ingest refuses a batch with one bad event whole, and publishes a good one before answering 202', async () => {
    const batch = plan(`${run}-ingest`, 2, 9).flatMap((p) => p.events.slice(0, 2));
    const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/events/orders',
      headers: auth,
      payload: { events: [...batch, { ...batch[0], eventId: 'nope' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    const unauth = await app.inject({ method: 'POST', url: '/v1/events/orders', payload: { events: batch } });
    expect(unauth.statusCode).toBe(401);

    const ok = await app.inject({
      method: 'POST',
      url: '/v1/events/orders',
      headers: auth,
      payload: { events: batch },
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toEqual({ accepted: batch.length });
    const ids = [...new Set(batch.map((e) => e.orderId))];
    await pollUntil(
      () => count('SELECT count(*) AS n FROM live_orders WHERE order_id = ANY($1::text[])', [ids]),
      (n) => n === ids.length,
      60_000,
    );
  }, 120_000);
});
