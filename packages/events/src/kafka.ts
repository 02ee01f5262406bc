/**
 * The Kafka side of @eta/events, on kafkajs. This is the only file that imports kafkajs: the interfaces it
 * implements (EventProducer, EventSubscriber in types.ts) carry no kafkajs type, so moving to another
 * client (@confluentinc/kafka-javascript) means rewriting this file and nothing else.
 */
import {
  type Consumer,
  Kafka,
  type KafkaConfig,
  type KafkaMessage,
  type LogEntry,
  logLevel,
  Partitioners,
  type Producer,
  type SASLOptions,
} from 'kafkajs';
import { type z } from 'zod';
import { DeadLetterError, type ReceivedMessage, routeToDeadLetter } from './dlq.ts';
import {
  type BatchHandler,
  type DecodeFailure,
  decodeEvent,
  encodeEvents,
  type EventHandler,
  type EventLog,
  type EventProducer,
  type EventSubscriber,
  type IncomingEvent,
  type ResolvedBatchOptions,
  resolveBatchOptions,
  type OutgoingEvent,
  type RawMessage,
  type Topic,
} from './types.ts';

const utf8 = new TextDecoder();

/** SASL mechanisms the brokers may ask for (Confluent Cloud's API keys are PLAIN over TLS). */
export const KAFKA_SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number];

/** SASL credentials: an API key and secret on Confluent Cloud. */
export interface KafkaSasl {
  readonly mechanism: KafkaSaslMechanism;
  readonly username: string;
  /** Never logged: not by this file, and kafkajs logs only whether SASL is on. */
  readonly password: string;
}

/** TLS to the brokers beyond Node's defaults. */
export interface KafkaTls {
  /** PEM certificate(s) to trust instead of Node's root CAs (a private CA); unset = Node's root CAs. */
  readonly ca?: string;
  /** Default true; false accepts any certificate (never in a deployment). */
  readonly rejectUnauthorized?: boolean;
}

/**
 * Every field is plain data (strings, booleans, arrays) but `log`: the options minus `log` survive
 * structured cloning (a worker thread's workerData), so nothing here may become a function or a class.
 */
export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly log: EventLog;
  /** TLS to the brokers: true trusts Node's root CAs (Confluent Cloud); an object sets more. Default off. */
  readonly ssl?: boolean | KafkaTls;
  /** SASL authentication; unset = none (a local broker). */
  readonly sasl?: KafkaSasl;
}

