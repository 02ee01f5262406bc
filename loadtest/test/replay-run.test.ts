// The replay's sending side without a server: the events queue (batching, order, retries) over a sink
// written here, and the schedule played with it. The real ends (the BFF's ingest, Kafka) are in
// replay.integration.test.ts.
import type { OrderEvent } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import type { EstimateCall } from '../lib/replay/estimates.ts';
import { schedule, type PlannedOrder } from '../lib/replay/plan.ts';
import { runSchedule } from '../lib/replay/runner.ts';
import {
  EventQueue,
  parseRetryAfter,
  retryDelayMs,
  type EventSink,
  type SendResult,
} from '../lib/replay/sinks.ts';

/** A sink that records every batch and answers from `script` (then accepts everything). */
function recordingSink(script: SendResult[] = []): EventSink & { batches: OrderEvent[][] } {
  const batches: OrderEvent[][] = [];
  return {
    name: 'test',
    batches,
    async send(events) {
      batches.push([...events]);
      return script.shift() ?? { ok: true, accepted: events.length };
    },
    async close() {},
  };
}

let n = 0;
const event = (orderId: string): OrderEvent => ({
  eventId: `0190c7a4-2b1e-7c00-8000-${String(++n).padStart(12, '0')}`,
  schemaVersion: 1,
  type: 'created',
  occurredAt: '2026-12-06T10:00:00.000Z',
  orderId,
  storeId: 1,
  dongCode: '1144066000',
  orderedAt: '2026-12-06T10:00:00.000Z',
});

