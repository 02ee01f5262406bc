// The buffered publisher in front of the broker: bounded, never waiting, never throwing, order kept,
// drops counted by reason. The producer here is an in-memory stand-in the test controls (ready or not,
// failing or not, a send held open), so each case is decided by what the test does, not by timing; the
// linger and pause cases run on fake timers (no I/O at all).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import {
  createBufferedPublisher,
  defineTopic,
  type BufferedPublisherOptions,
  type PublisherMetrics,
  type RawMessage,
} from '../src/index.ts';

const A = defineTopic('a', z.object({ n: z.number().int() }));
const B = defineTopic('b', z.object({ n: z.number().int() }));
const ev = (n: number) => ({ key: `k${n}`, value: { n } });

interface Fake {
  readonly producer: BufferedPublisherOptions['producer'];
  readonly sent: { topic: string; n: number }[];
  readonly batches: number[];
  attempts: number;
  ready: boolean;
  failing: boolean;
  /** While set, sends wait for it. */
  hold: Promise<void> | undefined;
}

function fakeProducer(): Fake {
  const fake: Fake = {
    sent: [],
    batches: [],
    attempts: 0,
    ready: true,
    failing: false,
    hold: undefined,
    producer: {
      ready: () => fake.ready,
      sendRaw: async (topic: string, messages: readonly RawMessage[]) => {
        fake.attempts += 1;
        if (fake.hold) await fake.hold;
        if (fake.failing) throw new Error('broker says no');
        fake.batches.push(messages.length);
        for (const m of messages)
          fake.sent.push({ topic, n: (JSON.parse(m.value as string) as { n: number }).n });
      },
    },
  };
  return fake;
}

interface Counts extends PublisherMetrics {
  readonly counts: { published: Record<string, number>; dropped: Record<string, number> };
}

function counters(): Counts {
  const c = { published: {} as Record<string, number>, dropped: {} as Record<string, number> };
  return {
    counts: c,
    published(topic, count) {
      c.published[topic] = (c.published[topic] ?? 0) + count;
    },
    dropped(topic, reason, count) {
      c.dropped[`${topic}/${reason}`] = (c.dropped[`${topic}/${reason}`] ?? 0) + count;
    },
  };
}

const counts = (m: Counts) => m.counts;

