import { type z } from 'zod';
import {
  decodeEvent,
  encodeEvents,
  type EventHandler,
  type EventLog,
  type EventPublisher,
  type EventSubscriber,
  type OutgoingEvent,
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
export interface EventBus extends EventPublisher {
  /** One subscriber per consumer group; like Kafka groups, each group sees every event. */
  subscriber(options: { groupId: string }): EventSubscriber;
  /** Resolves when every started subscriber has handled everything published so far (for tests). */
  idle(): Promise<void>;
}

export interface EventBusOptions {
  readonly log?: EventLog;
  /** First pause before redelivering to a failed handler; doubles up to 30x. Default 100 ms. */
  readonly retryDelayMs?: number;
}

interface Stored {
  readonly offset: string;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: string;
}

interface Lane {
  readonly groupId: string;
  readonly topic: Topic;
  readonly handler: EventHandler<unknown>;
  readonly queue: Stored[];
  running: boolean;
  started: boolean;
  waiters: (() => void)[];
}

export function createEventBus(options: EventBusOptions = {}): EventBus {
  const log = options.log ?? silentLog;
  const baseDelay = options.retryDelayMs ?? 100;
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
        const stored = lane.queue[0]!;
        const where = { topic: lane.topic.name, offset: stored.offset, groupId: lane.groupId };
        const decoded = decodeEvent(lane.topic, stored.value);
        if (!decoded.ok) {
          // Unreachable through publish(), which validates; kept so the bus behaves like the consumer.
          log.error({ ...where, reason: decoded.reason }, 'skipping an event that fails its schema');
          lane.queue.shift();
          continue;
        }
        let attempt = 0;
        for (;;) {
          try {
            await lane.handler({
              topic: lane.topic.name,
              partition: 0,
              offset: stored.offset,
              key: stored.key,
              value: decoded.value,
              headers: stored.headers,
              timestamp: stored.timestamp,
            });
            break;
          } catch (err) {
            attempt += 1;
            log.warn({ ...where, err, attempt }, 'event handler failed; the event will be delivered again');
            await sleep(baseDelay * Math.min(30, 2 ** (attempt - 1)));
            if (closed) return;
          }
        }
        lane.queue.shift();
      }
    } finally {
      lane.running = false;
      if (lane.queue.length === 0 || closed) {
        for (const wake of lane.waiters.splice(0)) wake();
      }
    }
  }

  return {
    async publish<S extends z.ZodType>(
      topic: Topic<S>,
      events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
    ) {
      if (closed) throw new Error('event bus is closed');
      const encoded = encodeEvents(topic, events);
      const subscribed = lanes.get(topic.name) ?? [];
      for (const message of encoded) {
        const offset = nextOffset.get(topic.name) ?? 0n;
        nextOffset.set(topic.name, offset + 1n);
        const stored: Stored = { ...message, offset: offset.toString(), timestamp: String(Date.now()) };
        for (const lane of subscribed) lane.queue.push(stored);
      }
      // Delivery is asynchronous, as with a broker: publish() never runs handlers on its own stack.
      for (const lane of subscribed) if (lane.started) queueMicrotask(() => void drain(lane));
    },

    subscriber({ groupId }) {
      if (groups.has(groupId)) throw new Error(`group ${groupId} already has a subscriber on this bus`);
      groups.add(groupId);
      const own: Lane[] = [];
      let state: 'new' | 'running' | 'closed' = 'new';
      return {
        subscribe(topic, handler) {
          if (state !== 'new') throw new Error('subscribe() must be called before start()');
          if (own.some((l) => l.topic.name === topic.name)) {
            throw new Error(`topic ${topic.name} already has a handler`);
          }
          const lane: Lane = {
            groupId,
            topic,
            handler: handler as EventHandler<unknown>,
            queue: [],
            running: false,
            started: false,
            waiters: [],
          };
          own.push(lane);
          // Events published between subscribe() and start() wait in the queue, as they would in a topic.
          lanes.set(topic.name, [...(lanes.get(topic.name) ?? []), lane]);
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
