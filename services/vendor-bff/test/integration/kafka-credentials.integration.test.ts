// vendor-bff's Kafka clients with credentials, against a private broker set up as Confluent Cloud runs the
// suite's cluster: SASL PLAIN over TLS (a self-signed certificate, trusted through KAFKA_SSL_CA_FILE), one
// user per Confluent service account, and the ACLs terraform/modules/confluent writes for them (written out
// below, as terraform/modules/stack passes them). The BFF is configured as deploy/values/{staging,prod}.yaml
// configure it: no topic prefix, the default consumer group, the producer key for the estimate roles and the
// consumer key for the events role. What must hold: the prediction log, the order-events ingest, the
// consumers and their dead-letter producer all get through; the old default group is refused and the pod
// says so and stays unready; a wrong password leaves the pod unready and the ingest answering 503, with an
// authentication error in the log; and no password is in any line the pods log at LOG_LEVEL=debug (kafkajs'
// own debug lines are checked in packages/events' kafka-sasl test).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseEnv } from '@eta/config';
import { newEventId } from '@eta/events';
import type { ServiceApp } from '@eta/service-kit';
import {
  createKafkaAcls,
  createTestKafka,
  freePort,
  type KafkaAcl,
  type KafkaBroker,
  pollUntil,
  startKafkaBroker,
  type TestKafka,
  waitForLeaders,
} from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/adapters/db/index.ts';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { databaseUrl, postgresSchema, type SchemaDb, silentLog } from '../db/support.ts';
import { GANGNAM, MemoryCatalog, view } from '../domain/estimate-fixtures.ts';
import { appEnv, offlineAppEnv } from '../support/app-env.ts';

const SERVICE_TOKEN = 'kafka-credentials-integration-token-0123456789';
const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };
// Confluent Cloud's API keys are the usernames; random secrets, so finding one in a log line means it leaked.
const PRODUCER = { user: 'eta-producer', password: `secret-${randomBytes(16).toString('hex')}` };
const CONSUMER = { user: 'eta-consumer', password: `secret-${randomBytes(16).toString('hex')}` };
const WRONG_PASSWORD = `secret-${randomBytes(16).toString('hex')}`;

/** terraform/modules/confluent's ACL rows, with terraform/modules/stack's arguments. */
function confluentAcls(): KafkaAcl[] {
  const producerTopics = ['predictions', 'settings-changed'];
  const consumerTopics = ['orders', 'predictions', 'settings-changed'];
  const consumerWriteTopics = ['orders'];
  const groupPrefix = 'eta-';
  const producer = `User:${PRODUCER.user}`;
  const consumer = `User:${CONSUMER.user}`;
  return [
    ...producerTopics.flatMap((t): KafkaAcl[] => [
      { resourceType: 'topic', resourceName: t, principal: producer, operation: 'write' },
      { resourceType: 'topic', resourceName: t, principal: producer, operation: 'describe' },
    ]),
    {
      resourceType: 'cluster',
      resourceName: 'kafka-cluster',
      principal: producer,
      operation: 'idempotent-write',
    },
    ...consumerTopics.flatMap((t): KafkaAcl[] => [
      { resourceType: 'topic', resourceName: t, principal: consumer, operation: 'read' },
      { resourceType: 'topic', resourceName: t, principal: consumer, operation: 'describe' },
      { resourceType: 'topic', resourceName: `${t}.dlq`, principal: consumer, operation: 'write' },
    ]),
    ...consumerWriteTopics.map((t): KafkaAcl => ({
      resourceType: 'topic',
      resourceName: t,
      principal: consumer,
      operation: 'write',
    })),
    {
      resourceType: 'group',
      resourceName: groupPrefix,
      patternType: 'prefixed',
      principal: consumer,
      operation: 'read',
    },
  ];
}

/** Every line every app logged (LOG_LEVEL=debug), kafkajs' warnings and errors included. */
const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});

