import type { z } from 'zod';

/** A topic and the zod schema every message on it must satisfy; defined once, used by both ends. */
export interface Topic<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
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

export interface EventPublisher {
  /** Validates every event, then sends them; resolves once the broker (or bus) has them. */
  publish<S extends z.ZodType>(
    topic: Topic<S>,
    events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * At-least-once delivery: a message counts as consumed only after its handler resolved. A handler that
 * throws (or a process that dies mid-handler) gets the same message again, so handlers must be
 * idempotent. Register every subscription before start().
 */
export interface EventSubscriber {
  subscribe<S extends z.ZodType>(topic: Topic<S>, handler: EventHandler<z.output<S>>): void;
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

/** Validates and serialises a batch up front so an invalid event stops the whole batch. */
export function encodeEvents<S extends z.ZodType>(
  topic: Topic<S>,
  events: OutgoingEvent<z.input<S>> | readonly OutgoingEvent<z.input<S>>[],
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
    const parsed = topic.schema.safeParse(event.value);
    if (!parsed.success) throw new EventValidationError(topic.name, index, parsed.error.issues);
    return { key: event.key, value: JSON.stringify(parsed.data), headers: { ...event.headers } };
  });
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Parses and validates a received payload; a bad payload is reported, never thrown. */
export function decodeEvent<S extends z.ZodType>(topic: Topic<S>, raw: string | null): Decoded<z.output<S>> {
  if (raw === null) return { ok: false, reason: 'empty payload' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const parsed = topic.schema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      reason: parsed.error.issues
        .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
        .join('; '),
    };
  }
  return { ok: true, value: parsed.data };
}
