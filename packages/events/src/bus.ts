import { type z } from 'zod';
import { DeadLetterError, deadLetterOf } from './dlq.ts';
import {
  type BatchHandler,
  decodeEvent,
  encodeEvents,
  type EventHandler,
  type EventLog,
  type EventProducer,
  type DecodeFailure,
  type EventSubscriber,
  type IncomingEvent,
  type ResolvedBatchOptions,
  resolveBatchOptions,
  type OutgoingEvent,
  type RawMessage,
  silentLog,
  type Topic,
} from './types.ts';

/**
 * The in-process stand-in for Kafka in local runs with no broker (the embedded default). It keeps the
 * contract that matters to handlers: events are validated and go through JSON as on the wire, each
 * subscriber group gets every event of its topics in publish order, and a handler that throws gets the
 * same event again (after a growing pause) before any later one. Nothing is durable: a restart
 * loses what was not yet handled.
 */
export interface EventBus extends EventProducer {
  /**
   * One subscriber per consumer group; like Kafka groups, each group sees every event. With
   * `deadLetter`, a message that cannot be handled (it failed to decode, or its handler threw
   * DeadLetterError) goes to `<topic>.dlq` on this bus with the same headers as on Kafka; without, it is
   * logged and skipped.
   */
  subscriber(options: {
    groupId: string;
    deadLetter?: boolean;
    /** Called for every message dead-lettered (or skipped); for metrics. */
    onPoison?: (topic: string, reason: DecodeFailure | 'rejected') => void;
  }): EventSubscriber;
  /** Resolves when every started subscriber has handled everything published so far (for tests). */
  idle(): Promise<void>;
  /** Events each subscriber's topic holds that its handler has not finished (for a gauge). */
  backlog(): readonly { readonly topic: string; readonly groupId: string; readonly events: number }[];
}

export interface EventBusOptions {
  readonly log?: EventLog;
  /** First pause before redelivering to a failed handler; doubles up to 30x. Default 100 ms. */
  readonly retryDelayMs?: number;
  /**
   * Most events one subscriber's topic holds unhandled; past it, a new event is not given to that
   * subscriber (the others still get it) and `onDropped` is told. Nothing here is durable, and a handler
   * that keeps failing (a database away) would otherwise hold every event published meanwhile, in the
   * memory of the process that answers estimates. Default 100,000.
   */
  readonly maxBacklog?: number;
  /** Told each event a subscriber did not get because its backlog was full (for a counter). */
  readonly onDropped?: (topic: string, groupId: string) => void;
}

const DEFAULT_MAX_BACKLOG = 100_000;