/** The ssl and sasl settings as kafkajs takes them (copies, never the caller's objects). */
function security({
  ssl,
  sasl,
}: Pick<KafkaClientOptions, 'ssl' | 'sasl'>): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (ssl !== undefined && ssl !== false) {
    out.ssl =
      ssl === true
        ? true
        : {
            ...(ssl.ca !== undefined ? { ca: ssl.ca } : {}),
            ...(ssl.rejectUnauthorized !== undefined ? { rejectUnauthorized: ssl.rejectUnauthorized } : {}),
          };
  }
  if (sasl !== undefined) {
    // Checked here as well as by the services' config: the options may arrive untyped (workerData).
    if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(sasl.mechanism)) {
      throw new TypeError(`unknown SASL mechanism; expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
    }
    if (!sasl.username || !sasl.password) throw new TypeError('SASL needs a username and a password');
    // A copy: kafkajs keeps its authenticator (a function) on the object it was given.
    out.sasl = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
  }
  return out;
}

interface ClientTuning {
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly retry?: { retries: number; initialRetryTime: number; maxRetryTime: number };
}

// kafkajs logs through its own logger; route it into ours so its lines are JSON with the service's
// context, and keep it at WARN because INFO reports every rebalance step.
function kafkaClient(options: KafkaClientOptions, tuning: ClientTuning = {}): Kafka {
  const { brokers, clientId, log } = options;
  if (brokers.length === 0) throw new TypeError('at least one Kafka broker is required');
  const secured = security(options);
  if (secured.sasl?.mechanism === 'plain' && secured.ssl === undefined) {
    // Fine on a test broker; anywhere else the password crosses the network in the clear.
    log.warn({ clientId, brokers }, 'Kafka: SASL PLAIN without TLS sends the password unencrypted');
  }
  return new Kafka({
    clientId,
    brokers: [...brokers],
    ...secured,
    logLevel: logLevel.WARN,
    ...(tuning.connectionTimeoutMs !== undefined ? { connectionTimeout: tuning.connectionTimeoutMs } : {}),
    ...(tuning.requestTimeoutMs !== undefined ? { requestTimeout: tuning.requestTimeoutMs } : {}),
    ...(tuning.retry !== undefined ? { retry: tuning.retry } : {}),
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

// ---------------------------------------------------------------------------------------------------
// Producer

export interface KafkaProducerOptions extends KafkaClientOptions {
  /**
   * The deadline of one send, the client's own retries included (default 5,000 ms): past it the send
   * rejects with EventSendTimeoutError, whatever the client is still doing. A send that timed out may
   * still reach the broker.
   */
  readonly sendTimeoutMs?: number;
  /**
   * First pause before connecting again after a failed attempt; doubles up to maxReconnectDelayMs.
   * Default 500 ms.
   */
  readonly reconnectDelayMs?: number;
  /**
   * Longest pause between connection attempts (default 5,000 ms). The buffer in front of the producer
   * fills while it is away, and every event offered past that is dropped until it is back, so a broker
   * that returned must not wait long to be noticed: at 30 s (kafkajs' own cap) a pause could cost 30 s of
   * events after a minute-long outage. An attempt against a broker that is down is one refused or timed
   * out connection.
   */
  readonly maxReconnectDelayMs?: number;
  /**
   * Sends failing in a row (connection errors, timeouts) after which the client is replaced by a fresh
   * one that connects from scratch. Default 3.
   */
  readonly reconnectAfterFailures?: number;
}

/** A send that did not complete within the producer's `sendTimeoutMs`. */
export class EventSendTimeoutError extends Error {
  readonly code = 'EVENT_SEND_TIMEOUT';
  constructor(topic: string, ms: number) {
    super(`send to ${topic} did not complete within ${ms} ms`);
    this.name = 'EventSendTimeoutError';
  }
}

/** A send while the producer has no connection (never connected yet, reconnecting, or closed). */
export class EventProducerUnavailableError extends Error {
  readonly code = 'EVENT_PRODUCER_UNAVAILABLE';
  constructor(reason: string) {
    super(`the Kafka producer cannot send: ${reason}`);
    this.name = 'EventProducerUnavailableError';
  }
}

/** kafkajs' error for refused credentials (or a mechanism the broker does not offer). */
function isAuthenticationError(err: unknown): boolean {
  return err instanceof Error && err.name === 'KafkaJSSASLAuthenticationError';
}

function withDeadline<T>(work: Promise<T>, ms: number, topic: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EventSendTimeoutError(topic, ms)), ms);
  });
  // The client's promise may settle after the deadline; its rejection is not anyone's business then.
  work.catch(() => undefined);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function toWire(value: string | Uint8Array | null): string | Buffer | null {
  if (value === null || typeof value === 'string' || Buffer.isBuffer(value)) return value;
  // kafkajs writes a value that is not a Buffer with String(value): a plain Uint8Array would become "1,2,3".
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * An idempotent producer: acks from all in-sync replicas, and the broker drops duplicates that client
 * retries would otherwise write, so a retried send never doubles an event. Idempotence also keeps
 * per-partition order with up to 5 requests in flight. Every send has a deadline (`sendTimeoutMs`).
 *
 * It connects in the background and never throws for want of a broker: while it has no connection,
 * `ready()` is false and sends reject at once with EventProducerUnavailableError; a failed connect is
 * retried with a growing pause (up to `maxReconnectDelayMs`, 5 s) until it succeeds or the producer is
 * closed. After `reconnectAfterFailures` sends failed in a row, the client is replaced and connects afresh.
 */
export function openProducer(options: KafkaProducerOptions): EventProducer {
  const { log } = options;
  const sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
  const baseDelay = options.reconnectDelayMs ?? 500;
  const maxDelay = Math.max(baseDelay, options.maxReconnectDelayMs ?? 5_000);
  const replaceAfter = options.reconnectAfterFailures ?? 3;
  if (options.brokers.length === 0) throw new TypeError('at least one Kafka broker is required');
  const kafka = kafkaClient(options, {
    connectionTimeoutMs: Math.min(3_000, sendTimeoutMs),
    requestTimeoutMs: sendTimeoutMs,
    // Retries inside one send, all within its deadline.
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: Math.max(100, Math.floor(sendTimeoutMs / 4)) },
  });

  let producer: Producer | undefined;
  let connected = false;
  let closed = false;
  let failuresInRow = 0;
  let connecting: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let firstAttempt: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const firstConnect = new Promise<void>((resolve, reject) => {
    firstAttempt = { resolve, reject };
  });
  firstConnect.catch(() => undefined);

  function fresh(): Producer {
    return kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      // Topics are created on purpose (by the deployment or a test), never by a typo in a publish.
      allowAutoTopicCreation: false,
      // kafkajs 2 changed its default partitioner and warns on every start unless one is chosen; the
      // Java client's murmur2 one keeps keys on the same partitions as the JVM tools.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      t.unref();
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  function connectLoop(): Promise<void> {
    connecting ??= (async () => {
      let delay = baseDelay;
      while (!closed) {
        const candidate = fresh();
        try {
          await candidate.connect();
          if (closed) {
            await candidate.disconnect().catch(() => undefined);
            return;
          }
          producer = candidate;
          connected = true;
          failuresInRow = 0;
          log.info({ brokers: options.brokers }, 'Kafka producer connected');
          firstAttempt?.resolve();
          return;
        } catch (err) {
          await candidate.disconnect().catch(() => undefined);
          firstAttempt?.reject(err);
          firstAttempt = undefined;
          if (isAuthenticationError(err)) {
            // Retried all the same (the broker may lag behind a new API key), but said as what it is.
            log.error(
              { err, brokers: options.brokers, retryInMs: delay },
              'Kafka producer cannot authenticate: check the SASL credentials',
            );
          } else {
            log.warn({ err, brokers: options.brokers, retryInMs: delay }, 'Kafka producer cannot connect');
          }
          await sleep(delay);
          delay = Math.min(maxDelay, delay * 2);
        }
      }
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function replace(reason: unknown): Promise<void> {
    if (!connected || closed) return;
    connected = false;
    const old = producer;
    producer = undefined;
    log.warn({ err: reason }, 'Kafka producer: sends keep failing; reconnecting with a fresh client');
    await old?.disconnect().catch(() => undefined);
    void connectLoop();
  }

  async function send(
    topic: string,
    messages: {
      key: string | Buffer | null;
      value: string | Buffer | null;
      headers: Record<string, string>;
    }[],
  ): Promise<void> {
    if (closed) throw new EventProducerUnavailableError('it is closed');
    const p = producer;
    if (!connected || p === undefined) throw new EventProducerUnavailableError('not connected');
    if (messages.length === 0) return;
    try {
      await withDeadline(p.send({ topic, acks: -1, timeout: sendTimeoutMs, messages }), sendTimeoutMs, topic);
      failuresInRow = 0;
    } catch (err) {
      failuresInRow += 1;
      if (failuresInRow >= replaceAfter) void replace(err);
      throw err;
    }
  }

  void connectLoop();

  const api: EventProducer & { firstConnect: Promise<void> } = {
    firstConnect,
    ready: () => connected && !closed,
    async publish<S extends z.ZodType>(
      topic: Topic<S>,
      events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
    ) {
      await send(topic.name, encodeEvents(topic, events));
    },
    async sendRaw(topic, messages: readonly RawMessage[]) {
      await send(
        topic,
        messages.map((m) => ({
          key: m.key === null || typeof m.key === 'string' ? m.key : toWire(m.key),
          value: toWire(m.value),
          headers: { ...m.headers },
        })),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      connected = false;
      wake?.();
      firstAttempt?.reject(new EventProducerUnavailableError('closed before it connected'));
      await connecting?.catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      producer = undefined;
    },
  };
  return api;
}

/**
 * The same producer, resolved once its first connection is up; rejects (and closes it) when that first
 * attempt fails. For tools and tests that need the broker; a service uses openProducer.
 */
export async function createProducer(options: KafkaProducerOptions): Promise<EventProducer> {
  const producer = openProducer(options) as EventProducer & { firstConnect: Promise<void> };
  try {
    await producer.firstConnect;
  } catch (err) {
    await producer.close();
    throw err;
  }
  return producer;
}

// ---------------------------------------------------------------------------------------------------
// Consumer

export interface KafkaConsumerOptions extends KafkaClientOptions {
  readonly groupId: string;
  /**
   * Where a group with no committed offset starts. Default true: with false, a consumer that fails
   * its very first message and restarts would skip to the end and lose it.
   */
  readonly fromBeginning?: boolean;
  readonly sessionTimeoutMs?: number;
  /**
   * Where messages that can never be handled go: with a producer, to `<topic>.dlq` (dlq.ts) before their
   * offset is committed; without one, they are logged and skipped. Poison means a payload that fails to
   * decode (empty, not JSON, unknown type or version, failed schema) or an event its handler refused
   * with DeadLetterError.
   */
  readonly deadLetter?: Pick<EventProducer, 'sendRaw'>;
  /** Called for every message dead-lettered (or skipped), after it was; for metrics. */
  readonly onPoison?: (topic: string, reason: DecodeFailure | 'rejected') => void;
}

/**
 * Runs a handler per message (subscribe) or per batch (subscribeBatch) and commits offset+1 only after the
 * handler resolved (auto-commit off). A handler that throws leaves the offset uncommitted: kafkajs fetches
 * the same messages again, and a consumer that crashed or restarted resumes from the last commit, so they
 * are redelivered. A message that can never succeed (poison) is dead-lettered (or, without `deadLetter`,
 * logged) and committed rather than blocking its partition for ever.
 */
export function createConsumer(options: KafkaConsumerOptions): EventSubscriber {
  const { log, groupId, deadLetter } = options;
  const consumer: Consumer = kafkaClient(options).consumer({
    groupId,
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    allowAutoTopicCreation: false,
  });
  type Entry =
    | { kind: 'event'; topic: Topic; handler: EventHandler<unknown> }
    | { kind: 'batch'; topic: Topic; handler: BatchHandler<unknown>; options: ResolvedBatchOptions };
  const handlers = new Map<string, Entry>();
  let state: 'new' | 'running' | 'closed' = 'new';
  /** While start() waits for the group: makes it reject (close() before the join). */
  let abortStart: (() => void) | undefined;

  async function commit(topic: string, partition: number, offset: string): Promise<void> {
    await consumer.commitOffsets([{ topic, partition, offset: (BigInt(offset) + 1n).toString() }]);
  }

  async function deadLetterOrLog(
    received: ReceivedMessage,
    reason: Parameters<typeof routeToDeadLetter>[2],
    detail: string,
  ): Promise<void> {
    if (deadLetter !== undefined) {
      // Throws when the dead-letter topic cannot be written: then nothing is committed and the message
      // comes back, rather than being lost.
      await routeToDeadLetter(deadLetter, received, reason, detail, groupId, log);
    } else {
      const { topic, partition, offset } = received;
      log.error(
        { topic, partition, offset, groupId, reason, detail },
        'skipping an event that cannot be handled',
      );
    }
    options.onPoison?.(received.topic, reason);
  }

  function register(name: string, entry: Entry): void {
    if (state !== 'new') throw new Error('subscribe() must be called before start()');
    if (handlers.has(name)) throw new Error(`topic ${name} already has a handler`);
    handlers.set(name, entry);
  }

  function received(topic: string, partition: number, message: KafkaMessage): ReceivedMessage {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      if (value !== undefined) headers[name] = value.toString();
    }
    return {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers,
      timestamp: message.timestamp,
    };
  }

  function incoming(raw: ReceivedMessage, value: unknown): IncomingEvent<unknown> {
    return {
      topic: raw.topic,
      partition: raw.partition,
      offset: raw.offset,
      key: raw.key === null ? null : typeof raw.key === 'string' ? raw.key : utf8.decode(raw.key),
      value,
      headers: raw.headers,
      timestamp: raw.timestamp,
    };
  }

  async function handleOne(entry: Extract<Entry, { kind: 'event' }>, raw: ReceivedMessage): Promise<void> {
    const decoded = decodeEvent(entry.topic, raw.value);
    if (!decoded.ok) {
      await deadLetterOrLog(raw, decoded.reason, decoded.detail);
      return;
    }
    try {
      await entry.handler(incoming(raw, decoded.value));
    } catch (err) {
      if (err instanceof DeadLetterError) {
        await deadLetterOrLog(raw, 'rejected', err.message);
        return;
      }
      log.warn(
        { topic: raw.topic, partition: raw.partition, offset: raw.offset, groupId, err },
        'event handler failed; the event will be delivered again',
      );
      throw err;
    }
  }

  async function handleChunk(
    entry: Extract<Entry, { kind: 'batch' }>,
    chunk: readonly ReceivedMessage[],
  ): Promise<void> {
    const events: IncomingEvent<unknown>[] = [];
    let skipped = 0;
    for (const raw of chunk) {
      if (entry.options.skip?.(raw.headers) === true) {
        skipped += 1;
        continue;
      }
      const decoded = decodeEvent(entry.topic, raw.value);
      if (decoded.ok) events.push(incoming(raw, decoded.value));
      else await deadLetterOrLog(raw, decoded.reason, decoded.detail);
    }
    if (skipped > 0) entry.options.onSkipped?.(skipped);
    if (events.length === 0) return;
    try {
      await entry.handler(events);
    } catch (err) {
      const first = chunk[0]!;
      log.warn(
        {
          topic: first.topic,
          partition: first.partition,
          offset: first.offset,
          events: events.length,
          groupId,
          err,
        },
        'batch handler failed; the batch will be delivered again',
      );
      throw err;
    }
  }

  return {
    subscribe(topic, handler) {
      register(topic.name, { kind: 'event', topic, handler: handler as EventHandler<unknown> });
    },
    subscribeBatch(topic, handler, batchOptions = {}) {
      register(topic.name, {
        kind: 'batch',
        topic,
        handler: handler as BatchHandler<unknown>,
        options: resolveBatchOptions(batchOptions),
      });
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
      // kafkajs' run() resolves even when joining the group failed (it reports a crash, and starts again
      // on its own when the error is retriable), so a consumer refused its group (an ACL) would pass for a
      // running one: start() resolves once joined, and rejects on a crash kafkajs gives up on.
      let stopWatching: (() => void)[] = [];
      const joined = new Promise<void>((resolve, reject) => {
        abortStart = () => reject(new Error('the consumer was closed before it joined its group'));
        stopWatching = [
          consumer.on(consumer.events.GROUP_JOIN, () => resolve()),
          consumer.on(consumer.events.CRASH, (event) => {
            if (!event.payload.restart) reject(event.payload.error);
          }),
        ];
      });
      joined.catch(() => undefined);
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        // One fetched batch of one partition at a time; a message is resolved (and committed) only once
        // handled, so a batch that fails half way comes back from its first unhandled message.
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const entry = handlers.get(batch.topic);
          if (!entry) return;
          const messages = batch.messages.map((m) => received(batch.topic, batch.partition, m));
          const size = entry.kind === 'batch' ? entry.options.maxEvents : 1;
          for (let i = 0; i < messages.length; i += size) {
            if (!isRunning() || isStale()) return;
            const chunk = messages.slice(i, i + size);
            if (entry.kind === 'batch') await handleChunk(entry, chunk);
            else await handleOne(entry, chunk[0]!);
            const last = chunk[chunk.length - 1]!;
            await commit(batch.topic, batch.partition, last.offset);
            resolveOffset(last.offset);
            await heartbeat();
          }
        },
      });
      try {
        await joined;
      } finally {
        for (const stop of stopWatching) stop();
        abortStart = undefined;
      }
    },
    async close() {
      if (state === 'closed') return;
      state = 'closed';
      abortStart?.();
      await consumer.disconnect();
    },
  };
}