describe('retryDelayMs / parseRetryAfter', () => {
  it('backs off from 250 ms doubling to 5 s, or waits what the server asked (within 100 ms .. 30 s)', () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((a) => retryDelayMs({}, a))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
    expect(retryDelayMs({ retryAfterMs: 2000 }, 7)).toBe(2000);
    expect(retryDelayMs({ retryAfterMs: 0 }, 0)).toBe(100);
    expect(retryDelayMs({ retryAfterMs: 3_600_000 }, 0)).toBe(30_000);
  });

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.parse('2026-12-06T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sun, 06 Dec 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter(['1', '9'], now)).toBe(1000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('EventQueue', () => {
  it('sends what is due in one turn as one batch, splits at the batch limit, and keeps the order', async () => {
    const sink = recordingSink();
    const q = new EventQueue(sink, { retryForMs: 10_000, maxBatch: 3 });
    const pushed = Array.from({ length: 7 }, (_, i) => event(`o-${i}`));
    for (const e of pushed) q.push(e);
    await q.drain();
    expect(sink.batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(sink.batches.flat()).toEqual(pushed);
    expect(q.figures()).toMatchObject({ queued: 7, accepted: 7, failed: 0, requests: 3, retries: 0 });
  });

  it('sends a batch again, unchanged, after a retryable failure, and counts it once accepted', async () => {
    const sink = recordingSink([
      { ok: false, retry: true, retryAfterMs: 100, error: 'http_503: broker busy' },
      { ok: false, retry: true, error: 'connect: ECONNREFUSED' },
    ]);
    const q = new EventQueue(sink, { retryForMs: 60_000 });
    q.push(event('a'));
    q.push(event('b'));
    await q.drain();
    expect(sink.batches).toHaveLength(3);
    expect(sink.batches[2]).toEqual(sink.batches[0]);
    expect(q.figures()).toMatchObject({
      accepted: 2,
      failed: 0,
      requests: 3,
      retries: 2,
      errors: { http_503: 1, connect: 1 },
      lastError: 'connect: ECONNREFUSED',
    });
  });

  it('gives up on a batch the other end refused, or when its retry window closes', async () => {
    const refused = recordingSink([{ ok: false, retry: false, error: 'http_400: bad event' }]);
    const q1 = new EventQueue(refused, { retryForMs: 60_000 });
    q1.push(event('a'));
    await q1.drain();
    expect(q1.figures()).toMatchObject({ accepted: 0, failed: 1, requests: 1, errors: { http_400: 1 } });

    const down = recordingSink([{ ok: false, retry: true, error: 'connect: ECONNREFUSED' }]);
    const q2 = new EventQueue(down, { retryForMs: 0 });
    q2.push(event('b'));
    q2.push(event('c'));
    await q2.drain();
    expect(q2.figures()).toMatchObject({ accepted: 0, failed: 2, requests: 1 });
  });

  it('counts events the other end did not accept as failed', async () => {
    const q = new EventQueue(recordingSink([{ ok: true, accepted: 1 }]), { retryForMs: 1_000 });
    q.push(event('a'));
    q.push(event('b'));
    await q.drain();
    expect(q.figures()).toMatchObject({ accepted: 1, failed: 1 });
  });
});

const planned = (id: string, daySecond: number, delivered: number): PlannedOrder => ({
  orderId: `t-${id}`,
  sourceId: id,
  storeId: 7,
  homeStore: true,
  origin: { lat: 37.5572, lng: 126.9245 },
  destination: { lat: 37.5612, lng: 126.9421 },
  distanceM: 1_620,
  dongCode: '1144066000',
  regionClass: 'urban',
  requiredClass: 'urban',
  daySecond,
  minutes: { riderAssigned: 2.5, pickedUp: 5, delivered },
  pickupMoved: false,
  actualMinutes: delivered,
  shifted: false,
  order: { type: 'snack' },
  rider: null,
  riderId: null,
});

describe('runSchedule', () => {
  // 3 orders a dataset minute apart, delivered within the hour; at 36,000x the whole run is 0.1 s.
  const plan = schedule([planned('a', 0, 20), planned('b', 60, 12), planned('c', 120, 54)], {
    speed: 36_000,
    maxDurationMs: Infinity,
  });

  it("asks for one estimate per order and sends every order's events in order, each with its own id", async () => {
    const sink = recordingSink();
    const asked: string[] = [];
    const estimate: EstimateCall = async (body) => {
      asked.push(body.orderId!);
      return body.orderId === 't-c'
        ? { kind: 'degraded', source: 'rough', ms: 1 }
        : { kind: 'answered', source: 'model', ms: 1 };
    };
    let ids = 0;
    const figures = await runSchedule(plan, {
      estimate,
      queues: [new EventQueue(sink, { retryForMs: 1_000 })],
      newEventId: () => `0190c7a4-2b1e-7c00-8000-${String(++ids).padStart(12, '0')}`,
      dongOf: () => '1111053000',
    });
    expect(asked.sort()).toEqual(['t-a', 't-b', 't-c']);
    expect(figures).toMatchObject({ steps: 15, stepsDone: 15, ordersCreated: 3, aborted: false });
    expect(figures.estimates).toMatchObject({ sent: 3, answered: 2, degraded: 1, failed: 0 });
    expect(figures.events[0]).toMatchObject({ queued: 12, accepted: 12, failed: 0 });
    const sent = sink.batches.flat();
    expect(new Set(sent.map((e) => e.eventId)).size).toBe(12);
    for (const id of ['t-a', 't-b', 't-c']) {
      const mine = sent.filter((e) => e.orderId === id);
      expect(mine.map((e) => e.type)).toEqual(['created', 'rider-assigned', 'picked-up', 'delivered']);
      expect(mine.every((e) => e.dongCode === '1111053000')).toBe(true);
    }
    // b is placed a minute after a but delivered before it: events go out by time, not by order.
    const delivered = sent.filter((e) => e.type === 'delivered').map((e) => e.orderId);
    expect(delivered).toEqual(['t-b', 't-a', 't-c']);
  });

  it('stops at once when interrupted, and says so', async () => {
    const stop = new AbortController();
    stop.abort();
    const sink = recordingSink();
    const figures = await runSchedule(plan, {
      estimate: null,
      queues: [new EventQueue(sink, { retryForMs: 1_000 })],
      newEventId: () => 'unused',
      dongOf: () => '1111053000',
      signal: stop.signal,
    });
    expect(figures).toMatchObject({ stepsDone: 0, aborted: true, ordersCreated: 0 });
    expect(sink.batches).toEqual([]);
  });
});