interface Stored {
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

interface Lane {
  readonly groupId: string;
  readonly deadLetter: boolean;
  readonly onPoison: ((topic: string, reason: DecodeFailure | 'rejected') => void) | undefined;
  readonly topic: Topic;
  /** Per event (subscribe) or per batch of up to `maxEvents` (subscribeBatch). */
  readonly handler:
    | { readonly kind: 'event'; readonly fn: EventHandler<unknown> }
    | { readonly kind: 'batch'; readonly fn: BatchHandler<unknown>; readonly options: ResolvedBatchOptions };
  readonly queue: Stored[];
  running: boolean;
  started: boolean;
  /** Set when its subscriber closes: a drain paused between slices stops there. */
  stopped: boolean;
  waiters: (() => void)[];
  /** Events refused since the backlog was last below half full (one warning per such spell). */
  dropping: number;
}

const utf8 = new TextDecoder();

/**
 * Longest the bus decodes (JSON and schema) before it lets the event loop run. The bus shares its thread
 * with whatever publishes, which under ROLE=all is the estimate path: a flush of the prediction log is up
 * to 500 events at once, ~15 µs each to decode for a precise answer and ~330 µs for a rough one of 50
 * stores, so decoding a batch in one go held requests for 7-17 ms.
 */
const DECODE_SLICE_MS = 1;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function createEventBus(options: EventBusOptions = {}): EventBus {
  const log = options.log ?? silentLog;
  const baseDelay = options.retryDelayMs ?? 100;
  const maxBacklog = options.maxBacklog ?? DEFAULT_MAX_BACKLOG;
  if (!Number.isInteger(maxBacklog) || maxBacklog < 1) {
    throw new Error(`maxBacklog must be a positive integer, got ${maxBacklog}`);
  }
  const lanes = new Map<string, Lane[]>();
  const nextOffset = new Map<string, bigint>();
  const groups = new Set<string>();
  // Pending retry pauses, so close() can end them instead of leaving handlers' loops asleep.
  const timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.set(timer, resolve);
    });

  async function drain(lane: Lane): Promise<void> {
    if (lane.running) return;
    lane.running = true;
    try {
      while (!closed && lane.queue.length > 0) {
        const handler = lane.handler;
        const batch = handler.kind === 'batch' ? handler.options : undefined;
        const chunk = lane.queue.slice(0, batch?.maxEvents ?? 1);
        const events: IncomingEvent<unknown>[] = [];
        let slice = performance.now();
        let skipped = 0;
        for (const stored of chunk) {
          if (batch?.skip?.(stored.headers) === true) {
            skipped += 1;
            continue;
          }
          if (performance.now() - slice >= DECODE_SLICE_MS) {
            await nextTurn();
            if (closed || lane.stopped) return;
            slice = performance.now();
          }
          const decoded = decodeEvent(lane.topic, stored.value);
          // Only sendRaw() can put such a message here; publish() validates.
          if (!decoded.ok) poison(lane, stored, decoded.reason, decoded.detail);
          else events.push(eventOf(lane, stored, decoded.value));
        }
        if (skipped > 0) batch?.onSkipped?.(skipped);
        let attempt = 0;
        while (events.length > 0) {
          try {
            if (handler.kind === 'batch') await handler.fn(events);
            else await handler.fn(events[0]!);
            break;
          } catch (err) {
            if (err instanceof DeadLetterError && handler.kind === 'event') {
              poison(lane, chunk[0]!, 'rejected', err.message);
              break;
            }
            attempt += 1;
            const where = { topic: lane.topic.name, offset: chunk[0]!.offset, groupId: lane.groupId };
            log.warn({ ...where, err, attempt }, 'event handler failed; the event will be delivered again');
            await sleep(baseDelay * Math.min(30, 2 ** (attempt - 1)));
            if (closed) return;
          }
        }
        lane.queue.splice(0, chunk.length);
        if (lane.dropping > 0 && lane.queue.length < maxBacklog / 2) {
          log.info(
            { topic: lane.topic.name, groupId: lane.groupId, dropped: lane.dropping },
            'in-process bus: the subscriber caught up; events are given to it again',
          );
          lane.dropping = 0;
        }
      }
    } finally {
      lane.running = false;
      if (lane.queue.length === 0 || closed) {
        for (const wake of lane.waiters.splice(0)) wake();
      }
    }
  }

  function eventOf(lane: Lane, stored: Stored, value: unknown): IncomingEvent<unknown> {
    return {
      topic: lane.topic.name,
      partition: 0,
      offset: stored.offset,
      key: stored.key,
      value,
      headers: stored.headers,
      timestamp: stored.timestamp,
    };
  }

  function append(topic: string, messages: readonly RawMessage[]): void {
    const subscribed = lanes.get(topic) ?? [];
    for (const message of messages) {
      const offset = nextOffset.get(topic) ?? 0n;
      nextOffset.set(topic, offset + 1n);
      const stored: Stored = {
        key: message.key === null || typeof message.key === 'string' ? message.key : utf8.decode(message.key),
        value: message.value,
        headers: { ...message.headers },
        offset: offset.toString(),
        timestamp: String(Date.now()),
      };
      for (const lane of subscribed) {
        if (lane.queue.length < maxBacklog) {
          lane.queue.push(stored);
          continue;
        }
        if (lane.dropping === 0) {
          log.warn(
            { topic, groupId: lane.groupId, maxBacklog },
            'in-process bus: a subscriber is maxBacklog events behind; new events are not given to it',
          );
        }
        lane.dropping += 1;
        options.onDropped?.(topic, lane.groupId);
      }
    }
    // Delivery is asynchronous, as with a broker: publishing never runs handlers on its own stack.
    for (const lane of subscribed) if (lane.started) queueMicrotask(() => void drain(lane));
  }

  function poison(lane: Lane, stored: Stored, reason: DecodeFailure | 'rejected', detail: string): void {
    const where = { topic: lane.topic.name, offset: stored.offset, groupId: lane.groupId, reason, detail };
    lane.onPoison?.(lane.topic.name, reason);
    if (!lane.deadLetter) {
      log.error(where, 'skipping an event that cannot be handled');
      return;
    }
    const dead = deadLetterOf(
      { ...stored, topic: lane.topic.name, partition: 0 },
      reason,
      detail,
      lane.groupId,
    );
    append(dead.topic, [dead.message]);
    log.warn({ ...where, dlq: dead.topic }, 'event dead-lettered');
  }

  return {
    ready: () => !closed,

    async publish<S extends z.ZodType>(
      topic: Topic<S>,
      events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
    ) {
      if (closed) throw new Error('event bus is closed');
      append(topic.name, encodeEvents(topic, events));
    },

    async sendRaw(topic, messages) {
      if (closed) throw new Error('event bus is closed');
      append(topic, messages);
    },

    subscriber({ groupId, deadLetter = false, onPoison }) {
      if (groups.has(groupId)) throw new Error(`group ${groupId} already has a subscriber on this bus`);
      groups.add(groupId);
      const own: Lane[] = [];
      let state: 'new' | 'running' | 'closed' = 'new';
      const add = (topic: Topic, handler: Lane['handler']): void => {
        if (state !== 'new') throw new Error('subscribe() must be called before start()');
        if (own.some((l) => l.topic.name === topic.name)) {
          throw new Error(`topic ${topic.name} already has a handler`);
        }
        const lane: Lane = {
          groupId,
          deadLetter,
          onPoison,
          topic,
          handler,
          queue: [],
          running: false,
          started: false,
          stopped: false,
          waiters: [],
          dropping: 0,
        };
        own.push(lane);
        // Events published between subscribe() and start() wait in the queue, as they would in a topic.
        lanes.set(topic.name, [...(lanes.get(topic.name) ?? []), lane]);
      };
      return {
        subscribe(topic, handler) {
          add(topic, { kind: 'event', fn: handler as EventHandler<unknown> });
        },
        subscribeBatch(topic, handler, batchOptions = {}) {
          add(topic, {
            kind: 'batch',
            fn: handler as BatchHandler<unknown>,
            options: resolveBatchOptions(batchOptions),
          });
        },
        async start() {
          if (state !== 'new') throw new Error(`subscriber cannot start: it is ${state}`);
          if (own.length === 0) throw new Error('subscribe to at least one topic before start()');
          state = 'running';
          for (const lane of own) {
            lane.started = true;
            void drain(lane);
          }
        },
        async close() {
          if (state === 'closed') return;
          state = 'closed';
          for (const lane of own) {
            const list = lanes.get(lane.topic.name) ?? [];
            lanes.set(
              lane.topic.name,
              list.filter((l) => l !== lane),
            );
            lane.stopped = true;
            lane.queue.length = 0;
            for (const wake of lane.waiters.splice(0)) wake();
          }
          groups.delete(groupId);
        },
      };
    },

    async idle() {
      const pending: Promise<void>[] = [];
      for (const list of lanes.values()) {
        for (const lane of list) {
          if (lane.started && (lane.queue.length > 0 || lane.running)) {
            pending.push(new Promise<void>((resolve) => lane.waiters.push(resolve)));
            void drain(lane);
          }
        }
      }
      await Promise.all(pending);
    },

    backlog() {
      const out: { topic: string; groupId: string; events: number }[] = [];
      for (const [topic, list] of lanes) {
        for (const lane of list) out.push({ topic, groupId: lane.groupId, events: lane.queue.length });
      }
      return out;
    },

    async close() {
      closed = true;
      for (const [timer, resolve] of timers) {
        clearTimeout(timer);
        resolve();
      }
      timers.clear();
      for (const list of lanes.values()) {
        for (const lane of list) for (const wake of lane.waiters.splice(0)) wake();
      }
      lanes.clear();
    },
  };
}
