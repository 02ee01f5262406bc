// Training rows (issue 13; docs/adr/0007-training-rows.md) on the real broker, Postgres and the BigQuery
// emulator (bqemulator, a real server: scripts/bigquery/emulator.sh). What must hold:
//   - the consuming BFF (ROLE=events, real processes) writes exactly one Postgres row per delivered order
//     whose checkout answer was eta-precise's, and BigQuery holds exactly one per order through the reader
//     query, although every event is published twice, predictions come before and after their deliveries,
//     and the first consumer is SIGKILLed mid-stream (its shipper possibly mid-insert) and another started;
//   - a row holds what the BFF served: the checkout event's features, quantiles, model version and shown
//     minutes, and the delivery's minutes;
//   - manual and region-default answers make no row;
//   - a shipper that dies between BigQuery's accept and its shipped_at update sends that batch again, and the
//     reader still sees one row per order (bqemulator does not honour insertId: the copies are really there);
//   - a BigQuery outage fails rounds and backs off while the rows wait in Postgres; one pod ships at a time.
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { parseEnv } from '@eta/config';
import {
  dlqTopicName,
  ORDERS_TOPIC,
  PREDICTIONS_TOPIC,
  prefixedTopic,
  TRAINING_ROWS_TABLE,
  trainingRowsReaderSql,
  type OrderDelivered,
  type OrderEvent,
  type PrecisePrediction,
} from '@eta/contracts';
import { createProducer, type EventProducer, newEventId } from '@eta/events';
import { sampleValue } from '@eta/service-kit';
import {
  createTestBigQuery,
  createTestKafka,
  freePort,
  pollUntil,
  spawnService,
  suiteService,
  type SpawnedService,
  type TestBigQuery,
  type TestKafka,
  uniqueId,
  waitForLeaders,
} from '@eta/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrainingRowsSink } from '../../src/adapters/bigquery.ts';
import { runMigrations } from '../../src/adapters/db/index.ts';
import { applyOrderEvents, applyPredictions } from '../../src/adapters/db/live-events.ts';
import {
  openTrainingShipper,
  type TrainingShipperOptions,
} from '../../src/adapters/events/training-shipper.ts';
import { configSchema } from '../../src/config.ts';
import { databaseUrl, postgresSchema, type SchemaDb, silentLog } from '../db/support.ts';
import { NO_EVENT_LOOP_SHEDDING } from '../support/app-env.ts';

const DONGS = ['1144012000', '1111051500', '1168064000'] as const;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Reads a whole table of the emulator through the contract's reader query, every Seoul day. */
async function readDeduped(bq: TestBigQuery): Promise<Record<string, unknown>[]> {
  const sql = trainingRowsReaderSql(`${bq.projectId}.${bq.dataset}.${TRAINING_ROWS_TABLE}`);
  return bq.query(sql, { from: bq.bigquery.date('2000-01-01'), to: bq.bigquery.date('2100-01-01') });
}

async function rawCount(bq: TestBigQuery): Promise<number> {
  const [exists] = await bq.bigquery.dataset(bq.dataset).table(TRAINING_ROWS_TABLE).exists();
  if (!exists) return 0;
  const rows = await bq.query<{ n: number }>(
    `SELECT count(*) AS n FROM \`${bq.projectId}.${bq.dataset}.${TRAINING_ROWS_TABLE}\``,
  );
  return Number(rows[0]!.n);
}

const count = async (pg: SchemaDb, sql: string, params: unknown[] = []): Promise<number> =>
  Number((await pg.db.query<{ n: string }>(sql, params)).rows[0]!.n);

type Kind = 'model' | 'manual' | 'fallback';

interface Planned {
  readonly orderId: string;
  readonly kind: Kind;
  readonly events: OrderEvent[];
  readonly delivered: OrderDelivered | undefined;
  /** The checkout estimate (the one scored) and a later tracking one. */
  readonly checkout: PrecisePrediction;
  readonly tracking: PrecisePrediction;
}

