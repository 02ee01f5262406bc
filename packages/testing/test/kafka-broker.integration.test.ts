import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaBroker, startKafkaBroker, uniqueId, uniqueTopic, waitForLeaders } from '../src/index.ts';

describe('startKafkaBroker without the jars', () => {
  it('fails naming the command that fetches them', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'eta-no-kafka-jars-'));
    try {
      await expect(startKafkaBroker({ libsDir: empty })).rejects.toThrow(/scripts\/backing-services\.sh up/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

const TOTAL = 10_000;
const BATCH = 250;
const KEYS = 50;
const keyOf = (id: number) => `store-${id % KEYS}`;

/** Resolves when `check` returns true, polling; rejects after `ms` with what it last saw. */
async function until(what: string, check: () => Promise<boolean> | boolean, ms: number): Promise<void> {
  const giveUpAt = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > giveUpAt) throw new Error(`${what}: not within ${ms} ms`, { cause: last });
    await sleep(100);
  }
}

describe('a private Kafka broker SIGKILLed while a producer writes', () => {
  let broker: KafkaBroker | undefined;
  let kafka: Kafka;
  let admin: Admin;
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    const t0 = Date.now();
    broker = await startKafkaBroker();
    figures['startMs'] = Date.now() - t0;
    // Silent client: while the broker is down every retry would log a connection error. What failed is
    // collected below and put into the assertion messages instead.
    kafka = new Kafka({
      clientId: `broker-crash-${uniqueId()}`,
      brokers: [...broker.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
    admin = kafka.admin();
    await admin.connect();
  }, 300_000);

  afterAll(async () => {
    await admin?.disconnect().catch(() => undefined);
    await broker?.stop();
  }, 60_000);

  const crashAndRestart = async (label: string): Promise<void> => {
    const b = broker!;
    const t0 = Date.now();
    await b.kill();
    await b.restart();
    figures[label] = Date.now() - t0;
  };

  it('keeps every acknowledged message and the committed offsets across SIGKILL and restart', async () => {
    const b = broker!;
    const topic = uniqueTopic('testing.broker-crash');
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: false,
    });
    await waitForLeaders(admin, topic, 3);

    // ---- produce 10,000 keyed messages; SIGKILL and restart the broker once half are acknowledged.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    let failedSends = 0;
    const errors = new Set<string>();
    let ackedAtKill = -1;
    let ackedAfterRestart = 0;
    let crash: Promise<void> | undefined;
    let restarted = false;
    let crashFailed: unknown;
    const t0 = Date.now();
    try {
      for (let first = 0; first < TOTAL; first += BATCH) {
        const messages = Array.from({ length: Math.min(BATCH, TOTAL - first) }, (_, i) => ({
          key: keyOf(first + i),
          value: JSON.stringify({ id: first + i }),
        }));
        // A batch is sent again until it is acknowledged: at-least-once, whatever the broker is doing.
        const giveUpAt = Date.now() + 240_000;
        for (let attempt = 0; ; attempt++) {
          const sending = producer.send({ topic, acks: -1, messages });
          // The kill lands while this batch is in flight (3 ms after it was handed to the client, or as
          // soon as it is acknowledged if that is sooner), not in a pause between two sends.
          if (crash === undefined && first >= TOTAL / 2) {
            ackedAtKill = first;
            crash = Promise.race([sending.catch(() => undefined), sleep(3)])
              .then(() => crashAndRestart('restartDuringProduceMs'))
              .then(
                () => {
                  restarted = true;
                },
                (err: unknown) => {
                  crashFailed = err;
                },
              );
          }
          try {
            await sending;
            break;
          } catch (err) {
            if (crashFailed !== undefined) throw crashFailed;
            failedSends++;
            if (errors.size < 10)
              errors.add(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
            if (Date.now() > giveUpAt) {
              throw new Error(
                `batch at ${first} not acknowledged after ${attempt + 1} sends; errors: ${[...errors].join(' | ')}\n${await b.logs(30)}`,
                { cause: err },
              );
            }
            await sleep(250);
          }
        }
        if (restarted) ackedAfterRestart += messages.length;
      }
      await crash;
      if (crashFailed !== undefined) throw crashFailed;
    } finally {
      await producer.disconnect().catch(() => undefined);
    }
    figures['produceMs'] = Date.now() - t0;
    // The kill happened mid-stream and the producer noticed it: otherwise this test proved nothing.
    expect(ackedAtKill).toBeGreaterThan(0);
    expect(ackedAtKill).toBeLessThan(TOTAL);
    expect(failedSends, [...errors].join(' | ')).toBeGreaterThan(0);
    expect(ackedAfterRestart).toBeGreaterThan(0);

    // ---- consume everything from the beginning, in a consumer group that commits as it goes.
    const ends = await admin.fetchTopicOffsets(topic);
    const records = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    const groupId = `g-${uniqueId()}`;
    const seen = new Map<number, number>();
    const partitionsOfKey = new Map<string, Set<number>>();
    const firstSeenOrder = new Map<string, number[]>();
    let consumed = 0;
    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          consumed++;
          const id = (JSON.parse(message.value?.toString() ?? '{}') as { id: number }).id;
          const key = message.key?.toString() ?? '';
          seen.set(id, (seen.get(id) ?? 0) + 1);
          if (seen.get(id) === 1) {
            const order = firstSeenOrder.get(key) ?? [];
            order.push(id);
            firstSeenOrder.set(key, order);
          }
          const parts = partitionsOfKey.get(key) ?? new Set<number>();
          parts.add(partition);
          partitionsOfKey.set(key, parts);
        },
      });
      await until('consumer read to the end of every partition', () => consumed >= records, 120_000);
    } finally {
      // Commits what was handled and leaves the group.
      await consumer.disconnect();
    }

    const missing = Array.from({ length: TOTAL }, (_, id) => id).filter((id) => !seen.has(id));
    const duplicates = consumed - seen.size;
    figures['duplicates'] = duplicates;
    figures['failedSends'] = failedSends;
    console.log(
      `kafka-broker crash test: ${JSON.stringify({ ...figures, ackedAtKill, records, consumed, errors: [...errors] })}`,
    );
    expect(missing.slice(0, 20), `${missing.length} ids lost`).toEqual([]);
    expect(seen.size).toBe(TOTAL);
    expect([...seen.keys()].every((id) => Number.isInteger(id) && id >= 0 && id < TOTAL)).toBe(true);
    // Keys keep their partition across the crash, and each key's messages arrive in the order sent.
    for (const [key, parts] of partitionsOfKey) expect(parts.size, key).toBe(1);
    for (const [key, order] of firstSeenOrder) {
      expect(
        order.every((id, i) => i === 0 || id > order[i - 1]!),
        key,
      ).toBe(true);
    }

    // ---- the group's committed offsets are the end of the log; crash again and check both survive.
    const committed = async () =>
      ((await admin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions ?? [])
        .map((p) => `${p.partition}:${p.offset}`)
        .sort();
    const highs = ends.map((p) => `${p.partition}:${p.high}`).sort();
    await until(
      'the group committed the end of every partition',
      async () => {
        const now = await committed();
        return now.join() === highs.join();
      },
      30_000,
    );

    await crashAndRestart('restartIdleMs');
    await waitForLeaders(admin, topic, 3, 60_000);
    const endsAfter = await admin.fetchTopicOffsets(topic);
    expect(endsAfter.map((p) => `${p.partition}:${p.high}`).sort()).toEqual(highs);
    // The offsets topic is loaded again after the start (COORDINATOR_LOAD_IN_PROGRESS until then): poll,
    // then compare, so lost offsets fail with what was read.
    let committedAfter: string[] = [];
    await until(
      'committed offsets read after the restart',
      async () => {
        committedAfter = await committed();
        return committedAfter.join() === highs.join();
      },
      60_000,
    ).catch(() => undefined);
    expect(committedAfter).toEqual(highs);

    // A member of the same group resumes where the group left off: it gets the one new message first,
    // not id 0 again.
    const markerProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await markerProducer.connect();
    await markerProducer.send({
      topic,
      acks: -1,
      messages: [{ key: keyOf(0), value: JSON.stringify({ id: -1 }) }],
    });
    await markerProducer.disconnect();
    const resumed: number[] = [];
    const again = kafka.consumer({ groupId });
    await again.connect();
    try {
      await again.subscribe({ topics: [topic], fromBeginning: true });
      await again.run({
        eachMessage: async ({ message }) => {
          resumed.push((JSON.parse(message.value?.toString() ?? '{}') as { id: number }).id);
        },
      });
      await until('the resumed member got a message', () => resumed.length > 0, 60_000);
    } finally {
      await again.disconnect();
    }
    expect(resumed[0]).toBe(-1);
    console.log(`kafka-broker crash test: restart while idle took ${figures['restartIdleMs']} ms`);
  }, 480_000);
});
