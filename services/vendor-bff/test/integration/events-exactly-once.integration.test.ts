// Exactly once in the aggregates, through a broker crash, a consumer crash and a rebalance (issue 18):
// 100,000 order events with unique ids (25,000 orders x created, rider-assigned, picked-up, delivered)
// published to a Kafka broker of this file's own while
//   - the broker is SIGKILLed and started again on the same data (the publisher sends each batch until
//     the broker acknowledges it, so a batch whose acknowledgement was lost is sent twice),
//   - the consuming BFF (ROLE=events, a real process) is SIGKILLed mid-batch and a new one started,
//   - a second consumer joins the group mid-stream and leaves again (two rebalances).
// Then every event must be counted exactly once: 100,000 receipts, 25,000 per type per the counts table,
// every order delivered. The shared broker of the other test files is never touched.
import { parseEnv } from '@eta/config';
import {
  dlqTopicName,
  ORDERS_TOPIC,
  PREDICTIONS_TOPIC,
  prefixedTopic,
  type OrderEvent,
} from '@eta/contracts';
import { newEventId, openProducer, type EventProducer } from '@eta/events';
import {
  createTestKafka,
  pollUntil,
  spawnService,
  startKafkaBroker,
  suiteService,
  type KafkaBroker,
  type SpawnedService,
} from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/adapters/db/index.ts';
import { configSchema } from '../../src/config.ts';
import { databaseUrl, postgresSchema, type SchemaDb, silentLog } from '../db/support.ts';
import { NO_EVENT_LOOP_SHEDDING } from '../support/app-env.ts';

const ORDERS = 25_000;
const TOTAL = ORDERS * 4;
const BATCH = 1_000;
const PARTITIONS = 6;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let pg: SchemaDb;
let broker: KafkaBroker;
let producer: EventProducer;
const consumers = new Set<SpawnedService>();
const prefix = `x${Date.now().toString(36)}.`;
const topic = prefixedTopic(ORDERS_TOPIC, prefix);
const group = `exactly-once-${Date.now().toString(36)}`;

const count = async (sql: string, params: unknown[] = []): Promise<number> =>
  Number((await pg.db.query<{ n: string }>(sql, params)).rows[0]!.n);

/** A consuming BFF as its own process, so it can be killed like a crashed pod. */
async function startConsumer(): Promise<SpawnedService> {
  const url = new URL(databaseUrl());
  url.searchParams.set('options', `-c search_path=${pg.schema}`);
  const env = {
    ROLE: 'events',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url.toString(),
    DATABASE_POOL_MAX: '3',
    MIGRATE_ON_START: 'false',
    KAFKA_BROKERS: broker.brokers.join(','),
    KAFKA_TOPIC_PREFIX: prefix,
    EVENTS_CONSUMER_GROUP: group,
    SERVICE_TOKENS: 'tests:exactly-once-test-token-0123456789abcdef',
    SHUTDOWN_DELAY_MS: '0',
    ...NO_EVENT_LOOP_SHEDDING,
  };
  parseEnv(configSchema, env); // a typo here should fail as a config error, not as a timeout below
  const service = await spawnService({ ...suiteService('vendor-bff'), env, readyTimeoutMs: 180_000 });
  consumers.add(service);
  return service;
}

async function crash(service: SpawnedService): Promise<void> {
  process.kill(service.pid, 'SIGKILL');
  await service.exited;
  consumers.delete(service);
}

function events(): OrderEvent[] {
  const out: OrderEvent[] = [];
  const start = Date.now() - 3_600_000;
  const dongs = ['1144012000', '1111051500', '1168064000', '1120059000'];
  const steps = ['created', 'rider-assigned', 'picked-up', 'delivered'] as const;
  // Step by step over all orders, so every phase of the stream has every kind of event in flight.
  for (const type of steps) {
    for (let i = 0; i < ORDERS; i++) {
      const orderedAt = new Date(start + i * 100).toISOString();
      const common = {
        schemaVersion: 1 as const,
        eventId: newEventId(),
        orderId: `eo-${i}`,
        storeId: 1 + (i % 50),
        dongCode: dongs[i % dongs.length]!,
        orderedAt,
        occurredAt: orderedAt,
      };
      out.push(
        type === 'delivered' ? { ...common, type, actualMinutes: 20 + (i % 30) } : { ...common, type },
      );
    }
  }
  return out;
}

/** Sends one batch until the broker acknowledges it (a lost acknowledgement means it is sent again). */
async function sendUntilAcknowledged(batch: readonly OrderEvent[]): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      await producer.publish(
        topic,
        batch.map((value) => ({ key: value.orderId, value })),
      );
      return attempt;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

