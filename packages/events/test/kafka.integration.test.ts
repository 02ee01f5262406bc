import { createServer } from 'node:net';
import { createTestKafka, pollUntil, requireEnv, type TestKafka, uniqueId } from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createConsumer,
  createProducer,
  defineTopic,
  type EventLog,
  EventValidationError,
  type EventProducer,
  type EventSubscriber,
  type IncomingEvent,
  openProducer,
} from '../src/index.ts';

const Prediction = z.object({ orderId: z.string(), etaSeconds: z.number().int().positive() });
type Prediction = z.infer<typeof Prediction>;

const quiet: EventLog = { debug() {}, info() {}, warn() {}, error() {} };
const brokers = () => requireEnv('KAFKA_BROKERS').split(',');

/** Resolves when `predicate` holds, polling; rejects after `ms` with what was seen. */
async function until(predicate: () => boolean, ms: number, what: () => unknown): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; saw ${JSON.stringify(what())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Kafka producer and consumer', () => {
  let k: TestKafka;
  let producer: EventProducer;
  const open: EventSubscriber[] = [];

  beforeAll(async () => {
    k = await createTestKafka({ clientId: 'events-test' });
    producer = await createProducer({ brokers: brokers(), clientId: 'events-test', log: quiet });
  });

  afterAll(async () => {
    for (const c of open) await c.close();
    await producer?.close();
    await k?.cleanup();
  });

  it('round-trips validated events with their keys through the idempotent producer', async () => {
    const topic = defineTopic(await k.createTopic('events.roundtrip', { partitions: 3 }), Prediction);
    const consumer = createConsumer({
      brokers: brokers(),
      clientId: 'events-test',
      groupId: `g-${uniqueId()}`,
      log: quiet,
    });
    open.push(consumer);
    const got: IncomingEvent<Prediction>[] = [];
    consumer.subscribe(topic, (e) => {
      got.push(e);
    });
    await consumer.start();

    const sent = Array.from({ length: 30 }, (_, i) => ({
      key: `order-${i % 5}`,
      value: { orderId: `order-${i % 5}`, etaSeconds: 600 + i },
      headers: { source: 'test' },
    }));
    await producer.publish(topic, sent);
    await until(
      () => got.length >= sent.length,
      30_000,
      () => got.length,
    );

    expect(got).toHaveLength(sent.length);
    expect(got.every((e) => e.key === e.value.orderId && e.headers['source'] === 'test')).toBe(true);
    // One key lands on one partition, in the order it was sent.
    for (let o = 0; o < 5; o++) {
      const forKey = got.filter((e) => e.key === `order-${o}`);
      expect(new Set(forKey.map((e) => e.partition)).size).toBe(1);
      expect(forKey.map((e) => e.value.etaSeconds)).toEqual(
        sent.filter((s) => s.key === `order-${o}`).map((s) => s.value.etaSeconds),
      );
    }
  });

  it('does not send a batch that holds an invalid event', async () => {
    const topic = defineTopic(await k.createTopic('events.invalid'), Prediction);
    const err = await producer
      .publish(topic, [
        { key: 'a', value: { orderId: 'a', etaSeconds: 60 } },
        { key: 'b', value: { orderId: 'b', etaSeconds: -1 } },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventValidationError);
    const offsets = await k.admin.fetchTopicOffsets(topic.name);
    expect(offsets.map((o) => o.high)).toEqual(['0']);
  });

  it('commits only after the handler succeeded: a failed first delivery comes back', async () => {
    const topic = defineTopic(await k.createTopic('events.redelivery'), Prediction);
    const groupId = `g-${uniqueId()}`;
    const consumer = createConsumer({ brokers: brokers(), clientId: 'events-test', groupId, log: quiet });
    open.push(consumer);
    const deliveries: string[] = [];
    const committedAtRedelivery: string[] = [];
    let failFirst = true;
    consumer.subscribe(topic, async (e) => {
      deliveries.push(`${e.value.orderId}@${e.offset}`);
      if (failFirst) {
        failFirst = false;
        throw new Error('simulated failure mid-handler');
      }
      if (deliveries.length === 2) {
        // What the group has committed while the failed message is being handled again.
        const [p] = (await k.admin.fetchOffsets({ groupId, topics: [topic.name] }))[0]?.partitions ?? [];
        committedAtRedelivery.push(p?.offset ?? 'none');
      }
    });
    await consumer.start();
    await producer.publish(topic, [
      { key: 'x', value: { orderId: 'x', etaSeconds: 1 } },
      { key: 'x', value: { orderId: 'y', etaSeconds: 2 } },
    ]);
    await until(
      () => deliveries.includes('y@1'),
      60_000,
      () => deliveries,
    );
    expect(deliveries.slice(0, 2)).toEqual(['x@0', 'x@0']);
    // -1: nothing committed, so a crash at that moment would also have redelivered x@0.
    expect(committedAtRedelivery).toEqual(['-1']);
    expect(deliveries.filter((d) => d === 'y@1').length).toBeGreaterThanOrEqual(1);

    // The committed position is just past the last handled message: a restart starts after it.
    // Commits are asynchronous: wait for this one with a cap in time (30 s), not a count of tries.
    let committed = '';
    const giveUpAt = Date.now() + 30_000;
    while (committed !== '2' && Date.now() < giveUpAt) {
      const [partition] =
        (await k.admin.fetchOffsets({ groupId, topics: [topic.name] }))[0]?.partitions ?? [];
      committed = partition?.offset ?? '';
      if (committed !== '2') await new Promise((r) => setTimeout(r, 100));
    }
    expect(committed).toBe('2');
  });

  it('a consumer that died mid-handler leaves the message for the next member of its group', async () => {
    const topic = defineTopic(await k.createTopic('events.crash'), Prediction);
    const groupId = `g-${uniqueId()}`;
    // The broker's minimum session: a member that stops heartbeating is replaced after about 6 s.
    const sessionTimeoutMs = 6_000;
    const first = createConsumer({
      brokers: brokers(),
      clientId: 'events-test',
      groupId,
      log: quiet,
      sessionTimeoutMs,
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    let abandon!: (err: Error) => void;
    const stuck = new Promise<void>((_, reject) => (abandon = reject));
    first.subscribe(topic, async () => {
      entered();
      await stuck; // the process "dies" here: no commit, no heartbeat
    });
    await first.start();
    await producer.publish(topic, { key: 'k', value: { orderId: 'crash', etaSeconds: 5 } });
    await inHandler;

    const second = createConsumer({
      brokers: brokers(),
      clientId: 'events-test',
      groupId,
      log: quiet,
      sessionTimeoutMs,
    });
    open.push(second);
    const got: string[] = [];
    second.subscribe(topic, (e) => {
      got.push(e.value.orderId);
    });
    await second.start();
    await until(
      () => got.includes('crash'),
      60_000,
      () => got,
    );
    expect(got).toEqual(['crash']);

    // Let the stuck handler fail so the first consumer can shut down; it must not commit on the way.
    abandon(new Error('abandoned'));
    await first.close();
  });

  it('skips and commits a payload that fails the schema instead of blocking the partition', async () => {
    const topic = defineTopic(await k.createTopic('events.poison'), Prediction);
    const raw = k.kafka.producer();
    await raw.connect();
    await raw.send({
      topic: topic.name,
      messages: [
        { key: 'p', value: 'not json' },
        { key: 'p', value: JSON.stringify({ orderId: 'p', etaSeconds: 'soon' }) },
        { key: 'p', value: JSON.stringify({ orderId: 'good', etaSeconds: 9 }) },
      ],
    });
    await raw.disconnect();
    const errors: string[] = [];
    const log: EventLog = {
      ...quiet,
      error: (obj) => {
        const { reason, detail } = obj as { reason: string; detail: string };
        errors.push(`${reason}: ${detail}`);
      },
    };
    const consumer = createConsumer({
      brokers: brokers(),
      clientId: 'events-test',
      groupId: `g-${uniqueId()}`,
      log,
    });
    open.push(consumer);
    const got: string[] = [];
    consumer.subscribe(topic, (e) => {
      got.push(e.value.orderId);
    });
    await consumer.start();
    await until(
      () => got.length > 0,
      30_000,
      () => ({ got, errors }),
    );
    expect(got).toEqual(['good']);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^not-json: .*not JSON/);
    expect(errors[1]).toMatch(/^schema: .*etaSeconds/);
  });
  it('a batch handler gets whole batches of at most maxEvents; a failed batch comes back whole; poison is skipped', async () => {
    const topic = defineTopic(await k.createTopic('events.batches', { partitions: 3 }), Prediction);
    // Idempotent, so a retry of a slow send on a busy machine cannot write a message twice: the test counts
    // what the consumer delivers, and every message must be in the topic once.
    const raw = k.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
    const total = 1_200;
    const messages = Array.from({ length: total }, (_, i) => ({
      key: `o-${i % 40}`,
      value: JSON.stringify({ orderId: `o-${i}`, etaSeconds: i + 1 }),
    }));
    messages.splice(600, 0, { key: 'o-1', value: 'not json' });
    await raw.send({ topic: topic.name, messages });
    await raw.disconnect();
    const consumer = createConsumer({
      brokers: brokers(),
      clientId: 'events-test',
      groupId: `g-${uniqueId()}`,
      log: quiet,
    });
    open.push(consumer);
    const sizes: number[] = [];
    const seen = new Map<string, number>();
    /** Where each delivery of an order came from: a second offset is a duplicate in the topic, the same one twice a redelivery. */
    const at = new Map<string, string[]>();
    let failOnce = true;
    consumer.subscribeBatch(
      topic,
      (events) => {
        if (failOnce && events.length > 1) {
          failOnce = false;
          throw new Error('simulated failure: the whole batch must come again');
        }
        sizes.push(events.length);
        for (const e of events) {
          seen.set(e.value.orderId, (seen.get(e.value.orderId) ?? 0) + 1);
          at.set(e.value.orderId, [...(at.get(e.value.orderId) ?? []), `${e.partition}@${e.offset}`]);
        }
      },
      { maxEvents: 100 },
    );
    await consumer.start();
    await until(
      () => seen.size >= total,
      60_000,
      () => ({ seen: seen.size, sizes }),
    );
    expect(failOnce).toBe(false);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect([...at].filter(([, offsets]) => offsets.length !== 1)).toEqual([]);
    expect(seen.size).toBe(total);
  });

  it('a batch handler passes over what `skip` names by its headers, undecoded, and commits it with the batch', async () => {
    const topic = defineTopic(await k.createTopic('events.skip', { partitions: 1 }), Prediction);
    const raw = k.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await raw.connect();
    const none = { 'eta-join': 'none' };
    await raw.send({
      topic: topic.name,
      messages: Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? { key: `o-${i}`, value: JSON.stringify({ orderId: `o-${i}`, etaSeconds: i + 1 }) }
          : // Not even JSON: read, it would be poison; passed over by its header, it is never read.
            { key: `x-${i}`, value: 'not json', headers: none },
      ),
    });
    const groupId = `g-${uniqueId()}`;
    const member = (handled: string[], skipped: number[], poisoned: string[]) => {
      const consumer = createConsumer({
        brokers: brokers(),
        clientId: 'events-test',
        groupId,
        log: quiet,
        onPoison: (_topic, reason) => poisoned.push(reason),
      });
      consumer.subscribeBatch(
        topic,
        (events) => {
          for (const e of events) handled.push(e.value.orderId);
        },
        { skip: (headers) => headers['eta-join'] === 'none', onSkipped: (n) => skipped.push(n) },
      );
      return consumer;
    };
    const handled: string[] = [];
    const skipped: number[] = [];
    const poisoned: string[] = [];
    const first = member(handled, skipped, poisoned);
    open.push(first);
    await first.start();
    await until(
      () => handled.length >= 5 && skipped.reduce((a, b) => a + b, 0) >= 5,
      60_000,
      () => ({ handled, skipped }),
    );
    // Committed past the last message, a passed-over one.
    await pollUntil(
      async () => (await k.admin.fetchOffsets({ groupId, topics: [topic.name] }))[0]?.partitions[0]?.offset,
      (offset) => offset === '10',
      60_000,
    );
    await first.close();
    expect(handled).toEqual(['o-0', 'o-2', 'o-4', 'o-6', 'o-8']);
    expect(skipped.reduce((a, b) => a + b, 0)).toBe(5);
    expect(poisoned).toEqual([]);

    // The next member of the group starts after the last of them: the passed-over ones were committed too.
    await raw.send({
      topic: topic.name,
      messages: [{ key: 'o-10', value: JSON.stringify({ orderId: 'o-10', etaSeconds: 11 }) }],
    });
    await raw.disconnect();
    const again: string[] = [];
    const skippedAgain: number[] = [];
    const second = member(again, skippedAgain, poisoned);
    open.push(second);
    await second.start();
    await until(
      () => again.length >= 1,
      60_000,
      () => again,
    );
    expect(again).toEqual(['o-10']);
    expect(skippedAgain).toEqual([]);
  });
});

describe('a producer whose broker is away', () => {
  it('tries again with a pause that doubles from reconnectDelayMs up to maxReconnectDelayMs, no further', async () => {
    // A port nothing listens on: a listener closed again at once, so every attempt is refused.
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));

    const pauses: number[] = [];
    const log: EventLog = {
      ...quiet,
      warn(obj, msg) {
        if (msg === 'Kafka producer cannot connect') pauses.push((obj as { retryInMs: number }).retryInMs);
      },
    };
    const p = openProducer({
      brokers: [`127.0.0.1:${port}`],
      clientId: 'events-test',
      log,
      reconnectDelayMs: 20,
      maxReconnectDelayMs: 80,
    });
    try {
      await pollUntil(
        async () => pauses.length,
        (n) => n >= 6,
        60_000,
      );
      expect(pauses.slice(0, 6)).toEqual([20, 40, 80, 80, 80, 80]);
      expect(p.ready()).toBe(false);
    } finally {
      await p.close();
    }
  });
});