/** Orders of every kind: a sixth manual, a sixth region default, the rest eta-precise; a fifth undelivered. */
function plan(run: string, orders: number): Planned[] {
  const now = Date.now();
  const out: Planned[] = [];
  for (let i = 0; i < orders; i++) {
    const orderId = `${run}-${i}`;
    const storeId = 1 + (i % 7);
    const dongCode = DONGS[i % DONGS.length]!;
    const orderedAt = new Date(now - 40 * 60_000 + i * 500).toISOString();
    const at = (min: number) => new Date(Date.parse(orderedAt) + min * 60_000).toISOString();
    const common = { schemaVersion: 1 as const, orderId, storeId, dongCode, orderedAt };
    const events: OrderEvent[] = [
      { ...common, eventId: newEventId(), type: 'created', occurredAt: orderedAt },
      { ...common, eventId: newEventId(), type: 'picked-up', occurredAt: at(9) },
    ];
    let delivered: OrderDelivered | undefined;
    if (i % 5 !== 0) {
      delivered = {
        ...common,
        eventId: newEventId(),
        type: 'delivered',
        occurredAt: at(30),
        // Not a multiple of a thousandth: the row must keep the minutes as reported.
        actualMinutes: 18 + ((i * 7_919) % 3_000) / 97,
      };
      events.push(delivered);
    }
    const kind: Kind = i % 6 === 1 ? 'manual' : i % 6 === 2 ? 'fallback' : 'model';
    const p50 = 20 + ((i * 104_729) % 2_000) / 77;
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
      ...(kind === 'model'
        ? {
            model: { name: 'eta-precise' as const, version: i % 4 === 0 ? '1' : '2' },
            features: {
              distance_km: 0.5 + ((i * 31) % 90) / 13 + shift,
              hour_of_day: 11,
              day_of_week: 6,
              region_class: i % 3,
              order_type: 0,
              weather: i % 2 === 0 ? null : 3,
              road_traffic: 2,
              rider_age: null,
              rider_rating: null,
              vehicle_type: 1,
              vehicle_condition: null,
              multiple_deliveries: null,
              festival: 0,
            },
            quantiles: { p10: p50 - 6.25 + shift, p50: p50 + shift, p90: p50 + 9.5 + shift },
            source: 'model' as const,
          }
        : { model: null, features: null, quantiles: null, source: kind }),
      shownMinutes: Math.round(p50) + shift,
      shownRange: { low: Math.round(p50 - 6), high: Math.round(p50 + 9) },
      degraded: kind === 'fallback',
    });
    out.push({
      orderId,
      kind,
      events,
      delivered,
      checkout: prediction(at(-1), 0),
      tracking: prediction(at(5), 3),
    });
  }
  return out;
}

/** The orders that must have a training row: delivered, and answered by the model at checkout. */
const expectedOf = (planned: readonly Planned[]) =>
  planned.filter((p) => p.delivered !== undefined && p.kind === 'model');

/** Every BigQuery row against what the BFF served and what the delivery said. */
function expectRowsToMatch(rows: readonly Record<string, unknown>[], planned: readonly Planned[]): void {
  const want = expectedOf(planned);
  expect(rows.map((r) => r['order_id']).sort()).toEqual(want.map((p) => p.orderId).sort());
  const byId = new Map(rows.map((r) => [r['order_id'] as string, r]));
  const value = (v: unknown) => (v !== null && typeof v === 'object' && 'value' in v ? v.value : v);
  for (const p of want) {
    const r = byId.get(p.orderId)!;
    const served = p.checkout;
    expect(r['prediction_id']).toBe(served.eventId);
    expect(JSON.parse(r['features'] as string)).toEqual(served.features);
    expect({ p10: r['p10'], p50: r['p50'], p90: r['p90'] }).toEqual(served.quantiles);
    expect(r['model']).toBe('eta-precise');
    expect(r['model_version']).toBe(served.model!.version);
    expect(r['shown_minutes']).toBe(served.shownMinutes);
    expect(r['actual_minutes']).toBe(p.delivered!.actualMinutes);
    expect(Number(r['store_id'])).toBe(served.storeId);
    expect(r['dong_code']).toBe(p.delivered!.dongCode);
    expect(new Date(value(r['predicted_at']) as string).toISOString()).toBe(served.occurredAt);
    expect(new Date(value(r['ordered_at']) as string).toISOString()).toBe(p.delivered!.orderedAt);
  }
}

