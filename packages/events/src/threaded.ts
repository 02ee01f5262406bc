/**
 * A Kafka producer on its own worker thread, for a process whose event loop serves requests (the BFF's
 * prediction log). kafkajs does its encoding on the thread that calls send(): each record gets its own
 * buffer, each batch a CRC32C in JavaScript, about 12 µs of CPU a message in batches of 500 and 35 µs in
 * batches of 50 (measured on the two-core machine of docs/benchmarks.md), all of it blocking whatever
 * else that thread had to do. Here the owner's cost of a send is one postMessage of the encoded batch;
 * kafka.ts' producer, unchanged, runs in the worker (producer-worker.ts). The same idea as pino's
 * transports, which move log I/O off the main thread for the same reason.
 *
 * Same contract as openProducer: connects in the background, `ready()` false while there is no
 * connection (mirrored from the worker), sends refused at once while not ready, every send with a
 * deadline. A worker that dies is started again after a pause; the sends it had in hand fail (the
 * buffered publisher counts them as `send-failed`), the producer is unready until the new one connects.
 */
import { PRODUCER_THREAD_NAME } from '@eta/contracts';
import { Worker } from 'node:worker_threads';
import type { z } from 'zod';
import { EventProducerUnavailableError, EventSendTimeoutError, type KafkaProducerOptions } from './kafka.ts';
import {
  encodeEvents,
  type EventProducer,
  type OutgoingEvent,
  type RawMessage,
  type Topic,
} from './types.ts';

/** An error as it crosses the thread boundary. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
  readonly type?: string;
  readonly stack?: string;
}

export type ToWorker =
  | {
      readonly t: 'send';
      readonly id: number;
      readonly topic: string;
      readonly messages: readonly RawMessage[];
    }
  | { readonly t: 'close' };

export type FromWorker =
  | { readonly t: 'ready'; readonly ready: boolean }
  | { readonly t: 'done'; readonly id: number; readonly error?: WireError }
  | {
      readonly t: 'log';
      readonly level: 'debug' | 'info' | 'warn' | 'error';
      readonly fields: Record<string, unknown>;
      readonly msg: string;
    }
  | { readonly t: 'closed' };

export interface ThreadedProducerOptions extends KafkaProducerOptions {
  /** Pause before a worker that died is started again. Default 1,000 ms. */
  readonly restartDelayMs?: number;
}

/** How long past the send deadline the owner waits for the worker's answer before giving up on it. */
const ANSWER_GRACE_MS = 2_000;

function fromWire(e: WireError): Error {
  const err = new Error(e.message);
  err.name = e.name;
  if (e.code !== undefined) (err as Error & { code?: string | number }).code = e.code;
  if (e.type !== undefined) (err as Error & { type?: string }).type = e.type;
  if (e.stack !== undefined) err.stack = e.stack;
  return err;
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface ThreadedProducer extends EventProducer {
  /** The worker thread now running the producer (undefined between a crash and its restart, or closed). */
  thread(): Worker | undefined;
}

export function openThreadedProducer(options: ThreadedProducerOptions): ThreadedProducer {
  const { log, restartDelayMs = 1_000, ...rest } = options;
  if (rest.brokers.length === 0) throw new TypeError('at least one Kafka broker is required');
  // What the worker's openProducer gets: the options as plain data (its logger is the port back here).
  const workerData: Omit<KafkaProducerOptions, 'log'> = { ...rest, brokers: [...rest.brokers] };
  const sendTimeoutMs = rest.sendTimeoutMs ?? 5_000;

  let worker: Worker | undefined;
  let ready = false;
  let closed = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let onClosed: (() => void) | undefined;
  let restartTimer: ReturnType<typeof setTimeout> | undefined;

  function failPending(reason: string): void {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(id);
      p.reject(new EventProducerUnavailableError(reason));
    }
  }

  function handle(msg: FromWorker): void {
    switch (msg.t) {
      case 'ready':
        ready = msg.ready;
        return;
      case 'done': {
        const p = pending.get(msg.id);
        if (p === undefined) return; // already given up on (its answer came after the grace period)
        pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.error === undefined) p.resolve();
        else p.reject(fromWire(msg.error));
        return;
      }
      case 'log':
        log[msg.level]({ ...msg.fields, thread: PRODUCER_THREAD_NAME }, msg.msg);
        return;
      case 'closed':
        onClosed?.();
        return;
    }
  }

  function start(): void {
    const w = new Worker(new URL('./producer-worker.ts', import.meta.url), {
      workerData,
      name: PRODUCER_THREAD_NAME,
    });
    // The owner closes the producer on shutdown; a forgotten one must not keep the process alive.
    w.unref();
    w.on('message', handle);
    w.on('error', (err) => log.error({ err }, 'Kafka producer thread failed'));
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      ready = false;
      failPending('its thread exited');
      onClosed?.();
      if (closed) return;
      log.error(
        { exitCode: code, restartInMs: restartDelayMs },
        'Kafka producer thread exited; restarting it',
      );
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (!closed) start();
      }, restartDelayMs);
      restartTimer.unref();
    });
    worker = w;
  }

  start();

  const api: ThreadedProducer = {
    thread: () => worker,
    ready: () => ready && !closed,
    async publish<S extends z.ZodType>(
      topic: Topic<S>,
      events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
    ) {
      await api.sendRaw(topic.name, encodeEvents(topic, events));
    },
    sendRaw(topic: string, messages: readonly RawMessage[]): Promise<void> {
      if (closed) return Promise.reject(new EventProducerUnavailableError('it is closed'));
      const w = worker;
      if (!ready || w === undefined)
        return Promise.reject(new EventProducerUnavailableError('not connected'));
      if (messages.length === 0) return Promise.resolve();
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        // The worker's producer has its own deadline; this one covers a worker that stopped answering.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new EventSendTimeoutError(topic, sendTimeoutMs + ANSWER_GRACE_MS));
        }, sendTimeoutMs + ANSWER_GRACE_MS);
        pending.set(id, { resolve, reject, timer });
        w.postMessage({ t: 'send', id, topic, messages } satisfies ToWorker);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      if (restartTimer !== undefined) clearTimeout(restartTimer);
      const w = worker;
      if (w === undefined) return;
      // The worker closes its producer (which waits for sends in flight), answers, and exits; past the
      // bound it is terminated.
      await new Promise<void>((resolve) => {
        const bound = setTimeout(resolve, sendTimeoutMs + ANSWER_GRACE_MS);
        onClosed = () => {
          clearTimeout(bound);
          resolve();
        };
        w.postMessage({ t: 'close' } satisfies ToWorker);
      });
      onClosed = undefined;
      failPending('it is closed');
      await w.terminate();
      worker = undefined;
    },
  };
  return api;
}
