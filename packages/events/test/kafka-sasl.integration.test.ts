// Kafka with credentials, as Confluent Cloud runs it (SASL PLAIN over TLS with an API key and secret), on a
// private broker of this file's own (@eta/testing startKafkaBroker with `sasl`): SASL_PLAINTEXT and SASL_SSL
// listeners offering PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, the SASL_SSL one with a self-signed certificate,
// and ACLs deciding what the user may do.
// What must hold: events go through each mechanism and through TLS with the right credentials; a wrong
// password (or an untrusted certificate, or a group the ACLs refuse) leaves the producer not ready and the
// consumer unstarted, with a logged error and no crash; and the password appears in no log line, kafkajs'
// own debug lines included.
import { randomBytes } from 'node:crypto';
import {
  createKafkaAcls,
  type KafkaBroker,
  startKafkaBroker,
  uniqueId,
  uniqueTopic,
  waitForLeaders,
} from '@eta/testing';
import { type Admin, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createConsumer,
  createProducer,
  defineTopic,
  EventProducerUnavailableError,
  type EventLog,
  type EventProducer,
  type EventSubscriber,
  type IncomingEvent,
  type KafkaClientOptions,
  openProducer,
  openThreadedProducer,
  type Topic,
} from '../src/index.ts';

const Ping = z.object({ id: z.string(), n: z.number().int() });
type Ping = z.infer<typeof Ping>;

const USER = 'eta-test';
// Long and random, so finding it in a log line can only mean the line carries it.
const PASSWORD = `pw-${randomBytes(16).toString('hex')}`;
const WRONG_PASSWORD = `pw-${randomBytes(16).toString('hex')}`;

/** Every line logged through `log` (kafkajs' too, which kafka.ts routes there), as JSON text. */
const lines: string[] = [];
const asText = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v instanceof Error ? { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause } : v,
  );
const record =
  (level: string) =>
  (fields: object, msg?: string): void => {
    lines.push(asText({ level, msg, ...fields }));
  };
const log: EventLog = {
  debug: record('debug'),
  info: record('info'),
  warn: record('warn'),
  error: record('error'),
};