describe('training rows through Kafka, a consumer crash and redeliveries', () => {
  let pg: SchemaDb;
  let k: TestKafka;
  let bq: TestBigQuery;
  let producer: EventProducer;
  const prefix = `tr${uniqueId()}.`;
  const group = `training-${uniqueId()}`;
  const topics = {
    orders: prefixedTopic(ORDERS_TOPIC, prefix),
    predictions: prefixedTopic(PREDICTIONS_TOPIC, prefix),
  };
  const running = new Set<SpawnedService>();

  beforeAll(async () => {
    [pg, k, bq] = await Promise.all([
      postgresSchema('train'),
      createTestKafka({ clientId: 'bff-training-rows-test' }),
      createTestBigQuery({ prefix: 'bff_training' }),
    ]);
    await runMigrations(pg.db, silentLog);
    const names = Object.values(topics).flatMap((t) => [t.name, dlqTopicName(t.name)]);
    await k.admin.createTopics({
      topics: names.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
      waitForLeaders: false,
    });
    for (const name of names) await waitForLeaders(k.admin, name, 3);
    producer = await createProducer({ brokers: k.brokers, clientId: 'bff-training-rows-test', log: quiet });
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...running].map((s) => s.stop()));
    await producer?.close();
    const names = Object.values(topics).flatMap((t) => [t.name, dlqTopicName(t.name)]);
    await k?.admin.deleteTopics({ topics: names }).catch(() => undefined);
    await k?.cleanup();
    await bq?.cleanup();
    await pg?.drop();
  });

  /** Messages of both topics the group has not committed yet. */
  async function lag(): Promise<number> {
    let behind = 0;
    for (const topic of [topics.orders.name, topics.predictions.name]) {
      const [high, committed] = await Promise.all([
        k.admin.fetchTopicOffsets(topic),
        k.admin.fetchOffsets({ groupId: group, topics: [topic] }),
      ]);
      for (const p of high) {
        const c = committed[0]?.partitions.find((x) => x.partition === p.partition)?.offset ?? '-1';
        behind += Number(p.high) - Math.max(0, Number(c));
      }
    }
    return behind;
  }

  /** A consuming and shipping BFF as its own process, so it can be killed like a crashed pod. */
  async function startConsumer(): Promise<SpawnedService> {
    const url = new URL(databaseUrl());
    url.searchParams.set('options', `-c search_path=${pg.schema}`);
    const env = {
      ROLE: 'events',
      LOG_LEVEL: process.env['DEBUG_LOG'] ?? 'warn',
      DATABASE_URL: url.toString(),
      DATABASE_POOL_MAX: '3',
      MIGRATE_ON_START: 'false',
      KAFKA_BROKERS: k.brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      EVENTS_CONSUMER_GROUP: group,
      ...bq.env,
      // Small and frequent, so the crash below is likely to land mid-shipping.
      TRAINING_ROWS_SHIP_INTERVAL_MS: '100',
      TRAINING_ROWS_SHIP_BATCH: '20',
      // The lease is 3 deadlines (at least 10 s): the killed pod's holds the next one off for 15 s.
      TRAINING_ROWS_SHIP_TIMEOUT_MS: '5000',
      SERVICE_TOKENS: 'tests:training-rows-test-token-0123456789abcdef',
      SHUTDOWN_DELAY_MS: '0',
      ...NO_EVENT_LOOP_SHEDDING,
    };
    parseEnv(configSchema, env); // a typo here should fail as a config error, not as a timeout below
    const service = await spawnService({ ...suiteService('vendor-bff'), env, readyTimeoutMs: 180_000 });
    running.add(service);
    return service;
  }

  it('one Postgres row and one BigQuery row per delivered model-answered order, as served', async () => {
    const planned = plan(`o${uniqueId()}`, 240);
    const want = expectedOf(planned);
    const firstHalf = planned.slice(0, 120);
    const secondHalf = planned.slice(120);
    const publishOrders = (ps: readonly Planned[]) =>
      producer.publish(
        topics.orders,
        ps.flatMap((p) => p.events).map((value) => ({ key: value.orderId, value })),
      );
    const publishPredictions = (preds: readonly PrecisePrediction[]) =>
      producer.publish(
        topics.predictions,
        preds.map((value) => ({ key: value.orderId!, value })),
      );
    // Every other order's predictions before its events, the others' after (the join waits for either).
    const early = (ps: readonly Planned[]) => ps.filter((_, i) => i % 2 === 0);
    const late = (ps: readonly Planned[]) => ps.filter((_, i) => i % 2 === 1);
    const both = (ps: readonly Planned[]) => ps.flatMap((p) => [p.checkout, p.tracking]);

    const first = await startConsumer();
    await publishPredictions(both(early(firstHalf)));
    await publishOrders(firstHalf);
    await publishPredictions(both(late(firstHalf)));
    await publishOrders(firstHalf); // every event twice

    // Mid-stream: rows are being written and shipped when the first consumer dies.
    await pollUntil(
      () => count(pg, 'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NOT NULL'),
      (n) => n >= 20,
      120_000,
    );
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    running.delete(first);
    const second = await startConsumer();

    await publishPredictions(both(early(secondHalf)));
    await publishOrders(secondHalf);
    await publishPredictions(both(late(secondHalf)));
    // ... and everything once more, both halves.
    await publishPredictions(both(planned));
    await publishOrders(planned);

    // Settled: the group consumed every message of both topics (the last copies included) ...
    await pollUntil(lag, (n) => n === 0, 180_000);
    // ... and the shipper sent every row there is.
    await pollUntil(
      () => count(pg, 'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NULL'),
      (n) => n === 0,
      120_000,
    );

    expect(await count(pg, 'SELECT count(*) AS n FROM training_rows')).toBe(want.length);
    expect(await count(pg, 'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NULL')).toBe(0);
    expect(
      (await pg.db.query<{ order_id: string }>('SELECT order_id FROM training_rows')).rows
        .map((r) => r.order_id)
        .sort(),
    ).toEqual(want.map((p) => p.orderId).sort());
    // Live accuracy scored the manual and fallback answers too: they are joined, just not training rows.
    const delivered = planned.filter((p) => p.delivered !== undefined);
    expect(await count(pg, 'SELECT count(*) AS n FROM accuracy_outcomes')).toBe(delivered.length);
    expect(delivered.length).toBeGreaterThan(want.length);

    const rows = await readDeduped(bq);
    expectRowsToMatch(rows, planned);
    const raw = await rawCount(bq);
    expect(raw).toBeGreaterThanOrEqual(want.length);
    console.info(
      `training rows: ${want.length} orders, ${raw} rows in the emulator before dedupe ` +
        `(${raw - want.length} copies from the crash), ${rows.length} through the reader query`,
    );

    const metrics = await (await fetch(`${second.origin}/metrics`)).text();
    expect(metrics).toMatch(/^training_rows_unshipped 0$/m);
  }, 600_000);
});

