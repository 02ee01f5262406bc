/**
 * Where the replay's order events go: the BFF's HTTP ingest (`POST /v1/events/orders`) or straight to the
 * `orders` topic on Kafka (@eta/events' producer). Either way one `EventQueue` per sink batches what is due
 * (up to ORDER_EVENTS_MAX_BATCH per request), keeps one request in flight (so one order's events arrive in
 * the order they happened), and sends a batch again after a 503, a 429 or a connection error: the
 * consumers are idempotent by eventId, so a batch that was partly published before it failed counts once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ORDER_EVENTS_MAX_BATCH,
  ORDER_EVENTS_ROUTE,
  ORDERS_TOPIC,
  OrderEventsResponse,
  prefixedTopic,
  type OrderEvent,
} from '@eta/contracts';
import type { Dispatcher } from 'undici';
import { classifyError } from '../errors.ts';
import type { EventsPackage } from './events-package.ts';
import { postJson } from './http.ts';

/** One try at sending a batch. */
export type SendResult =
  | { readonly ok: true; readonly accepted: number }
  /** `retry`: whether the same batch may be sent again; `retryAfterMs` when the server said when. */
  | { readonly ok: false; readonly retry: boolean; readonly retryAfterMs?: number; readonly error: string };

export interface EventSink {
  readonly name: string;
  send(events: readonly OrderEvent[]): Promise<SendResult>;
  close(): Promise<void>;
}

/** Backoff before try `attempt + 1` (attempt 0 failed first): 250 ms doubling to 5 s, or what the server asked. */
export function retryDelayMs(result: { retryAfterMs?: number }, attempt: number): number {
  if (result.retryAfterMs !== undefined) return Math.min(30_000, Math.max(100, result.retryAfterMs));
  return Math.min(5_000, 250 * 2 ** attempt);
}

/** `Retry-After` as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Statuses after which the same batch is sent again: the broker was not there in time, or slow down. */
const RETRY_STATUSES = new Set([429, 503]);
const RETRY_ERRORS = new Set(['connect', 'socket', 'timeout']);

export interface HttpSinkOptions {
  readonly baseUrl: string;
  readonly token: string;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
}

export function httpSink(opts: HttpSinkOptions): EventSink {
  const url = new URL(ORDER_EVENTS_ROUTE, opts.baseUrl).href;
  return {
    name: 'http',
    async send(events) {
      try {
        const res = await postJson(url, { events }, opts);
        if (res.status === 202 || res.status === 200) {
          const parsed = OrderEventsResponse.safeParse(res.json);
          if (parsed.success) return { ok: true, accepted: parsed.data.accepted };
          return {
            ok: false,
            retry: false,
            error: `http_${res.status}: unexpected body ${res.text.slice(0, 200)}`,
          };
        }
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        return {
          ok: false,
          retry: RETRY_STATUSES.has(res.status),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          error: `http_${res.status}: ${res.text.slice(0, 200)}`,
        };
      } catch (err) {
        const kind = classifyError(err);
        return { ok: false, retry: RETRY_ERRORS.has(kind), error: `${kind}: ${(err as Error).message}` };
      }
    },
    async close() {},
  };
}

export interface KafkaSinkOptions {
  readonly brokers: readonly string[];
  /** Put before the topic name, as the services' KAFKA_TOPIC_PREFIX (`<prefix>orders`). */
  readonly topicPrefix: string;
  readonly events: EventsPackage;
}

/** Connects first (fails when no broker answers); sends with the topic's schema, keyed by order id. */
export async function kafkaSink(opts: KafkaSinkOptions): Promise<EventSink> {
  const topic = prefixedTopic(ORDERS_TOPIC, opts.topicPrefix);
  const producer = await opts.events.createProducer({
    brokers: opts.brokers,
    clientId: 'eta-replay',
    log: opts.events.silentLog,
  });
  return {
    name: 'kafka',
    async send(events) {
      try {
        await producer.publish(
          topic,
          events.map((e) => ({ key: topic.keyOf(e), value: e })),
        );
        return { ok: true, accepted: events.length };
      } catch (err) {
        // An event that fails its schema fails again; anything else is the broker's or the connection's.
        const invalid = (err as { code?: unknown }).code === 'EVENT_INVALID';
        return { ok: false, retry: !invalid, error: `${(err as Error).name}: ${(err as Error).message}` };
      }
    },
    close: () => producer.close(),
  };
}