/** Resolves when `predicate` holds, polling; rejects after `ms` (a cap far above what a busy runner takes). */
async function until(predicate: () => boolean, ms: number, what: () => unknown): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; saw ${JSON.stringify(what())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Kafka with SASL credentials (and TLS) on a private broker', () => {
  let broker: KafkaBroker | undefined;
  let admin: Admin;
  const open: (EventProducer | EventSubscriber)[] = [];
  let kafkajsLogLevel: string | undefined;

  beforeAll(async () => {
    // Every kafkajs line, debug included, reaches `log` (kafkajs reads this when a client is made): the
    // password check at the end then covers all of kafkajs' logging, not only what the services keep.
    kafkajsLogLevel = process.env['KAFKAJS_LOG_LEVEL'];
    process.env['KAFKAJS_LOG_LEVEL'] = 'debug';
    broker = await startKafkaBroker({ sasl: { users: { [USER]: PASSWORD }, tls: true }, authorizer: true });
    // As on a managed cluster, the user may do only what ACLs allow: every topic, and groups prefixed g-.
    await createKafkaAcls(broker.brokers[0]!, [
      { resourceType: 'topic', resourceName: '*', principal: `User:${USER}`, operation: 'all' },
      {
        resourceType: 'group',
        resourceName: 'g-',
        patternType: 'prefixed',
        principal: `User:${USER}`,
        operation: 'read',
      },
    ]);
    // Topics are made over the PLAINTEXT listener, by a client that logs nothing (the level above would
    // make kafkajs' default logger print every request); the clients under test use only the SASL ones.
    admin = new Kafka({
      clientId: 'sasl-test-admin',
      brokers: [...broker.brokers],
      logCreator: () => () => {},
    }).admin();
    await admin.connect();
  }, 300_000);

  afterAll(async () => {
    for (const c of open) await c.close().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await broker?.stop();
    if (kafkajsLogLevel === undefined) delete process.env['KAFKAJS_LOG_LEVEL'];
    else process.env['KAFKAJS_LOG_LEVEL'] = kafkajsLogLevel;
  }, 60_000);

  async function createTopic(base: string): Promise<string> {
    const name = uniqueTopic(base);
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 2 }], waitForLeaders: false });
    await waitForLeaders(admin, name, 2);
    return name;
  }

  type Security = Pick<KafkaClientOptions, 'brokers' | 'ssl' | 'sasl'>;
  const sasl = (mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', password = PASSWORD): Security => ({
    brokers: broker!.sasl!.brokers,
    sasl: { mechanism, username: USER, password },
  });

  async function roundTrip(security: Security, label: string): Promise<void> {
    const topic: Topic<typeof Ping> = defineTopic(await createTopic(`events.sasl.${label}`), Ping);
    const producer = await createProducer({ ...security, clientId: `sasl-${label}`, log });
    open.push(producer);
    const consumer = createConsumer({
      ...security,
      clientId: `sasl-${label}`,
      groupId: `g-${uniqueId()}`,
      log,
    });
    open.push(consumer);
    const got: IncomingEvent<Ping>[] = [];
    consumer.subscribe(topic, (e) => {
      got.push(e);
    });
    await consumer.start();
    const sent = Array.from({ length: 20 }, (_, n) => ({
      key: `k${n % 4}`,
      value: { id: `${label}-${n}`, n },
    }));
    await producer.publish(topic, sent);
    await until(
      () => got.length >= sent.length,
      60_000,
      () => got.length,
    );
    expect(got.map((e) => e.value.id).sort()).toEqual(sent.map((s) => s.value.id).sort());
  }

  it('publishes and consumes through SASL_PLAINTEXT with PLAIN', async () => {
    await roundTrip(sasl('plain'), 'plain');
  });

  it.each(['scram-sha-256', 'scram-sha-512'] as const)('publishes and consumes with %s', async (m) => {
    await roundTrip(sasl(m), m);
  });

  it("publishes and consumes through SASL_SSL with PLAIN, trusting the broker's certificate", async () => {
    const tls = broker!.saslSsl!;
    await roundTrip({ brokers: tls.brokers, ssl: { ca: tls.ca }, sasl: sasl('plain').sasl! }, 'tls');
  });

  it('keeps the options plain data after use (a worker thread receives them through structuredClone)', async () => {
    const options = { ...sasl('plain'), ssl: false, clientId: 'sasl-clone' };
    const producer = await createProducer({ ...options, log });
    open.push(producer);
    // kafkajs stores its authenticator, a function, on the sasl object it is given: kafka.ts gives it a copy.
    expect(structuredClone(options)).toEqual(options);
    expect(Object.values(options.sasl!).every((v) => typeof v === 'string')).toBe(true);
  });

  it("the prediction log's threaded producer: SASL_SSL credentials reach its worker thread as plain data", async () => {
    const tls = broker!.saslSsl!;
    const topic = defineTopic(await createTopic('events.sasl.threaded'), Ping);
    const consumer = createConsumer({
      ...sasl('scram-sha-512'),
      clientId: 'sasl-threaded',
      groupId: `g-${uniqueId()}`,
      log,
    });
    open.push(consumer);
    const got: string[] = [];
    consumer.subscribe(topic, (e) => {
      got.push(e.value.id);
    });
    await consumer.start();
    const producer = openThreadedProducer({
      brokers: tls.brokers,
      ssl: { ca: tls.ca },
      sasl: sasl('plain').sasl!,
      clientId: 'sasl-threaded',
      log,
    });
    open.push(producer);
    await until(
      () => producer.ready(),
      60_000,
      () => lines.filter((l) => l.includes('kafka-producer')).slice(-3),
    );
    await producer.publish(topic, { key: 't', value: { id: 'threaded', n: 1 } });
    await until(
      () => got.includes('threaded'),
      60_000,
      () => got,
    );

    const wrong = openThreadedProducer({
      brokers: tls.brokers,
      ssl: { ca: tls.ca },
      sasl: sasl('plain', WRONG_PASSWORD).sasl!,
      clientId: 'sasl-threaded-wrong',
      log,
      reconnectDelayMs: 200,
    });
    open.push(wrong);
    await until(
      () => lines.some((l) => l.includes('cannot authenticate') && l.includes('"thread":"kafka-producer"')),
      60_000,
      () => lines.slice(-3),
    );
    expect(wrong.ready()).toBe(false);
  });

  it('a wrong password: the producer stays not ready and says why, sends fail at once, nothing crashes', async () => {
    const producer = openProducer({
      ...sasl('plain', WRONG_PASSWORD),
      clientId: 'sasl-wrong',
      log,
      reconnectDelayMs: 200,
    });
    open.push(producer);
    await until(
      () => lines.some((l) => l.includes('Kafka producer cannot authenticate')),
      60_000,
      () => lines.slice(-5),
    );
    expect(producer.ready()).toBe(false);
    const topic = defineTopic(await createTopic('events.sasl.wrong'), Ping);
    await expect(producer.publish(topic, { key: 'a', value: { id: 'a', n: 1 } })).rejects.toBeInstanceOf(
      EventProducerUnavailableError,
    );
    const line = lines.find((l) => l.includes('Kafka producer cannot authenticate'))!;
    expect(JSON.parse(line)).toMatchObject({
      level: 'error',
      err: {
        name: 'KafkaJSSASLAuthenticationError',
        message: expect.stringMatching(/Authentication failed/),
      },
    });
    // kafkajs' own line about it, at error level too.
    expect(lines.some((l) => /"level":"error".*SASL PLAIN authentication failed/.test(l))).toBe(true);
    await expect(
      createProducer({ ...sasl('scram-sha-512', WRONG_PASSWORD), clientId: 'sasl-wrong', log }),
    ).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
  });

  it('a wrong password: the consumer does not start, with an authentication error, and closes cleanly', async () => {
    const topic = defineTopic(await createTopic('events.sasl.wrong-consumer'), Ping);
    const consumer = createConsumer({
      ...sasl('scram-sha-256', WRONG_PASSWORD),
      clientId: 'sasl-wrong',
      groupId: `g-${uniqueId()}`,
      log,
    });
    consumer.subscribe(topic, () => undefined);
    await expect(consumer.start()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
    await consumer.close();
  });

  it('a group the ACLs do not allow: the consumer does not start (group authorization), rather than idling', async () => {
    const topic = defineTopic(await createTopic('events.sasl.group-acl'), Ping);
    const consumer = createConsumer({
      ...sasl('plain'),
      clientId: 'sasl-group',
      groupId: `other-${uniqueId()}`,
      log,
    });
    consumer.subscribe(topic, () => undefined);
    // The broker answers GROUP_AUTHORIZATION_FAILED; kafkajs reports that as not finding the coordinator
    // (the answer itself only at debug level), which is what the BFF's log shows for a group ACL.
    await expect(consumer.start()).rejects.toMatchObject({ name: 'KafkaJSGroupCoordinatorNotFound' });
    expect(lines.some((l) => l.includes('GROUP_AUTHORIZATION_FAILED'))).toBe(true);
    await consumer.close();
  });

  it('TLS to a certificate it does not trust: not ready, a logged connection error, nothing crashes', async () => {
    // ssl: true trusts Node's root CAs only (right for Confluent Cloud), not this broker's self-signed one.
    const producer = openProducer({
      brokers: broker!.saslSsl!.brokers,
      ssl: true,
      sasl: sasl('plain').sasl!,
      clientId: 'sasl-untrusted',
      log,
      reconnectDelayMs: 200,
    });
    open.push(producer);
    await until(
      () => lines.some((l) => l.includes('Kafka producer cannot connect') && /self[- ]signed/i.test(l)),
      60_000,
      () => lines.filter((l) => l.includes('Kafka producer')).slice(-3),
    );
    expect(producer.ready()).toBe(false);
  });

  it('never logs the password, right or wrong, in any line (kafkajs debug lines included)', async () => {
    for (const c of open.splice(0)) await c.close();
    // The capture worked: kafkajs' debug lines about SASL and our own lines are in it.
    expect(lines.some((l) => l.includes('SASL PLAIN authentication successful'))).toBe(true);
    expect(lines.some((l) => l.includes('Kafka producer connected'))).toBe(true);
    expect(lines.filter((l) => l.includes(PASSWORD))).toEqual([]);
    expect(lines.filter((l) => l.includes(WRONG_PASSWORD))).toEqual([]);
  });
});