beforeAll(async () => {
  [pg, broker] = await Promise.all([postgresSchema('exactly'), startKafkaBroker({ partitions: PARTITIONS })]);
  await runMigrations(pg.db, silentLog);
  const k = await createTestKafka({ brokers: broker.brokers, clientId: 'exactly-once-admin' });
  await k.admin.createTopics({
    // The consumers read `predictions` too: it exists, empty, as in a deployment.
    topics: [topic.name, prefixedTopic(PREDICTIONS_TOPIC, prefix).name]
      .flatMap((t) => [t, dlqTopicName(t)])
      .map((t) => ({
        topic: t,
        numPartitions: PARTITIONS,
        replicationFactor: 1,
      })),
    waitForLeaders: true,
  });
  await k.cleanup();
  producer = openProducer({
    brokers: broker.brokers,
    clientId: 'exactly-once-publisher',
    log: quiet,
    sendTimeoutMs: 10_000,
    reconnectDelayMs: 200,
  });
}, 300_000);

afterAll(async () => {
  await Promise.all([...consumers].map((c) => c.stop()));
  await producer?.close();
  await broker?.stop();
  await pg?.drop();
});

describe('order events through a broker crash, a consumer crash and a rebalance', () => {
  it('counts each of 100,000 events exactly once', async () => {
    const all = events();
    expect(new Set(all.map((e) => e.eventId)).size).toBe(TOTAL);
    let first = await startConsumer();
    let second: SpawnedService | undefined;
    let resent = 0;
    for (let at = 0; at < all.length; at += BATCH) {
      // The faults, each at its own point of the stream.
      if (at === 20_000) {
        await broker.kill();
        // The publisher keeps trying while the broker is down; it is started again below.
        const restart = (async () => {
          await new Promise((r) => setTimeout(r, 2_000));
          await broker.restart();
        })();
        resent += (await sendUntilAcknowledged(all.slice(at, at + BATCH))) - 1;
        await restart;
        continue;
      }
      if (at === 45_000) {
        // Mid-batch, as far as the consumer knows: it has been consuming since the start.
        await pollUntil(
          () => count('SELECT count(*) AS n FROM event_receipts'),
          (n) => n > 5_000,
          180_000,
        );
        await crash(first);
        first = await startConsumer();
      }
      if (at === 60_000) second = await startConsumer();
      if (at === 85_000 && second !== undefined) {
        await second.stop();
        consumers.delete(second);
      }
      resent += (await sendUntilAcknowledged(all.slice(at, at + BATCH))) - 1;
    }

    await pollUntil(
      () => count('SELECT count(*) AS n FROM event_receipts'),
      (n) => n >= TOTAL,
      600_000,
    );
    // Settled: redeliveries of the last batches (after the crash) are seen and refused, none counted.
    await pollUntil(
      () => count('SELECT count(*) AS n FROM live_orders WHERE status = $1', ['delivered']),
      (n) => n >= ORDERS,
      120_000,
    );

    expect(await count('SELECT count(*) AS n FROM event_receipts')).toBe(TOTAL);
    expect(await count('SELECT COALESCE(sum(count), 0) AS n FROM order_event_counts')).toBe(TOTAL);
    for (const type of ['created', 'rider-assigned', 'picked-up', 'delivered']) {
      expect(
        await count('SELECT COALESCE(sum(count), 0) AS n FROM order_event_counts WHERE type = $1', [type]),
      ).toBe(ORDERS);
    }
    expect(await count('SELECT count(*) AS n FROM live_orders')).toBe(ORDERS);
    expect(await count('SELECT count(*) AS n FROM live_orders WHERE status = $1', ['delivered'])).toBe(
      ORDERS,
    );
    // Not assertions of the outcome, a record of how hard the faults hit: batches sent again, and how many
    // messages the topic holds beyond the 100,000 (copies a lost acknowledgement left in the log).
    const k = await createTestKafka({ brokers: broker.brokers, clientId: 'exactly-once-admin' });
    const offsets = await k.admin.fetchTopicOffsets(topic.name);
    await k.cleanup();
    const inTopic = offsets.reduce((sum, o) => sum + Number(o.high), 0);
    console.info(
      `exactly-once: ${TOTAL} events, ${resent} batch sends repeated after a failure, ` +
        `${inTopic - TOTAL} duplicate messages in the topic`,
    );
  }, 1_200_000);
});
