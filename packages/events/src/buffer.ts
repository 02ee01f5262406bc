import type { EventDropReason } from '@eta/contracts';
import type { z } from 'zod';
import {
  encodeEvent,
  type EventLog,
  type EventProducer,
  type OutgoingEvent,
  silentLog,
  type Topic,
} from './types.ts';

/**
 * A publisher for a request path that must never wait on the broker (the BFF's prediction log). `offer()`
 * validates (unless `validate` is false) and encodes the event and puts it in a bounded in-memory buffer,
 * synchronously, and never throws; a background loop sends the buffer in batches (after `lingerMs`, or at
 * once when a batch is full), one send at a time, in the order offered. Whatever cannot be kept is dropped
 * and counted, never waited for:
 *
 * - `buffer-full`: the buffer holds `maxEvents` events or `maxBytes` of them (the broker slow or away);
 * - `invalid`: the event fails its topic's schema (a producer bug; logged);
 * - `send-failed`: the producer rejected the batch (the broker refused it, or its send deadline passed);
 * - `shutdown`: offered after close(), or still buffered when close()'s bound ran out.
 *
 * While the producer is not ready (never connected yet, or reconnecting) nothing is sent: events wait in
 * the buffer until it is ready again or they overflow it; readiness is checked every `retryDelayMs` (a
 * read of a flag, so no growing pause: the buffer is full by then and drops every event until it sends
 * again). After a failed send the loop pauses (`retryDelayMs`, doubling up to `maxRetryDelayMs`) before
 * the next one, so an outage costs one failed send per pause, not one per batch. Delivery is at most once:
 * a dropped event is gone, and a send that failed at its deadline may still have reached the broker.
 */