export interface SinkFigures {
  readonly sink: string;
  /** Events handed to the sink. */
  readonly queued: number;
  /** Events the other end confirmed (202 `accepted`, or the broker's ack). */
  readonly accepted: number;
  /** Events given up on: refused, or still failing when the retry window closed. */
  readonly failed: number;
  readonly requests: number;
  /** Requests that were tries again of a batch. */
  readonly retries: number;
  /** Failures by kind (`http_503`, `connect`, ...), retried ones included. */
  readonly errors: Readonly<Record<string, number>>;
  /** The last failure's text, to say why. */
  readonly lastError: string | null;
}

export interface EventQueueOptions {
  /** How long one batch is tried again before its events count as failed. */
  readonly retryForMs: number;
  readonly maxBatch?: number;
  /** Stops retrying at once (the run was interrupted); what is queued is still tried once. */
  readonly signal?: AbortSignal;
}

/** Batches and sends events to one sink, one request at a time, in the order pushed. */
export class EventQueue {
  readonly #sink: EventSink;
  readonly #opts: EventQueueOptions;
  readonly #pending: OrderEvent[] = [];
  #running: Promise<void> | null = null;
  #queued = 0;
  #accepted = 0;
  #failed = 0;
  #requests = 0;
  #retries = 0;
  readonly #errors: Record<string, number> = {};
  #lastError: string | null = null;

  constructor(sink: EventSink, opts: EventQueueOptions) {
    this.#sink = sink;
    this.#opts = opts;
  }

  get backlog(): number {
    return this.#pending.length;
  }

  push(event: OrderEvent): void {
    this.#pending.push(event);
    this.#queued++;
    // Started on the next turn, so the events due in this one go out as one batch.
    this.#running ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#loop())
      .finally(() => {
        this.#running = null;
      });
  }

  /** Resolves once everything pushed so far was sent or given up on. */
  async drain(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  figures(): SinkFigures {
    return {
      sink: this.#sink.name,
      queued: this.#queued,
      accepted: this.#accepted,
      failed: this.#failed,
      requests: this.#requests,
      retries: this.#retries,
      errors: { ...this.#errors },
      lastError: this.#lastError,
    };
  }

  async #loop(): Promise<void> {
    const max = this.#opts.maxBatch ?? ORDER_EVENTS_MAX_BATCH;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, max);
      await this.#sendBatch(batch);
    }
  }

  async #sendBatch(batch: readonly OrderEvent[]): Promise<void> {
    const giveUpAt = Date.now() + this.#opts.retryForMs;
    for (let attempt = 0; ; attempt++) {
      this.#requests++;
      if (attempt > 0) this.#retries++;
      const result = await this.#sink.send(batch);
      if (result.ok) {
        this.#accepted += result.accepted;
        // Fewer accepted than sent is the server's word; the difference counts as failed.
        this.#failed += Math.max(0, batch.length - result.accepted);
        return;
      }
      const kind = result.error.split(':', 1)[0]!;
      this.#errors[kind] = (this.#errors[kind] ?? 0) + 1;
      this.#lastError = result.error;
      const delay = retryDelayMs(result, attempt);
      if (!result.retry || this.#opts.signal?.aborted === true || Date.now() + delay > giveUpAt) {
        this.#failed += batch.length;
        return;
      }
      await sleep(delay, undefined, this.#opts.signal ? { signal: this.#opts.signal } : {}).catch(() => {});
    }
  }
}
