import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DLQ_HEADERS, ORDERS_TOPIC } from '@eta/contracts';
import {
  createEventBus,
  DeadLetterError,
  defineTopic,
  type EventBus,
  EventValidationError,
  type IncomingEvent,
} from '../src/index.ts';

const OrderPlaced = defineTopic(
  'orders.placed',
  z.object({ orderId: z.string().min(1), storeId: z.string(), placedAt: z.iso.datetime() }),
);
const order = (n: number) => ({
  key: `o-${n}`,
  value: { orderId: `o-${n}`, storeId: 's-1', placedAt: '2025-01-01T12:00:00Z' },
});

describe('in-process EventBus', () => {
  let bus: EventBus;
  afterEach(async () => {
    await bus?.close();
  });

  it('delivers every event to every group, in publish order, with key and value intact', async () => {
    bus = createEventBus();
    const seen: Record<string, IncomingEvent<{ orderId: string }>[]> = { a: [], b: [] };
    for (const groupId of ['a', 'b']) {
      const sub = bus.subscriber({ groupId });
      sub.subscribe(OrderPlaced, (e) => {
        seen[groupId]!.push(e);
      });
      await sub.start();
    }
    await bus.publish(OrderPlaced, [order(1), order(2)]);
    await bus.publish(OrderPlaced, order(3));
    await bus.idle();
    for (const groupId of ['a', 'b']) {
      expect(seen[groupId]!.map((e) => [e.key, e.value.orderId, e.offset])).toEqual([
        ['o-1', 'o-1', '0'],
        ['o-2', 'o-2', '1'],
        ['o-3', 'o-3', '2'],
      ]);
    }
  });

  it('never runs a handler on the publisher’s stack', async () => {
    bus = createEventBus();
    const sub = bus.subscriber({ groupId: 'g' });
    let handled = 0;
    sub.subscribe(OrderPlaced, () => {
      handled += 1;
    });
    await sub.start();
    const publishing = bus.publish(OrderPlaced, order(1));
    expect(handled).toBe(0);
    await publishing;
    await bus.idle();
    expect(handled).toBe(1);
  });

  it('redelivers an event whose handler threw before delivering the next one', async () => {
    bus = createEventBus({ retryDelayMs: 1 });
    const attempts: string[] = [];
    const sub = bus.subscriber({ groupId: 'g' });
    let failuresLeft = 2;
    sub.subscribe(OrderPlaced, (e) => {
      attempts.push(e.key!);
      if (e.key === 'o-1' && failuresLeft-- > 0) throw new Error('downstream down');
    });
    await sub.start();
    await bus.publish(OrderPlaced, [order(1), order(2)]);
    await bus.idle();
    expect(attempts).toEqual(['o-1', 'o-1', 'o-1', 'o-2']);
  });

  it('rejects an invalid event at publish, sending nothing of its batch', async () => {
    bus = createEventBus();
    const got: string[] = [];
    const sub = bus.subscriber({ groupId: 'g' });
    sub.subscribe(OrderPlaced, (e) => {
      got.push(e.key!);
    });
    await sub.start();
    const bad = { key: 'o-9', value: { orderId: '', storeId: 's', placedAt: 'yesterday' } };
    const err = await bus.publish(OrderPlaced, [order(1), bad]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventValidationError);
    expect((err as EventValidationError).code).toBe('EVENT_INVALID');
    expect((err as Error).message).toMatch(/event 1 .*orderId.*placedAt/);
    await expect(bus.publish(OrderPlaced, { key: '', value: order(1).value })).rejects.toThrow(/key/);
    await bus.idle();
    expect(got).toEqual([]);
  });

  it('hands handlers a JSON copy, as the wire would', async () => {
    bus = createEventBus();
    const Sample = defineTopic('sample', z.object({ at: z.string(), n: z.number() }).strict());
    const sub = bus.subscriber({ groupId: 'g' });
    const got: unknown[] = [];
    sub.subscribe(Sample, (e) => {
      got.push(e.value);
    });
    await sub.start();
    const value = { at: 'x', n: 1 };
    await bus.publish(Sample, { key: 'k', value });
    await bus.idle();
    expect(got).toEqual([value]);
    expect(got[0]).not.toBe(value);
  });

  it('holds events published before start() and delivers them after', async () => {
    bus = createEventBus();
    const sub = bus.subscriber({ groupId: 'g' });
    const got: string[] = [];
    sub.subscribe(OrderPlaced, (e) => {
      got.push(e.key!);
    });
    await bus.publish(OrderPlaced, order(1));
    await bus.idle();
    expect(got).toEqual([]);
    await sub.start();
    await bus.idle();
    expect(got).toEqual(['o-1']);
  });

  it('gives a subscriber at most maxBacklog unhandled events, counts what it did not give, and resumes once it caught up', async () => {
    const dropped: string[] = [];
    const logged: string[] = [];
    const log = {
      debug() {},
      info: (_: object, msg: string) => logged.push(msg),
      warn: (_: object, msg: string) => logged.push(msg),
      error() {},
    };
    bus = createEventBus({
      maxBacklog: 4,
      log,
      onDropped: (topic, groupId) => dropped.push(`${topic}/${groupId}`),
    });
    let unblock: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const slow: string[] = [];
    const slowSub = bus.subscriber({ groupId: 'slow' });
    slowSub.subscribe(OrderPlaced, async (e) => {
      await blocked;
      slow.push(e.key!);
    });
    await slowSub.start();
    const fast: string[] = [];
    const fastSub = bus.subscriber({ groupId: 'fast' });
    fastSub.subscribe(OrderPlaced, (e) => {
      fast.push(e.key!);
    });
    await fastSub.start();

    // The slow handler holds o-1; o-1..o-4 fill its backlog, o-5..o-7 are not given to it.
    await bus.publish(OrderPlaced, [1, 2, 3, 4].map(order));
    await new Promise((resolve) => setImmediate(resolve));
    await bus.publish(OrderPlaced, [5, 6, 7].map(order));
    await new Promise((resolve) => setImmediate(resolve));
    expect(bus.backlog()).toContainEqual({ topic: 'orders.placed', groupId: 'slow', events: 4 });
    expect(dropped).toEqual(Array(3).fill('orders.placed/slow'));
    expect(logged.filter((m) => m.includes('maxBacklog events behind'))).toHaveLength(1);

    unblock();
    await bus.idle();
    expect(slow).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
    // The other subscriber got everything.
    expect(fast).toEqual(['o-1', 'o-2', 'o-3', 'o-4', 'o-5', 'o-6', 'o-7']);
    expect(logged.some((m) => m.includes('caught up'))).toBe(true);
    await bus.publish(OrderPlaced, order(8));
    await bus.idle();
    expect(slow.at(-1)).toBe('o-8');
    expect(dropped).toHaveLength(3);
    expect(bus.backlog()).toContainEqual({ topic: 'orders.placed', groupId: 'slow', events: 0 });
  });

  it('refuses misuse with clear errors', async () => {
    bus = createEventBus();
    const sub = bus.subscriber({ groupId: 'g' });
    expect(() => bus.subscriber({ groupId: 'g' })).toThrow(/already has a subscriber/);
    await expect(sub.start()).rejects.toThrow(/subscribe to at least one topic/);
    expect(() => defineTopic('bad/topic', z.string())).toThrow(TypeError);
    await bus.close();
    await expect(bus.publish(OrderPlaced, order(1))).rejects.toThrow(/closed/);
  });

  it('close() stops a handler that keeps failing', async () => {
    bus = createEventBus({ retryDelayMs: 60_000 });
    const sub = bus.subscriber({ groupId: 'g' });
    let calls = 0;
    sub.subscribe(OrderPlaced, () => {
      calls += 1;
      throw new Error('always');
    });
    await sub.start();
    await bus.publish(OrderPlaced, order(1));
    await new Promise((r) => setTimeout(r, 20));
    await bus.close();
    await bus.idle();
    expect(calls).toBe(1);
  });

  it('with deadLetter, routes what cannot be handled to <topic>.dlq on the bus and goes on', async () => {
    bus = createEventBus();
    const good = {
      eventId: '0190f5a3-7b1c-7d2e-8f00-0123456789ab',
      schemaVersion: 1,
      type: 'created',
      occurredAt: '2026-11-27T12:00:00+09:00',
      orderId: 'ord-1',
      storeId: 42,
      dongCode: '1144066000',
      orderedAt: '2026-11-27T12:00:00+09:00',
    } as const;
    const handled: string[] = [];
    const sub = bus.subscriber({ groupId: 'live', deadLetter: true });
    sub.subscribe(ORDERS_TOPIC, (e) => {
      if (e.value.orderId === 'refuse') throw new DeadLetterError('no such store');
      handled.push(e.value.orderId);
    });
    await sub.start();
    const dead: IncomingEvent<unknown>[] = [];
    const tap = bus.subscriber({ groupId: 'tap' });
    tap.subscribe(defineTopic('orders.dlq', z.unknown()), (e) => {
      dead.push(e);
    });
    await tap.start();

    await bus.sendRaw('orders', [
      { key: 'v2', value: JSON.stringify({ ...good, schemaVersion: 2 }), headers: { origin: 't' } },
      { key: 'bad', value: JSON.stringify({ ...good, storeId: 'x' }) },
      { key: 'refuse', value: JSON.stringify({ ...good, orderId: 'refuse' }) },
      { key: 'ord-1', value: JSON.stringify(good) },
    ]);
    await bus.idle();

    expect(handled).toEqual(['ord-1']);
    expect(dead.map((d) => [d.key, d.headers[DLQ_HEADERS.reason], d.headers[DLQ_HEADERS.offset]])).toEqual([
      ['v2', 'unknown-version', '0'],
      ['bad', 'schema', '1'],
      ['refuse', 'rejected', '2'],
    ]);
    expect(dead[0]!.headers['origin']).toBe('t');
    expect(dead[0]!.headers[DLQ_HEADERS.group]).toBe('live');
    expect(dead[2]!.headers[DLQ_HEADERS.detail]).toBe('no such store');
  });
  it('hands a batch subscriber chunks of at most maxEvents in order, and a failed chunk again whole', async () => {
    bus = createEventBus({ retryDelayMs: 1 });
    const sub = bus.subscriber({ groupId: 'batches' });
    const chunks: string[][] = [];
    let failed = false;
    sub.subscribeBatch(
      OrderPlaced,
      (events) => {
        const ids = events.map((e) => e.value.orderId);
        if (!failed) {
          failed = true;
          chunks.push(['failed', ...ids]);
          throw new Error('simulated');
        }
        chunks.push(ids);
      },
      { maxEvents: 2 },
    );
    await bus.publish(OrderPlaced, [order(1), order(2), order(3), order(4), order(5)]);
    await sub.start();
    await bus.idle();
    expect(chunks).toEqual([['failed', 'o-1', 'o-2'], ['o-1', 'o-2'], ['o-3', 'o-4'], ['o-5']]);
  });

  it('passes over what `skip` names by its headers, undecoded and never dead-lettered, and says how many', async () => {
    bus = createEventBus();
    const sub = bus.subscriber({ groupId: 'join', deadLetter: true });
    const handled: string[][] = [];
    const skippedCounts: number[] = [];
    sub.subscribeBatch(
      OrderPlaced,
      (events) => {
        handled.push(events.map((e) => e.value.orderId));
      },
      {
        maxEvents: 3,
        skip: (headers) => headers['eta-join'] === 'none',
        onSkipped: (n) => skippedCounts.push(n),
      },
    );
    const dead: string[] = [];
    const tapDlq = bus.subscriber({ groupId: 'dlq' });
    tapDlq.subscribe(
      defineTopic(`${OrderPlaced.name}.dlq`, z.unknown()),
      (e) => void dead.push(String(e.key)),
    );
    await tapDlq.start();
    const none = { 'eta-join': 'none' };
    await bus.sendRaw(OrderPlaced.name, [
      { key: 'o-1', value: JSON.stringify(order(1).value) },
      // Not even JSON: passed over by its header, so never read, never dead-lettered.
      { key: 'x-1', value: 'not json', headers: none },
      { key: 'o-2', value: JSON.stringify(order(2).value), headers: { 'eta-join': 'order' } },
      { key: 'x-2', value: JSON.stringify(order(9).value), headers: none },
      { key: 'x-3', value: JSON.stringify(order(9).value), headers: none },
      { key: 'x-4', value: JSON.stringify(order(9).value), headers: none },
      // Without the header, decoded as ever: this one fails the schema.
      { key: 'p-1', value: JSON.stringify({ orderId: 5 }) },
    ]);
    await sub.start();
    await bus.idle();
    expect(handled).toEqual([['o-1', 'o-2']]);
    expect(skippedCounts).toEqual([1, 3]);
    expect(dead).toEqual(['p-1']);
  });

  it('lets the event loop run while it decodes a long batch (it shares the thread with the estimate path)', async () => {
    bus = createEventBus();
    const sub = bus.subscriber({ groupId: 'long' });
    let handled = 0;
    let turnBeforeHandler: boolean | undefined;
    let turned = false;
    sub.subscribeBatch(
      OrderPlaced,
      (events) => {
        turnBeforeHandler ??= turned;
        handled += events.length;
      },
      { maxEvents: 20_000 },
    );
    // Already encoded, so publishing costs nothing; decoding 20,000 of them takes well over the 1 ms slice
    // on any machine.
    await bus.sendRaw(
      OrderPlaced.name,
      Array.from({ length: 20_000 }, (_, i) => ({ key: `o-${i}`, value: JSON.stringify(order(i).value) })),
    );
    // Queued before the bus starts decoding: it runs at the bus's first pause. Without pauses the whole
    // chunk would be decoded and handed over inside start(), before this could run.
    setImmediate(() => {
      turned = true;
    });
    await sub.start();
    await bus.idle();
    expect(handled).toBe(20_000);
    expect(turnBeforeHandler).toBe(true);
  });
});