export interface BufferedPublisher {
  /** Queues the event, or counts it as dropped; true when queued. Synchronous; never throws. */
  offer<S extends z.ZodType>(topic: Topic<S>, event: OutgoingEvent<z.input<S>>): boolean;
  /** Events buffered, including the batch being sent. */
  readonly size: number;
  /** Bytes (UTF-16 code units of the encoded values) buffered, including the batch being sent. */
  readonly bytes: number;
  /**
   * Sends what is buffered without waiting for the linger; resolves once the buffer is empty and no send
   * is in flight (while the producer is not ready, that is when it is ready again and has sent them).
   */
  flush(): Promise<void>;
  /**
   * Refuses new events, sends what is buffered for up to `timeoutMs` (default 2,000), then drops the rest
   * (`shutdown`). Does not close the producer: its owner does, after this.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Where the publisher reports what it did; the service maps it onto its metrics (names in contracts). */
export interface PublisherMetrics {
  published(topic: string, count: number): void;
  dropped(topic: string, reason: EventDropReason, count: number): void;
}

export interface BufferedPublisherOptions {
  readonly producer: Pick<EventProducer, 'sendRaw' | 'ready'>;
  /** Most events buffered at once (a send in flight included). */
  readonly maxEvents: number;
  /** Most encoded bytes buffered at once; bounds memory whatever the size of the events. */
  readonly maxBytes: number;
  /** How long the first event of a batch waits for others before the batch is sent. */
  readonly lingerMs: number;
  /** Most events in one send. */
  readonly maxBatch: number;
  /**
   * Check each event against its topic's schema as it is offered (default true), dropping a failure as
   * `invalid`. False only for events built by typed code whose output tests check against the schema, on a
   * path where the check's cost counts (a prediction event takes ~17 µs to validate, more than building
   * it): the consumers still validate every event and dead-letter one that fails, with the reason.
   */
  readonly validate?: boolean;
  readonly metrics?: PublisherMetrics;
  readonly log?: EventLog;
  /** Pause after a failed send, and between checks while the producer is not ready. Default 250 ms. */
  readonly retryDelayMs?: number;
  /** The pause doubles up to this. Default 5,000 ms. */
  readonly maxRetryDelayMs?: number;
  /** At most one log line per (topic, drop reason) per this many ms, with the count since the last. */
  readonly dropLogIntervalMs?: number;
}

interface Entry {
  readonly topic: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Record<string, string>;
}

const noMetrics: PublisherMetrics = { published() {}, dropped() {} };

function positiveInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}`);
}

export function createBufferedPublisher(options: BufferedPublisherOptions): BufferedPublisher {
  const { producer, maxEvents, maxBytes, lingerMs, maxBatch } = options;
  positiveInt('maxEvents', maxEvents, 1);
  positiveInt('maxBytes', maxBytes, 1);
  positiveInt('lingerMs', lingerMs, 0);
  positiveInt('maxBatch', maxBatch, 1);
  const metrics = options.metrics ?? noMetrics;
  const log = options.log ?? silentLog;
  const baseDelay = options.retryDelayMs ?? 250;
  const maxDelay = Math.max(baseDelay, options.maxRetryDelayMs ?? 5_000);
  const dropLogMs = options.dropLogIntervalMs ?? 10_000;
  const validate = options.validate ?? true;

  const queue: Entry[] = [];
  let queuedBytes = 0;
  let inFlight = 0;
  let inFlightBytes = 0;
  let sending = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let urgent: ReturnType<typeof setImmediate> | undefined;
  let delay = baseDelay;
  // True while the loop waits out a pause (a failed send, or the producer not ready): a full batch must
  // not cut that pause short, or an outage would cost a failed send per batch instead of one per pause.
  let paused = false;
  let closed = false;
  let stopped = false;
  let flushWaiters: (() => void)[] = [];

  // Drops are logged at most once per (topic, reason) and interval, with how many since the last line:
  // an outage at thousands of events a second must not become thousands of log lines a second.
  const dropLog = new Map<string, { last: number; since: number }>();
  function dropped(topic: string, reason: EventDropReason, count: number, err?: unknown): void {
    if (count <= 0) return;
    metrics.dropped(topic, reason, count);
    const id = `${topic}\u0000${reason}`;
    const now = Date.now();
    const entry = dropLog.get(id);
    if (entry !== undefined && now - entry.last < dropLogMs) {
      entry.since += count;
      return;
    }
    const total = (entry?.since ?? 0) + count;
    dropLog.set(id, { last: now, since: 0 });
    log.warn({ topic, reason, dropped: total, err }, 'events dropped');
  }

  function settleWaiters(): void {
    if (queue.length > 0 || sending) return;
    for (const wake of flushWaiters.splice(0)) wake();
  }

  function clearTimers(): void {
    if (timer !== undefined) clearTimeout(timer);
    if (urgent !== undefined) clearImmediate(urgent);
    timer = undefined;
    urgent = undefined;
  }

  function runAfter(ms: number): void {
    if (stopped || timer !== undefined || urgent !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      paused = false;
      void run();
    }, ms);
    timer.unref();
  }

  function pause(): void {
    runAfter(delay);
    paused = timer !== undefined;
    delay = Math.min(maxDelay, delay * 2);
  }

  /** Waits `retryDelayMs` for the producer to be ready, without growing the pause a failed send set. */
  function awaitReady(): void {
    runAfter(baseDelay);
    paused = timer !== undefined;
  }

  function runSoon(): void {
    if (stopped) return;
    paused = false;
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (urgent === undefined) {
      urgent = setImmediate(() => {
        urgent = undefined;
        void run();
      });
    }
  }

  function schedule(): void {
    if (sending || stopped || paused) return;
    if (queue.length >= maxBatch || flushWaiters.length > 0) runSoon();
    else runAfter(lingerMs);
  }

  async function run(): Promise<void> {
    if (sending || stopped) return;
    if (queue.length === 0) {
      settleWaiters();
      return;
    }
    if (!producer.ready()) {
      // Nothing is sent while there is no connection: the events wait (or overflow) in the buffer. Looked
      // at again soon: a producer back after an outage sends the moment it is noticed.
      awaitReady();
      return;
    }
    sending = true;
    const batch = queue.splice(0, maxBatch);
    let batchBytes = 0;
    for (const e of batch) batchBytes += e.value.length;
    queuedBytes -= batchBytes;
    inFlight = batch.length;
    inFlightBytes = batchBytes;

    // One send per topic of the batch, in the order the topics first appear; within a topic, in order.
    const byTopic = new Map<string, Entry[]>();
    for (const e of batch) {
      const list = byTopic.get(e.topic);
      if (list === undefined) byTopic.set(e.topic, [e]);
      else list.push(e);
    }
    let failed = false;
    for (const [topic, entries] of byTopic) {
      try {
        await producer.sendRaw(topic, entries);
        metrics.published(topic, entries.length);
      } catch (err) {
        failed = true;
        dropped(topic, 'send-failed', entries.length, err);
      }
    }
    inFlight = 0;
    inFlightBytes = 0;
    sending = false;
    if (failed) pause();
    else {
      delay = baseDelay;
      if (queue.length > 0) schedule();
    }
    settleWaiters();
  }

  return {
    offer(topic, event) {
      if (closed) {
        dropped(topic.name, 'shutdown', 1);
        return false;
      }
      if (queue.length + inFlight >= maxEvents) {
        dropped(topic.name, 'buffer-full', 1);
        return false;
      }
      let encoded: Entry;
      try {
        const e = encodeEvent(topic, event, { validate });
        encoded = { topic: topic.name, key: e.key, value: e.value, headers: e.headers };
      } catch (err) {
        dropped(topic.name, 'invalid', 1, err);
        return false;
      }
      if (queuedBytes + inFlightBytes + encoded.value.length > maxBytes) {
        dropped(topic.name, 'buffer-full', 1);
        return false;
      }
      queue.push(encoded);
      queuedBytes += encoded.value.length;
      schedule();
      return true;
    },
    get size() {
      return queue.length + inFlight;
    },
    get bytes() {
      return queuedBytes + inFlightBytes;
    },
    flush() {
      if (queue.length === 0 && !sending) return Promise.resolve();
      return new Promise<void>((resolve) => {
        flushWaiters.push(resolve);
        if (!sending) runSoon();
      });
    },
    async close({ timeoutMs = 2_000 } = {}) {
      if (closed) return;
      closed = true;
      let bound: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.flush(),
        new Promise<void>((resolve) => {
          bound = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(bound);
      stopped = true;
      clearTimers();
      const left = new Map<string, number>();
      for (const e of queue.splice(0)) left.set(e.topic, (left.get(e.topic) ?? 0) + 1);
      queuedBytes = 0;
      for (const [topic, count] of left) dropped(topic, 'shutdown', count);
      const waiters = flushWaiters;
      flushWaiters = [];
      for (const wake of waiters) wake();
    },
  };
}
