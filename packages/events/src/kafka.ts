import { type Consumer, Kafka, type LogEntry, logLevel, Partitioners, type Producer } from 'kafkajs';
import { type z } from 'zod';
import {
  decodeEvent,
  encodeEvents,
  type EventHandler,
  type EventLog,
  type EventPublisher,
  type EventSubscriber,
  type IncomingEvent,
  type OutgoingEvent,
  type Topic,
} from './types.ts';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log: EventLog;
}

// kafkajs logs through its own logger; route it into ours so its lines are JSON with the service's
// context, and keep it at WARN because INFO reports every rebalance step.
function kafkaClient({ brokers, clientId, log }: KafkaClientOptions): Kafka {
  if (brokers.length === 0) throw new TypeError('at least one Kafka broker is required');
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const fields = { kafkajs: namespace, ...rest };
        if (level <= logLevel.ERROR) log.error(fields, message);
        else if (level === logLevel.WARN) log.warn(fields, message);
        else if (level === logLevel.INFO) log.info(fields, message);
        else log.debug(fields, message);
      },
  });
}

export interface KafkaProducer extends EventPublisher {
  /** The underlying kafkajs producer, for instrumentation; do not send through it. */
  readonly producer: Producer;
}

/**
 * An idempotent producer: acks from all in-sync replicas, and the broker drops duplicates that client
 * retries would otherwise write, so a retried send never doubles an event. Idempotence also keeps
 * per-partition order with up to 5 requests in flight.
 */
export async function createProducer(options: KafkaClientOptions): Promise<KafkaProducer> {
  const producer = kafkaClient(options).producer({
    idempotent: true,
    maxInFlightRequests: 5,
    // Topics are created on purpose (by the deployment or a test), never by a typo in a publish.
    allowAutoTopicCreation: false,
    // kafkajs 2 changed its default partitioner and warns on every start unless one is chosen; the
    // Java client's murmur2 one keeps keys on the same partitions as the JVM tools.
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  let closed = false;
  return {
    producer,
    async publish<S extends z.ZodType>(
      topic: Topic<S>,
      events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
    ) {
      if (closed) throw new Error('producer is closed');
      const messages = encodeEvents(topic, events);
      if (messages.length === 0) return;
      await producer.send({ topic: topic.name, acks: -1, messages });
    },
    async close() {
      if (closed) return;
      closed = true;
      await producer.disconnect();
    },
  };
}

export interface KafkaConsumerOptions extends KafkaClientOptions {
  readonly groupId: string;
  /**
   * Where a group with no committed offset starts. Default true: with false, a consumer that fails
   * its very first message and restarts would skip to the end and lose it.
   */
  readonly fromBeginning?: boolean;
  readonly sessionTimeoutMs?: number;
}

export interface KafkaConsumer extends EventSubscriber {
  readonly consumer: Consumer;
}

/**
 * Runs a handler per message and commits offset+1 only after the handler resolved (auto-commit off).
 * A handler that throws leaves the offset uncommitted: kafkajs fetches the same message again, and a
 * consumer that crashed or restarted resumes from the last commit, so the message is redelivered.
 * A payload that is not valid JSON for its topic's schema can never succeed, so it is logged and
 * committed rather than blocking its partition for ever.
 */
export function createConsumer(options: KafkaConsumerOptions): KafkaConsumer {
  const { log, groupId } = options;
  const consumer = kafkaClient(options).consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    allowAutoTopicCreation: false,
  });
  const handlers = new Map<string, { topic: Topic; handler: EventHandler<unknown> }>();
  let state: 'new' | 'running' | 'closed' = 'new';

  async function commit(topic: string, partition: number, offset: string): Promise<void> {
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
  }

  return {
    consumer,
    subscribe(topic, handler) {
      if (state !== 'new') throw new Error('subscribe() must be called before start()');
      if (handlers.has(topic.name)) throw new Error(`topic ${topic.name} already has a handler`);
      handlers.set(topic.name, { topic, handler: handler as EventHandler<unknown> });
    },
    async start() {
      if (state !== 'new') throw new Error(`consumer cannot start: it is ${state}`);
      if (handlers.size === 0) throw new Error('subscribe to at least one topic before start()');
      state = 'running';
      await consumer.connect();
      await consumer.subscribe({
        topics: [...handlers.keys()],
        fromBeginning: options.fromBeginning ?? true,
      });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          const entry = handlers.get(topic);
          if (!entry) return;
          const where = { topic, partition, offset: message.offset, groupId };
          const decoded = decodeEvent(entry.topic, message.value?.toString('utf8') ?? null);
          if (!decoded.ok) {
            log.error({ ...where, reason: decoded.reason }, 'skipping an event that fails its schema');
            await commit(topic, partition, message.offset);
            return;
          }
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            if (value !== undefined) headers[name] = value.toString();
          }
          const event: IncomingEvent<unknown> = {
            topic,
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? null,
            value: decoded.value,
            headers,
            timestamp: message.timestamp,
          };
          try {
            await entry.handler(event);
          } catch (err) {
            log.warn({ ...where, err }, 'event handler failed; the event will be delivered again');
            throw err;
          }
          await commit(topic, partition, message.offset);
        },
      });
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      await consumer.disconnect();
    },
  };
}