let broker: KafkaBroker | undefined;
let k: TestKafka;
let pg: SchemaDb;
let dir = '';
let caFile = '';
let dead = '';
const apps: ServiceApp[] = [];

beforeAll(async () => {
  [broker, pg] = await Promise.all([
    startKafkaBroker({
      partitions: 2,
      sasl: { users: { [PRODUCER.user]: PRODUCER.password, [CONSUMER.user]: CONSUMER.password }, tls: true },
      authorizer: true,
    }),
    postgresSchema('kafkacred'),
  ]);
  await runMigrations(pg.db, silentLog);
  // The PLAINTEXT listener's principal is a super user (the deployer's role): topics, ACLs, poison.
  k = await createTestKafka({ brokers: broker.brokers, clientId: 'kafka-credentials-admin' });
  const admin = k.admin;
  const topics = ['orders', 'predictions', 'orders.dlq', 'predictions.dlq'];
  await admin.createTopics({
    topics: topics.map((topic) => ({ topic, numPartitions: 2 })),
    waitForLeaders: false,
  });
  for (const t of topics) await waitForLeaders(admin, t, 2);
  await createKafkaAcls(broker.brokers[0]!, confluentAcls());
  dir = await mkdtemp(join(tmpdir(), 'bff-kafka-cred-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, broker.saslSsl!.ca);
  dead = `http://127.0.0.1:${await freePort()}`;
}, 300_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await k?.admin.disconnect().catch(() => undefined);
  await broker?.stop();
  await pg?.drop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 60_000);

/** What deploy/values/{staging,prod}.yaml and the chart's kafka values give a pod, with `key`'s credentials. */
function kafkaEnv(key: { user: string; password: string }): Record<string, string> {
  return {
    KAFKA_BROKERS: broker!.saslSsl!.brokers.join(','),
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: caFile,
    KAFKA_SASL_MECHANISM: 'plain',
    KAFKA_SASL_USERNAME: key.user,
    KAFKA_SASL_PASSWORD: key.password,
  };
}

async function eventsApp(env: Record<string, string>): Promise<ServiceApp> {
  const url = new URL(databaseUrl());
  url.searchParams.set('options', `-c search_path=${pg.schema}`);
  const config = parseEnv(
    configSchema,
    appEnv({
      ROLE: 'events',
      LOG_LEVEL: 'debug',
      DATABASE_URL: url.toString(),
      DATABASE_POOL_MAX: '2',
      MIGRATE_ON_START: 'false',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      ...env,
    }),
  );
  const app = await buildApp(config, { logStream });
  apps.push(app);
  await app.ready();
  return app;
}

const readyz = async (app: ServiceApp) => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode;
const highWater = async (topic: string) =>
  (await k.admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);

/** An order's `created` event, as the ordering system posts it to the ingest. */
function created(orderId: string): Record<string, unknown> {
  const orderedAt = new Date(Date.now() - 10 * 60_000).toISOString();
  return {
    eventId: newEventId(),
    schemaVersion: 1,
    type: 'created',
    occurredAt: orderedAt,
    orderId,
    storeId: 1,
    dongCode: '1168064000',
    orderedAt,
  };
}

describe('vendor-bff on a cluster with credentials and the Confluent ACLs', () => {
  it('ROLE=events with the consumer key and the default group: ready; the ingest, consumers and dead-letter producer all pass', async () => {
    const app = await eventsApp(kafkaEnv(CONSUMER));
    await pollUntil(
      () => readyz(app),
      (s) => s === 200,
      90_000,
    );
    expect(
      lines.some(
        (l) => l.includes('"groupId":"eta-vendor-bff-events"') && l.includes('event consumers started'),
      ),
    ).toBe(true);

    const ingested = await app.inject({
      method: 'POST',
      url: '/v1/events/orders',
      headers: auth,
      payload: { events: [created('ord-cred-1')] },
    });
    expect(ingested.statusCode, ingested.body).toBe(202);
    await pollUntil(
      async () =>
        Number(
          (
            await pg.db.query<{ n: string }>(
              "SELECT count(*) AS n FROM live_orders WHERE order_id = 'ord-cred-1'",
            )
          ).rows[0]!.n,
        ),
      (n) => n === 1,
      60_000,
    );

    // A poison message (not JSON), written by the deployer's admin: the consumer dead-letters it with its key.
    const poisoner = k.kafka.producer();
    await poisoner.connect();
    await poisoner.send({ topic: 'orders', messages: [{ key: 'poison', value: 'not json' }] });
    await poisoner.disconnect();
    await pollUntil(
      () => highWater('orders.dlq'),
      (n) => n >= 1,
      60_000,
    );
  }, 180_000);

  it("ROLE=precise with the producer key: the prediction log's threaded producer publishes answers to predictions", async () => {
    const config = parseEnv(
      configSchema,
      offlineAppEnv(dead, {
        ROLE: 'precise',
        LOG_LEVEL: 'debug',
        WARMUP_MAX_STORES: '0',
        WARMUP_ESTIMATES: '0',
        SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
        EVENTS_LINGER_MS: '0',
        ...kafkaEnv(PRODUCER),
      }),
    );
    const app = await buildApp(config, { catalog: new MemoryCatalog([view(1)]), logStream });
    apps.push(app);
    await app.ready();
    // Geo and the ML proxy are down: the answer is the fallback's, logged like any other. Asked until the
    // producer (connecting on its own thread) has one through.
    await pollUntil(
      async () => {
        const answer = await app.inject({
          method: 'POST',
          url: '/v1/estimates/precise',
          headers: auth,
          payload: { storeId: 1, destination: GANGNAM },
        });
        expect(answer.statusCode, answer.body).toBe(200);
        return highWater('predictions');
      },
      (n) => n >= 1,
      60_000,
      500,
    );
    expect(
      lines.some((l) => l.includes('Kafka producer connected') && l.includes('"thread":"kafka-producer"')),
    ).toBe(true);
  }, 120_000);

  it('the old default group (vendor-bff-events) is refused by those ACLs: the pod stays unready and logs why', async () => {
    const app = await eventsApp({ ...kafkaEnv(CONSUMER), EVENTS_CONSUMER_GROUP: 'vendor-bff-events' });
    await pollUntil(
      async () =>
        lines.filter(
          (l) => l.includes('joining the group failed') && l.includes('"groupId":"vendor-bff-events"'),
        ).length,
      (n) => n >= 1,
      90_000,
    );
    expect(await readyz(app)).toBe(503);
  }, 120_000);

  it('a wrong password: unready, an authentication error in the log, the ingest answers 503, nothing crashes', async () => {
    const app = await eventsApp({
      ...kafkaEnv({ user: CONSUMER.user, password: WRONG_PASSWORD }),
      EVENTS_CONSUMER_GROUP: 'eta-vendor-bff-events-wrong',
    });
    await pollUntil(
      async () => lines.filter((l) => l.includes('Kafka producer cannot authenticate')).length,
      (n) => n >= 1,
      60_000,
    );
    await pollUntil(
      async () =>
        lines.filter(
          (l) => l.includes('joining the group failed') && l.includes('KafkaJSSASLAuthenticationError'),
        ).length,
      (n) => n >= 1,
      60_000,
    );
    expect(await readyz(app)).toBe(503);
    const ingested = await app.inject({
      method: 'POST',
      url: '/v1/events/orders',
      headers: auth,
      payload: { events: [created('ord-cred-wrong')] },
    });
    expect(ingested.statusCode).toBe(503);
  }, 120_000);

  it('no password, right or wrong, in any log line', async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.some((l) => l.includes('Kafka producer connected'))).toBe(true);
    for (const secret of [PRODUCER.password, CONSUMER.password, WRONG_PASSWORD]) {
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  }, 60_000);
});
