// The suite's topics (@eta/contracts) on the real Kafka broker: a round trip through the buffered
// publisher and the consumer with schema validation, dead-letter routing of poison messages, and a
// producer that starts with no broker and sends once one answers at its address. Topics are unique per
// run (@eta/testing's createTestKafka); nothing here touches the broker's own process.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { DLQ_HEADERS, dlqTopicName, ORDERS_TOPIC, type EventTopic, type OrderEvent } from '@eta/contracts';
import { createTestKafka, type TestKafka, uniqueId, waitForLeaders } from '@eta/testing';
import { freePort } from '@eta/testing/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBufferedPublisher,
  createConsumer,
  createProducer,
  DeadLetterError,
  type EventLog,
  type EventProducer,
  type EventSubscriber,
  type IncomingEvent,
  newEventId,
  openProducer,
  type PublisherMetrics,
} from '../src/index.ts';

const quiet: EventLog = { debug() {}, info() {}, warn() {}, error() {} };
const CLIENT = 'streams-test';

/** Resolves when `predicate` holds, polling; fails after `ms` (a cap, far above what a busy runner takes). */
async function until(predicate: () => boolean, ms: number, what: () => unknown): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; saw ${JSON.stringify(what())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The order lifecycle of one order, as the ordering system would send it. */
function lifecycle(orderId: string, storeId: number, delivered: boolean): OrderEvent[] {
  const base = { orderId, storeId, dongCode: '1144066000', orderedAt: '2026-11-27T12:00:00+09:00' };
  const at = (min: number) => new Date(Date.parse(base.orderedAt) + min * 60_000).toISOString();
  const env = (type: string, min: number) => ({
    eventId: newEventId(),
    schemaVersion: 1 as const,
    occurredAt: at(min),
    type,
  });
  return [
    { ...env('created', 0), ...base, type: 'created' },
    { ...env('rider-assigned', 4), ...base, type: 'rider-assigned', riderId: `r-${storeId}` },
    { ...env('picked-up', 15), ...base, type: 'picked-up' },
    delivered
      ? { ...env('delivered', 31), ...base, type: 'delivered', actualMinutes: 31.5 }
      : { ...env('cancelled', 20), ...base, type: 'cancelled', reason: 'store' },
  ];
}

describe("the suite's topics on the real broker", () => {
  let k: TestKafka;
  let producer: EventProducer;
  const consumers: EventSubscriber[] = [];
  const extraTopics: string[] = [];
  const servers: Server[] = [];

  /** A topic with exactly this name (the `.dlq` beside a test topic), deleted after the file. */
  async function createExactTopic(name: string): Promise<void> {
    await k.admin.createTopics({
      topics: [{ topic: name, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: false,
    });
    extraTopics.push(name);
    await waitForLeaders(k.admin, name, 1);
  }

  function consumer(options: Partial<Parameters<typeof createConsumer>[0]> = {}): EventSubscriber {
    const c = createConsumer({
      brokers: k.brokers,
      clientId: CLIENT,
      groupId: `g-${uniqueId()}`,
      log: quiet,
      ...options,
    });
    consumers.push(c);
    return c;
  }

  beforeAll(async () => {
    k = await createTestKafka({ clientId: CLIENT });
    producer = await createProducer({
      brokers: k.brokers,
      clientId: CLIENT,
      log: quiet,
      sendTimeoutMs: 30_000,
    });
  });

  afterAll(async () => {
    for (const c of consumers) await c.close();
    await producer?.close();
    for (const s of servers) s.close();
    if (extraTopics.length > 0) await k.admin.deleteTopics({ topics: extraTopics }).catch(() => undefined);
    await k?.cleanup();
  });

  it('round-trips order events through the buffered publisher: validated, keyed by order id, in order per order', async () => {
    const topic: EventTopic<typeof ORDERS_TOPIC.schema> = {
      ...ORDERS_TOPIC,
      name: await k.createTopic('orders', { partitions: 3 }),
    };
    const sent = Array.from({ length: 12 }, (_, i) => lifecycle(`ord-${i}`, 100 + i, i % 4 !== 0)).flat();
    let published = 0;
    const metrics: PublisherMetrics = {
      published: (_topic, n) => {
        published += n;
      },
      dropped: () => undefined,
    };
    const pub = createBufferedPublisher({
      producer,
      maxEvents: 1_000,
      maxBytes: 1 << 20,
      lingerMs: 5,
      maxBatch: 7,
      metrics,
    });
    for (const e of sent) expect(pub.offer(topic, { key: topic.keyOf(e), value: e })).toBe(true);

    const got: IncomingEvent<OrderEvent>[] = [];
    const c = consumer();
    c.subscribe(topic, (e) => {
      got.push(e);
    });
    await c.start();
    await pub.flush();
    expect(published).toBe(sent.length);
    await until(
      () => got.length >= sent.length,
      60_000,
      () => got.length,
    );
    await pub.close();

    expect(got).toHaveLength(sent.length);
    for (const e of got) expect(e.key).toBe(e.value.orderId);
    for (let i = 0; i < 12; i++) {
      const id = `ord-${i}`;
      const mine = sent.filter((e) => e.orderId === id);
      const received = got.filter((e) => e.value.orderId === id);
      // Every field as sent (the consumer decoded and validated it), in the order sent.
      expect(received.map((e) => e.value)).toEqual(mine);
      expect(new Set(received.map((e) => e.partition)).size).toBe(1);
    }
  });

  it('dead-letters poison messages to <topic>.dlq with the reason and origin, and goes on', async () => {
    const name = await k.createTopic('orders-poison');
    const topic = { ...ORDERS_TOPIC, name };
    const dlq = dlqTopicName(name);
    await createExactTopic(dlq);

    const good = lifecycle('good-1', 7, true)[3]!;
    const rejected = lifecycle('reject-me', 7, true)[0]!;
    const poison: { key: string; value: string | null; reason: string }[] = [
      { key: 'p-json', value: '{"eventId": nope', reason: 'not-json' },
      { key: 'p-schema', value: JSON.stringify({ ...good, dongCode: 'Mapo' }), reason: 'schema' },
      { key: 'p-version', value: JSON.stringify({ ...good, schemaVersion: 2 }), reason: 'unknown-version' },
      { key: 'p-type', value: JSON.stringify({ ...good, type: 'refunded' }), reason: 'unknown-type' },
      { key: 'p-empty', value: null, reason: 'empty' },
      { key: 'reject-me', value: JSON.stringify(rejected), reason: 'rejected' },
    ];
    // Written raw, as a buggy or newer producer would; the good one last, behind all of them.
    await producer.sendRaw(name, [
      ...poison.map((p) => ({ key: p.key, value: p.value, headers: { origin: 'streams-test' } })),
      { key: good.orderId, value: JSON.stringify(good) },
    ]);

    const groupId = `g-${uniqueId()}`;
    const handled: OrderEvent[] = [];
    const c = consumer({ groupId, deadLetter: producer });
    c.subscribe(topic, (e) => {
      if (e.value.orderId === 'reject-me') throw new DeadLetterError('store 7 closed for good');
      handled.push(e.value);
    });
    await c.start();
    await until(
      () => handled.length > 0,
      60_000,
      () => handled,
    );
    expect(handled).toEqual([good]);

    // What landed in the dead-letter topic, read with a plain client: bytes and headers as they are.
    const dead: { key: string; value: Buffer | null; headers: Record<string, string> }[] = [];
    const reader = k.kafka.consumer({ groupId: `dlq-${uniqueId()}` });
    await reader.connect();
    try {
      await reader.subscribe({ topic: dlq, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [h, v] of Object.entries(message.headers ?? {})) headers[h] = String(v);
          dead.push({ key: message.key?.toString() ?? '', value: message.value, headers });
        },
      });
      await until(
        () => dead.length >= poison.length,
        60_000,
        () => dead.map((d) => d.key),
      );
    } finally {
      await reader.disconnect();
    }
    expect(dead.map((d) => d.key)).toEqual(poison.map((p) => p.key));
    dead.forEach((d, offset) => {
      const p = poison[offset]!;
      expect(d.headers[DLQ_HEADERS.reason], p.key).toBe(p.reason);
      expect(d.headers[DLQ_HEADERS.topic]).toBe(name);
      expect(d.headers[DLQ_HEADERS.partition]).toBe('0');
      expect(d.headers[DLQ_HEADERS.offset]).toBe(String(offset));
      expect(d.headers[DLQ_HEADERS.group]).toBe(groupId);
      expect(d.headers[DLQ_HEADERS.detail]?.length).toBeGreaterThan(0);
      expect(d.headers['origin']).toBe('streams-test');
      expect(d.value === null ? null : d.value.toString()).toBe(p.value);
    });
    expect(dead[5]!.headers[DLQ_HEADERS.detail]).toBe('store 7 closed for good');

    // Everything was committed: a restart starts after the good event, the poison is not read again.
    await expect
      .poll(
        async () => (await k.admin.fetchOffsets({ groupId, topics: [name] }))[0]?.partitions[0]?.offset ?? '',
        { timeout: 30_000, interval: 100 },
      )
      .toBe(String(poison.length + 1));
  });

  it('starts with no broker at its address, buffers and drops what does not fit, and sends once the broker answers', async () => {
    const topic = { ...ORDERS_TOPIC, name: await k.createTopic('orders-recovery') };
    const port = await freePort();
    const p = openProducer({
      brokers: [`127.0.0.1:${port}`],
      clientId: CLIENT,
      log: quiet,
      sendTimeoutMs: 10_000,
      reconnectDelayMs: 100,
    });
    const dropped: Record<string, number> = {};
    let published = 0;
    const pub = createBufferedPublisher({
      producer: p,
      maxEvents: 3,
      maxBytes: 1 << 20,
      lingerMs: 0,
      maxBatch: 10,
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      metrics: {
        published: (_t, n) => {
          published += n;
        },
        dropped: (_t, reason, n) => {
          dropped[reason] = (dropped[reason] ?? 0) + n;
        },
      },
    });
    try {
      const events = lifecycle('late-1', 9, true).concat(lifecycle('late-2', 9, false));
      const taken = events.map((e) => pub.offer(topic, { key: e.orderId, value: e }));
      expect(taken).toEqual([true, true, true, false, false, false, false, false]);
      expect(dropped).toEqual({ 'buffer-full': 5 });
      expect(p.ready()).toBe(false);
      expect(pub.size).toBe(3);

      // The broker appears at the producer's address (a pass-through to the real one on that port).
      const [host, brokerPort] = k.brokers[0]!.split(':') as [string, string];
      const server = createServer((client: Socket) => {
        const upstream = connect(Number(brokerPort), host);
        client.pipe(upstream).pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end);
        upstream.on('error', end);
      });
      servers.push(server);
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');

      await until(
        () => p.ready(),
        60_000,
        () => ({ ready: p.ready() }),
      );
      await pub.flush();
      expect(published).toBe(3);

      const got: OrderEvent[] = [];
      const c = consumer();
      c.subscribe(topic, (e) => {
        got.push(e.value);
      });
      await c.start();
      await until(
        () => got.length >= 3,
        60_000,
        () => got.length,
      );
      expect(got).toEqual(events.slice(0, 3));
      expect(dropped).toEqual({ 'buffer-full': 5 });
    } finally {
      await pub.close({ timeoutMs: 0 });
      await p.close();
    }
  });
});
