// The producer on its own worker thread (threaded.ts) against the real broker: what it sends arrives in
// order with keys and headers; while it cannot connect it is unready and refuses sends at once, its log
// lines reaching the owner's logger; a send's failure crosses the thread with its code; a thread that
// dies fails what it held and is replaced by one that connects and sends again.
import { createServer, type Server } from 'node:net';
import { createTestKafka, pollUntil, requireEnv, type TestKafka, uniqueId } from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createConsumer,
  createProducer,
  defineTopic,
  type EventLog,
  type EventProducer,
  EventProducerUnavailableError,
  type EventSubscriber,
  type IncomingEvent,
  openThreadedProducer,
  type ThreadedProducer,
} from '../src/index.ts';

const Row = z.object({ orderId: z.string(), n: z.number().int() });
type Row = z.infer<typeof Row>;

const brokers = () => requireEnv('KAFKA_BROKERS').split(',');

interface Line {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}
function capture(): EventLog & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: object, msg: string) => {
    lines.push({ level, fields: fields as Record<string, unknown>, msg });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('a Kafka producer on a worker thread', () => {
  let k: TestKafka;
  const producers: ThreadedProducer[] = [];
  const consumers: EventSubscriber[] = [];

  beforeAll(async () => {
    k = await createTestKafka({ clientId: 'threaded-test' });
  });

  afterAll(async () => {
    for (const c of consumers) await c.close();
    for (const p of producers) await p.close();
    await k?.cleanup();
  });

  function open(
    log: EventLog,
    opts: { brokers?: string[]; sendTimeoutMs?: number; restartDelayMs?: number } = {},
  ) {
    const p = openThreadedProducer({
      brokers: opts.brokers ?? brokers(),
      clientId: 'threaded-test',
      log,
      ...(opts.sendTimeoutMs !== undefined ? { sendTimeoutMs: opts.sendTimeoutMs } : {}),
      ...(opts.restartDelayMs !== undefined ? { restartDelayMs: opts.restartDelayMs } : {}),
    });
    producers.push(p);
    return p;
  }

  const whenReady = (p: ThreadedProducer) =>
    pollUntil(
      async () => p.ready(),
      (r) => r,
      60_000,
    );

  async function consume(topicName: string): Promise<IncomingEvent<Row>[]> {
    const got: IncomingEvent<Row>[] = [];
    const c = createConsumer({
      brokers: brokers(),
      clientId: 'threaded-test',
      groupId: `g-${uniqueId()}`,
      log: capture(),
    });
    consumers.push(c);
    c.subscribe(defineTopic(topicName, Row), (e) => {
      got.push(e);
    });
    await c.start();
    return got;
  }

  it('sends raw batches that arrive whole, in order per key, with their headers', async () => {
    const log = capture();
    const p = open(log);
    const topic = await k.createTopic('threaded.roundtrip', { partitions: 3 });
    await whenReady(p);
    const got = await consume(topic);

    const batches = 20;
    const per = 100;
    for (let b = 0; b < batches; b++) {
      await p.sendRaw(
        topic,
        Array.from({ length: per }, (_, i) => {
          const n = b * per + i;
          return {
            key: `o-${n % 7}`,
            value: JSON.stringify({ orderId: `o-${n % 7}`, n }),
            headers: { b: `${b}` },
          };
        }),
      );
    }
    // And the typed path, validated on this thread before it crosses.
    await p.publish(defineTopic(topic, Row), { key: 'o-0', value: { orderId: 'o-0', n: batches * per } });

    await pollUntil(
      async () => got.length,
      (n) => n >= batches * per + 1,
      60_000,
    );
    expect(got).toHaveLength(batches * per + 1);
    for (let o = 0; o < 7; o++) {
      const ns = got.filter((e) => e.key === `o-${o}`).map((e) => e.value.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    expect(new Set(got.map((e) => e.value.n)).size).toBe(batches * per + 1);
    expect(got.find((e) => e.value.n === 150)?.headers['b']).toBe('1');
  });

  it('is unready while it cannot connect, refuses sends at once, and logs through the owner', async () => {
    // A port that accepts nothing Kafka can speak to: a listener closed again at once.
    const dead: Server = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));

    const log = capture();
    const p = open(log, { brokers: [`127.0.0.1:${port}`] });
    const line = await pollUntil(
      async () => log.lines.find((l) => l.msg === 'Kafka producer cannot connect'),
      (l) => l !== undefined,
      30_000,
    );
    expect(line!.level).toBe('warn');
    expect(line!.fields['thread']).toBe('kafka-producer');
    expect(line!.fields['brokers']).toEqual([`127.0.0.1:${port}`]);
    // The error crossed as plain data with its message.
    expect(typeof (line!.fields['err'] as { message?: unknown }).message).toBe('string');

    expect(p.ready()).toBe(false);
    const err = await p.sendRaw('any', [{ key: 'a', value: '{}' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventProducerUnavailableError);
    await p.close();
    expect(p.thread()).toBeUndefined();
  });

  it('hands a failed send back as the producer on this thread would have failed it', async () => {
    const threaded = open(capture());
    const direct = await createProducer({ brokers: brokers(), clientId: 'threaded-test', log: capture() });
    try {
      const topic = await k.createTopic('threaded.too-large');
      await whenReady(threaded);
      // Past the broker's message.max.bytes (1 MiB by default): refused at once, never retried, so both
      // producers fail the same way whatever the timing.
      const huge = [{ key: 'a', value: 'x'.repeat(2 * 1024 * 1024) }];
      const fail = async (p: EventProducer) =>
        (await p.sendRaw(topic, huge).then(
          () => undefined,
          (e: unknown) => e,
        )) as (Error & { code?: unknown; type?: unknown }) | undefined;
      const want = await fail(direct);
      const got = await fail(threaded);
      expect(want, 'the broker refuses the message').toBeInstanceOf(Error);
      expect(got).toBeInstanceOf(Error);
      expect({ name: got!.name, message: got!.message, code: got!.code, type: got!.type }).toEqual({
        name: want!.name,
        message: want!.message,
        code: want!.code,
        type: want!.type,
      });
      expect(got!.type ?? got!.code, 'a Kafka error keeps what names it').toBeDefined();
    } finally {
      await direct.close();
    }
  });

  it('replaces a thread that died: what it held fails, the next one connects and sends', async () => {
    const log = capture();
    const p = open(log, { restartDelayMs: 200 });
    const topic = await k.createTopic('threaded.restart');
    await whenReady(p);
    const got = await consume(topic);
    await p.sendRaw(topic, [{ key: 'a', value: JSON.stringify({ orderId: 'a', n: 1 }) }]);

    const first = p.thread()!;
    const held = p.sendRaw(topic, [{ key: 'a', value: JSON.stringify({ orderId: 'a', n: 2 }) }]);
    await first.terminate();
    // Either the send made it before the thread went (and resolved), or it failed as unavailable.
    const outcome = await held.then(
      () => 'sent',
      (e: unknown) => (e instanceof EventProducerUnavailableError ? 'failed' : String(e)),
    );
    expect(['sent', 'failed']).toContain(outcome);
    await pollUntil(
      async () => log.lines.some((l) => l.msg === 'Kafka producer thread exited; restarting it'),
      (seen) => seen,
      30_000,
    );

    await pollUntil(
      async () => p.thread(),
      (t) => t !== undefined && t !== first,
      30_000,
    );
    await whenReady(p);
    await p.sendRaw(topic, [{ key: 'a', value: JSON.stringify({ orderId: 'a', n: 3 }) }]);
    await pollUntil(
      async () => got.map((e) => e.value.n),
      (ns) => ns.includes(3),
      60_000,
    );
    expect(got.map((e) => e.value.n).filter((n) => n !== 2)).toEqual([1, 3]);
  });
});
