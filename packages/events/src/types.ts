import type { z } from 'zod';

/**
 * A topic and the zod schema every message on it must satisfy; defined once, used by both ends. The
 * suite's topics are `@eta/contracts`' EventTopic objects (ORDERS_TOPIC, PREDICTIONS_TOPIC, ...), which
 * also list the schema versions known per event type: with `versions`, the decoder tells an unknown type or
 * version apart from a malformed event. `defineTopic` makes one without (tests, ad-hoc topics).
 */
export interface Topic<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  /** Event `type` -> the `schemaVersion`s this code knows. */
  readonly versions?: Readonly<Record<string, readonly number[]>>;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export function defineTopic<S extends z.ZodType>(name: string, schema: S): Topic<S> {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new TypeError(
      `invalid topic name ${JSON.stringify(name)}: Kafka allows [a-zA-Z0-9._-], 1-249 chars`,
    );
  }
  return { name, schema };
}

export interface OutgoingEvent<T> {
  /** Partition key: events with one key keep their order (e.g. the order id). */
  readonly key: string;
  readonly value: T;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface IncomingEvent<T> {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit, so a decimal string. */
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch, as Kafka reports it. */
  readonly timestamp: string;
}

export type EventHandler<T> = (event: IncomingEvent<T>) => Promise<void> | void;

/**
 * Gets the decodable events of one batch of one partition, in offset order (poison messages among them
 * were dead-lettered first). The batch counts as consumed once it resolved; when it throws, the whole
 * batch comes again, so the handler must be idempotent (apply the batch in one database transaction).
 */
export type BatchHandler<T> = (events: readonly IncomingEvent<T>[]) => Promise<void> | void;

export interface BatchOptions {
  /** Most events per handler call (a fetched batch is split). Default 500. */
  readonly maxEvents?: number;
  /**
   * Messages the handler has no use for, told from their headers alone: passed over without being
   * decoded, and consumed with the batch around them. Such a message is never checked against the schema,
   * so it is never dead-lettered either: the consumer did not read it. Use only for a header the
   * producer sets from the event itself (the prediction log's `eta-join: none`), and keep decoding a
   * message without it.
   */
  readonly skip?: (headers: Readonly<Record<string, string>>) => boolean;
  /** Told how many messages of each chunk `skip` passed over (for metrics); not called for none. */
  readonly onSkipped?: (count: number) => void;
}

export const DEFAULT_BATCH_EVENTS = 500;

/** A subscribeBatch() call's options with the default filled in. */
export interface ResolvedBatchOptions extends BatchOptions {
  readonly maxEvents: number;
}

/** Checks a subscribeBatch() call's options and fills in the default, the same for every transport. */
export function resolveBatchOptions(options: BatchOptions = {}): ResolvedBatchOptions {
  const maxEvents = options.maxEvents ?? DEFAULT_BATCH_EVENTS;
  if (!Number.isInteger(maxEvents) || maxEvents < 1) {
    throw new TypeError('maxEvents must be a positive integer');
  }
  return { ...options, maxEvents };
}

export interface EventPublisher {
  /** Validates every event, then sends them; resolves once the broker (or bus) has them. */
  publish<S extends z.ZodType>(
    topic: Topic<S>,
    events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
  ): Promise<void>;
  close(): Promise<void>;
}

/** A message as it goes on the wire: already encoded, never validated again. */
export interface RawMessage {
  readonly key: string | Uint8Array | null;
  /** UTF-8 text, or bytes as they came (a dead-lettered message keeps its original bytes). */
  readonly value: string | Uint8Array | null;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A publisher that can also send messages encoded elsewhere: the buffered publisher (which validates and
 * encodes each event once, as it is offered) and dead-letter routing (which forwards the original bytes).
 * Kafka (kafka.ts) and the in-process bus (bus.ts) implement it; no broker client's types appear here, so
 * moving to another Kafka client changes kafka.ts only.
 */
export interface EventProducer extends EventPublisher {
  /** Sends the messages in order; resolves once the broker (or bus) has all of them, rejects otherwise. */
  sendRaw(topic: string, messages: readonly RawMessage[]): Promise<void>;
  /** False while no connection to the broker is up (never connected yet, or reconnecting). */
  ready(): boolean;
}

/**
 * At-least-once delivery: a message counts as consumed only after its handler resolved. A handler that
 * throws (or a process that dies mid-handler) gets the same message again, so handlers must be
 * idempotent. Register every subscription before start().
 */
export interface EventSubscriber {
  subscribe<S extends z.ZodType>(topic: Topic<S>, handler: EventHandler<z.output<S>>): void;
  /**
   * Like subscribe(), a batch at a time: one handler call (and one offset commit) per batch instead of
   * per event, for handlers that write to a database. A batch handler cannot refuse single events with
   * DeadLetterError: whatever it throws retries the batch.
   */
  subscribeBatch<S extends z.ZodType>(
    topic: Topic<S>,
    handler: BatchHandler<z.output<S>>,
    options?: BatchOptions,
  ): void;
  /** Resolves once subscribed (Kafka: once the group was joined); rejects when that failed. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** The slice of a pino logger this package uses; a pino Logger satisfies it. */
export interface EventLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLog: EventLog = { debug() {}, info() {}, warn() {}, error() {} };

/** Publishing an event that fails its topic's schema; nothing of the batch was sent. */
export class EventValidationError extends Error {
  readonly code = 'EVENT_INVALID';
  readonly topic: string;
  readonly issues: readonly z.core.$ZodIssue[];