function publisher(fake: Fake, m: PublisherMetrics, opts: Partial<BufferedPublisherOptions> = {}) {
  return createBufferedPublisher({
    producer: fake.producer,
    maxEvents: 1_000,
    maxBytes: 1 << 20,
    lingerMs: 0,
    maxBatch: 10,
    metrics: m,
    retryDelayMs: 1,
    ...opts,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe('buffered publisher', () => {
  it('sends in the order offered, per topic, in batches of at most maxBatch', async () => {
    const fake = fakeProducer();
    const m = counters();
    const pub = publisher(fake, m, { maxBatch: 10 });
    for (let n = 0; n < 25; n++) {
      expect(pub.offer(A, ev(n))).toBe(true);
      if (n % 5 === 0) expect(pub.offer(B, ev(100 + n))).toBe(true);
    }
    await pub.flush();
    expect(fake.sent.filter((s) => s.topic === 'a').map((s) => s.n)).toEqual([...Array(25).keys()]);
    expect(fake.sent.filter((s) => s.topic === 'b').map((s) => s.n)).toEqual([100, 105, 110, 115, 120]);
    expect(Math.max(...fake.batches)).toBeLessThanOrEqual(10);
    expect(counts(m).published).toEqual({ a: 25, b: 5 });
    expect(counts(m).dropped).toEqual({});
    expect(pub.size).toBe(0);
    expect(pub.bytes).toBe(0);
    await pub.close();
  });

  it('holds at most maxEvents; the rest is dropped and counted, and what it held goes once the producer is ready', async () => {
    const fake = fakeProducer();
    fake.ready = false;
    const m = counters();
    const pub = publisher(fake, m, { maxEvents: 5 });
    const taken = Array.from({ length: 8 }, (_, n) => pub.offer(A, ev(n)));
    expect(taken).toEqual([true, true, true, true, true, false, false, false]);
    expect(pub.size).toBe(5);
    expect(counts(m).dropped).toEqual({ 'a/buffer-full': 3 });
    expect(fake.attempts).toBe(0);

    fake.ready = true;
    await pub.flush();
    expect(fake.sent.map((s) => s.n)).toEqual([0, 1, 2, 3, 4]);
    expect(counts(m).published).toEqual({ a: 5 });
    // Room again: new events are taken and sent.
    expect(pub.offer(A, ev(9))).toBe(true);
    await pub.flush();
    expect(fake.sent.map((s) => s.n)).toEqual([0, 1, 2, 3, 4, 9]);
    expect(counts(m).dropped).toEqual({ 'a/buffer-full': 3 });
    await pub.close();
  });

  it('holds at most maxBytes of encoded events, whatever their count', async () => {
    const fake = fakeProducer();
    fake.ready = false;
    const m = counters();
    const one = JSON.stringify({ n: 1 }).length;
    const pub = publisher(fake, m, { maxBytes: 2 * one + 1 });
    expect([1, 2, 3].map((n) => pub.offer(A, ev(n)))).toEqual([true, true, false]);
    expect(pub.bytes).toBe(2 * one);
    expect(counts(m).dropped).toEqual({ 'a/buffer-full': 1 });
    await pub.close({ timeoutMs: 0 });
  });

  it('drops an event that fails its schema (counted as invalid) without throwing; the others go', async () => {
    const fake = fakeProducer();
    const m = counters();
    const pub = publisher(fake, m);
    expect(pub.offer(A, ev(1))).toBe(true);
    expect(pub.offer(A, { key: 'x', value: { n: 1.5 } })).toBe(false);
    expect(pub.offer(A, { key: '', value: { n: 2 } })).toBe(false);
    expect(pub.offer(A, ev(3))).toBe(true);
    await pub.flush();
    expect(fake.sent.map((s) => s.n)).toEqual([1, 3]);
    expect(counts(m).dropped).toEqual({ 'a/invalid': 2 });
    await pub.close();
  });

  it('with validate: false sends what it is given unchecked, but still refuses an event with no key', async () => {
    const fake = fakeProducer();
    const m = counters();
    const pub = publisher(fake, m, { validate: false });
    expect(pub.offer(A, ev(1))).toBe(true);
    // Not an integer: the schema would refuse it; unchecked, it goes (the consumer dead-letters it).
    expect(pub.offer(A, { key: 'x', value: { n: 1.5 } })).toBe(true);
    expect(pub.offer(A, { key: '', value: { n: 2 } })).toBe(false);
    // A value JSON cannot encode is dropped as invalid, never thrown at the caller.
    const loop: { n: number; self?: unknown } = { n: 4 };
    loop.self = loop;
    expect(pub.offer(A, { key: 'y', value: loop })).toBe(false);
    await pub.flush();
    expect(fake.sent.map((s) => s.n)).toEqual([1, 1.5]);
    expect(counts(m).dropped).toEqual({ 'a/invalid': 2 });
    await pub.close();
  });

  it('drops a batch the producer rejected (send-failed) and sends the next one', async () => {
    const fake = fakeProducer();
    const m = counters();
    const pub = publisher(fake, m);
    fake.failing = true;
    pub.offer(A, ev(0));
    pub.offer(A, ev(1));
    await pub.flush();
    expect(counts(m).dropped).toEqual({ 'a/send-failed': 2 });
    fake.failing = false;
    pub.offer(A, ev(2));
    await pub.flush();
    expect(fake.sent.map((s) => s.n)).toEqual([2]);
    expect(counts(m).published).toEqual({ a: 1 });
    await pub.close();
  });

  it('while a send hangs, offers still return at once and fill the buffer up to its bound', async () => {
    const fake = fakeProducer();
    fake.hold = new Promise<void>(() => undefined); // a broker that never answers
    const m = counters();
    const pub = publisher(fake, m, { maxEvents: 4, maxBatch: 2 });
    pub.offer(A, ev(0));
    pub.offer(A, ev(1)); // a full batch: sent (and held) on the next turn
    await vi.waitFor(() => expect(fake.attempts).toBe(1), { timeout: 10_000, interval: 5 });
    expect([2, 3, 4].map((n) => pub.offer(A, ev(n)))).toEqual([true, true, false]);
    expect(pub.size).toBe(4);
    // close() is bounded even though the send never ends: what is left is dropped as shutdown.
    await pub.close({ timeoutMs: 20 });
    expect(counts(m).dropped).toEqual({ 'a/buffer-full': 1, 'a/shutdown': 2 });
    expect(pub.offer(A, ev(5))).toBe(false);
    expect(counts(m).dropped['a/shutdown']).toBe(3);
  });

  it('close() sends what is buffered before it returns', async () => {
    const fake = fakeProducer();
    const m = counters();
    const pub = publisher(fake, m, { lingerMs: 60_000 });
    pub.offer(A, ev(0));
    pub.offer(B, ev(1));
    await pub.close();
    expect(fake.sent).toEqual([
      { topic: 'a', n: 0 },
      { topic: 'b', n: 1 },
    ]);
    expect(counts(m).dropped).toEqual({});
  });

  it('refuses nonsense bounds', () => {
    const fake = fakeProducer();
    expect(() => publisher(fake, counters(), { maxEvents: 0 })).toThrow(/maxEvents/);
    expect(() => publisher(fake, counters(), { lingerMs: -1 })).toThrow(/lingerMs/);
  });
});

describe('buffered publisher on a clock of its own', () => {
  it('lets the first event wait lingerMs for others; a full batch goes at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const fake = fakeProducer();
    const pub = publisher(fake, counters(), { lingerMs: 100, maxBatch: 3 });
    pub.offer(A, ev(0));
    await vi.advanceTimersByTimeAsync(99);
    expect(fake.attempts).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.sent.map((s) => s.n)).toEqual([0]);

    pub.offer(A, ev(1));
    pub.offer(A, ev(2));
    pub.offer(A, ev(3));
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.sent.map((s) => s.n)).toEqual([0, 1, 2, 3]);
    await pub.close({ timeoutMs: 0 });
  });

  it('after a failed send waits out its pause, doubling, even when full batches arrive meanwhile', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const fake = fakeProducer();
    fake.failing = true;
    const m = counters();
    const pub = publisher(fake, m, { maxBatch: 2, retryDelayMs: 1_000, maxRetryDelayMs: 1_500 });
    pub.offer(A, ev(0));
    pub.offer(A, ev(1));
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.attempts).toBe(1);
    for (let n = 2; n < 8; n++) pub.offer(A, ev(n)); // three more full batches
    await vi.advanceTimersByTimeAsync(998);
    expect(fake.attempts).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.attempts).toBe(2);
    // The next pause is doubled, capped at maxRetryDelayMs.
    await vi.advanceTimersByTimeAsync(1_499);
    expect(fake.attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fake.attempts).toBe(3);
    // Back: the rest goes, in order, and the pause resets.
    fake.failing = false;
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fake.sent.map((s) => s.n)).toEqual([6, 7]);
    expect(counts(m).dropped).toEqual({ 'a/send-failed': 6 });
    await pub.close({ timeoutMs: 0 });
  });

  it('does not send while the producer is not ready, and checks again every retryDelayMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const fake = fakeProducer();
    fake.ready = false;
    const pub = publisher(fake, counters(), { retryDelayMs: 100, maxRetryDelayMs: 400 });
    pub.offer(A, ev(0));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fake.attempts).toBe(0);
    expect(pub.size).toBe(1);
    fake.ready = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.sent.map((s) => s.n)).toEqual([0]);
    await pub.close({ timeoutMs: 0 });
  });

  it('after an outage grew the send pause, sends within retryDelayMs of the producer being ready again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'Date'] });
    const fake = fakeProducer();
    fake.failing = true;
    const m = counters();
    const pub = publisher(fake, m, { maxBatch: 1, retryDelayMs: 100, maxRetryDelayMs: 60_000 });
    for (let n = 0; n < 5; n++) pub.offer(A, ev(n));
    // Failed sends at 0, 100, 300, 700 and 1,500 ms; the pause after the last one is 1,600 ms.
    await vi.advanceTimersByTimeAsync(1_501);
    expect(fake.attempts).toBe(5);
    // The client is replaced (unready) and the broker comes back while the loop waits.
    fake.ready = false;
    fake.failing = false;
    pub.offer(A, ev(5));
    await vi.advanceTimersByTimeAsync(1_599);
    expect(fake.attempts).toBe(5);
    // From here readiness is looked at every 100 ms, not after the next (3,200 ms) pause.
    await vi.advanceTimersByTimeAsync(550);
    fake.ready = true;
    await vi.advanceTimersByTimeAsync(100);
    expect(fake.sent.map((s) => s.n)).toEqual([5]);
    expect(counts(m).dropped).toEqual({ 'a/send-failed': 5 });
    await pub.close({ timeoutMs: 0 });
  });
});