describe('the shipper against the emulator, in process', () => {
  let pg: SchemaDb;
  const datasets: TestBigQuery[] = [];

  beforeAll(async () => {
    pg = await postgresSchema('ship');
    await runMigrations(pg.db, silentLog);
  }, 60_000);

  afterAll(async () => {
    for (const d of datasets) await d.cleanup();
    await pg?.drop();
  });

  const NOW = new Date();
  /** N delivered orders with eta-precise checkout answers, through the consumers' own functions. */
  async function writeRows(run: string, n: number): Promise<Planned[]> {
    const planned = plan(run, n * 2)
      .filter((p) => p.kind === 'model' && p.delivered !== undefined)
      .slice(0, n);
    await applyPredictions(
      pg.db,
      planned.map((p) => p.checkout),
      NOW,
    );
    await applyOrderEvents(
      pg.db,
      'orders',
      planned.map((p) => ({ eventId: p.delivered!.eventId, value: p.delivered! })),
      NOW,
    );
    return planned;
  }

  function shipper(
    target: { apiEndpoint: string; project: string; dataset: string },
    extra: Partial<TrainingShipperOptions> & { holder: string; timeoutMs?: number },
  ) {
    const registry = new Registry();
    const { timeoutMs = 5_000, ...rest } = extra;
    const s = openTrainingShipper({
      db: pg.db,
      sink: createTrainingRowsSink({ ...target, emulator: true, timeoutMs }, { info() {}, warn() {} }),
      registry,
      log: { info() {}, warn() {}, error() {} },
      batch: 25,
      intervalMs: 60_000,
      maxBackoffMs: 60_000,
      leaseMs: 60_000,
      ...rest,
    });
    const metric = async (name: string, labels: Record<string, string> = {}) =>
      sampleValue(await registry.metrics(), name, labels);
    return { s, metric };
  }

  it('dies between BigQuery accepting a batch and marking it: the batch goes again, readers see it once', async () => {
    const bq = await createTestBigQuery({ prefix: 'bff_ship' });
    datasets.push(bq);
    const planned = await writeRows(`c${uniqueId()}`, 60);
    const target = { apiEndpoint: bq.apiEndpoint, project: bq.projectId, dataset: bq.dataset };

    // The first pod: BigQuery accepts its first batch, then the pod "crashes" before the update.
    const crashed: string[][] = [];
    const a = shipper(target, {
      holder: 'pod-a',
      afterInsert: (ids) => {
        crashed.push([...ids]);
        throw new Error('killed between accept and mark');
      },
    });
    expect(await a.s.shipOnce()).toMatchObject({ outcome: 'failed', shipped: 0 });
    expect(await a.metric('training_rows_ship_failures_total', { stage: 'mark' })).toBe(1);
    expect(crashed).toHaveLength(1);
    expect(await rawCount(bq)).toBe(25);
    expect(await count(pg, 'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NULL')).toBe(60);
    await a.s.close(); // lets the lease go, as a pod's shutdown does

    // The next pod ships everything, the crashed batch again among it.
    const b = shipper(target, { holder: 'pod-b' });
    expect(await b.s.shipOnce()).toMatchObject({ outcome: 'shipped', shipped: 60, unshipped: 0 });
    expect(await b.metric('training_rows_shipped_total')).toBe(60);
    expect(await b.metric('training_rows_unshipped')).toBe(0);
    await b.s.close();

    // bqemulator keeps both copies of an insertId (real BigQuery usually drops the second, best effort):
    // the 25 rows of the crashed batch are really there twice; the reader query shows each order once.
    expect(await rawCount(bq)).toBe(60 + 25);
    const rows = await readDeduped(bq);
    expect(rows).toHaveLength(60);
    expectRowsToMatch(
      rows,
      planned.map((p) => p),
    );
    // Nothing left for anyone: a later round ships nothing more.
    const c = shipper(target, { holder: 'pod-c' });
    expect(await c.s.shipOnce()).toMatchObject({ outcome: 'idle', shipped: 0 });
    await c.s.close();
    expect(await rawCount(bq)).toBe(85);
  }, 120_000);

  it('a BigQuery outage fails the round and backs off, the rows wait; one pod ships at a time', async () => {
    await pg.db.query('DELETE FROM training_rows');
    const planned = await writeRows(`d${uniqueId()}`, 30);
    // Nothing listens there: a real refused connection.
    const down = shipper(
      { apiEndpoint: `http://127.0.0.1:${await freePort()}`, project: 'eta-test', dataset: 'nowhere' },
      { holder: 'pod-down' },
    );
    expect(await down.s.shipOnce()).toMatchObject({ outcome: 'failed' });
    expect(await down.metric('training_rows_ship_failures_total', { stage: 'ensure' })).toBe(1);
    // Within the backoff nothing is tried at all.
    expect(await down.s.shipOnce()).toMatchObject({ outcome: 'backing-off' });
    expect(await count(pg, 'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NULL')).toBe(30);
    await down.s.close();

    // A BigQuery that takes the connection and never answers: the call's deadline ends the round.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const hung = shipper(
        { apiEndpoint: `http://127.0.0.1:${port}`, project: 'eta-test', dataset: 'nowhere' },
        { holder: 'pod-hung', timeoutMs: 500 },
      );
      const started = Date.now();
      expect(await hung.s.shipOnce()).toMatchObject({ outcome: 'failed' });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(await hung.metric('training_rows_ship_failures_total', { stage: 'ensure' })).toBe(1);
      await hung.s.close();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
    expect(await count(pg, 'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NULL')).toBe(30);

    const bq = await createTestBigQuery({ prefix: 'bff_ship' });
    datasets.push(bq);
    const target = { apiEndpoint: bq.apiEndpoint, project: bq.projectId, dataset: bq.dataset };
    const one = shipper(target, { holder: 'pod-1' });
    const two = shipper(target, { holder: 'pod-2' });
    const rounds = await Promise.all([one.s.shipOnce(), two.s.shipOnce()]);
    expect(rounds.map((r) => r.outcome).sort()).toEqual(['not-leader', 'shipped']);
    expect(rounds.reduce((sum, r) => sum + r.shipped, 0)).toBe(30);
    await Promise.all([one.s.close(), two.s.close()]);
    expect(await rawCount(bq)).toBe(30);
    expectRowsToMatch(await readDeduped(bq), planned);
  }, 120_000);
});