  constructor(topic: string, index: number, issues: readonly z.core.$ZodIssue[]) {
    super(
      `event ${index} for topic ${topic} is invalid: ` +
        issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; '),
    );
    this.name = 'EventValidationError';
    this.topic = topic;
    this.issues = issues;
  }
}

/** Validates and serialises one event; throws EventValidationError (index 0) when it fails its schema. */
export function encodeEvent<S extends z.ZodType>(
  topic: Topic<S>,
  event: OutgoingEvent<z.input<S>>,
  options?: EncodeOptions,
): { key: string; value: string; headers: Record<string, string> } {
  return encodeEvents(topic, [event], options)[0]!;
}

export interface EncodeOptions {
  /**
   * Check each value against the topic's schema (default true). False skips only that check, for typed
   * producers on a hot path (the buffered publisher's `validate`); the key is checked either way.
   */
  readonly validate?: boolean;
}

/** Validates and serialises a batch up front so an invalid event stops the whole batch. */
export function encodeEvents<S extends z.ZodType>(
  topic: Topic<S>,
  events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
  { validate = true }: EncodeOptions = {},
): { key: string; value: string; headers: Record<string, string> }[] {
  const list: readonly OutgoingEvent<z.input<S>>[] = Array.isArray(events)
    ? events
    : [events as OutgoingEvent<z.input<S>>];
  return list.map((event, index) => {
    if (typeof event.key !== 'string' || event.key === '') {
      throw new EventValidationError(topic.name, index, [
        { code: 'custom', path: ['key'], message: 'a non-empty string key is required', input: event.key },
      ]);
    }
    if (!validate)
      return { key: event.key, value: JSON.stringify(event.value), headers: { ...event.headers } };
    const parsed = topic.schema.safeParse(event.value);
    if (!parsed.success) throw new EventValidationError(topic.name, index, parsed.error.issues);
    return { key: event.key, value: JSON.stringify(parsed.data), headers: { ...event.headers } };
  });
}

/**
 * Why a received payload cannot be handled (the dead-letter header `x-dlq-reason`, `@eta/contracts`
 * DLQ_REASONS): `empty`, `not-json`, `unknown-type`, `unknown-version` (a type this code knows at a
 * schemaVersion it does not: refused, never read as a version it knows), `schema`. The last two kinds
 * need a topic with `versions`; without, every failed parse is `schema`.
 */
export type DecodeFailure = 'empty' | 'not-json' | 'unknown-type' | 'unknown-version' | 'schema';

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: DecodeFailure; readonly detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(reason: DecodeFailure, detail: string): { ok: false; reason: DecodeFailure; detail: string } {
  return { ok: false, reason, detail };
}

/**
 * Parses and validates a received payload; a bad payload is reported with a typed reason, never thrown.
 * With the topic's `versions`, the envelope is read first: an unknown `type` or `schemaVersion` is refused
 * as such before the rest is looked at.
 */
export function decodeEvent<S extends z.ZodType>(
  topic: Topic<S>,
  raw: string | Uint8Array | null,
): Decoded<z.output<S>> {
  if (raw === null || raw.length === 0) return fail('empty', 'empty payload');
  let text: string;
  if (typeof raw === 'string') text = raw;
  else {
    try {
      text = utf8.decode(raw);
    } catch {
      return fail('not-json', 'payload is not UTF-8 text');
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail('not-json', 'payload is not JSON');
  }
  const versions = topic.versions;
  if (versions !== undefined) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return fail('schema', '(root): expected an event object');
    }
    const { type, schemaVersion } = json as { type?: unknown; schemaVersion?: unknown };
    if (typeof type !== 'string') return fail('schema', 'type: expected a string');
    const known = Object.hasOwn(versions, type) ? versions[type] : undefined;
    if (known === undefined) {
      return fail('unknown-type', `type ${JSON.stringify(type.slice(0, 64))} is not one of this topic's`);
    }
    if (typeof schemaVersion !== 'number' || !Number.isInteger(schemaVersion)) {
      return fail('schema', 'schemaVersion: expected an integer');
    }
    if (!known.includes(schemaVersion)) {
      return fail(
        'unknown-version',
        `${type} schemaVersion ${schemaVersion} is not one this consumer knows (${known.join(', ')})`,
      );
    }
  }
  const parsed = topic.schema.safeParse(json);
  if (!parsed.success) {
    return fail(
      'schema',
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; '),
    );
  }
  return { ok: true, value: parsed.data };
}
