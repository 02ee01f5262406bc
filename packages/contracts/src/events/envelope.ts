import { z } from 'zod';

/**
 * What every event on every topic carries, and how a topic is described. Producers build events with these
 * schemas; consumers decode with `@eta/events`' decodeEvent, which reads `type` and `schemaVersion` first and
 * refuses a version it does not know (into the topic's dead-letter topic) instead of guessing at its fields.
 */

/**
 * An event's unique id: a UUID (RFC 9562; the suite mints version 7, time-ordered, with `@eta/events`'
 * newEventId) or a ULID, for producers outside the suite that use those. Consumers dedupe on it, so a
 * redelivered event is never counted twice.
 */
export const EventId = z.union([z.uuid(), z.ulid()], { error: 'expected a UUID or a ULID' });

/** When the thing happened, RFC 3339 with an offset (`Z` included), as the producer's clock saw it. */
export const OccurredAt = z.iso.datetime({
  offset: true,
  error: 'expected an RFC 3339 date-time with offset',
});

/**
 * The envelope fields of one event type at one schema version. Every event schema spreads this, so
 * `type` and `schemaVersion` are literals: the decoder can tell "a version I do not know" from "a known
 * version that is malformed" before it parses the rest.
 */
export function envelope<T extends string, V extends number>(type: T, schemaVersion: V) {
  return {
    eventId: EventId,
    schemaVersion: z.literal(schemaVersion),
    type: z.literal(type),
    occurredAt: OccurredAt,
  };
}

/** The envelope alone, as a consumer reads it before knowing the type (also what a DLQ viewer shows). */
export const EventEnvelope = z.object({
  eventId: EventId,
  schemaVersion: z.number().int().positive(),
  type: z.string().min(1),
  occurredAt: OccurredAt,
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;

/** One event type at one version, or a union of such (nested unions included). */
type EventSchemaNode = z.ZodType;

/**
 * A topic as both ends know it: its name, the schema of every message on it (a union of event types,
 * each at its versions), the versions known per type (derived from the schema), and the partition key of
 * an event (events with one key keep their order). `@eta/events` publishes and consumes these as they are.
 */
export interface EventTopic<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly schema: S;
  /** Event type -> schema versions this code knows, ascending. */
  readonly versions: Readonly<Record<string, readonly number[]>>;
  /** The Kafka message key of an event. */
  readonly keyOf: (event: z.output<S>) => string;
}

/**
 * Collects (type, schemaVersion) pairs from a union of event objects, recursing into nested unions, so a
 * version 2 added beside version 1 (`z.discriminatedUnion('schemaVersion', [V1, V2])` as one option of the
 * topic's union) is known without a second list to keep in step.
 */
function collectVersions(schema: EventSchemaNode, into: Map<string, Set<number>>): void {
  const def = (schema as { def?: { type?: string } }).def;
  if (def?.type === 'union') {
    for (const option of (schema as unknown as { options: readonly EventSchemaNode[] }).options) {
      collectVersions(option, into);
    }
    return;
  }
  if (def?.type === 'object') {
    const shape = (schema as unknown as { shape: Record<string, z.ZodType> }).shape;
    const type = literalValues(shape['type']);
    const versions = literalValues(shape['schemaVersion']);
    if (type.length === 1 && typeof type[0] === 'string' && versions.every((v) => typeof v === 'number')) {
      const known = into.get(type[0]) ?? new Set<number>();
      for (const v of versions as number[]) known.add(v);
      into.set(type[0], known);
      return;
    }
  }
  throw new TypeError(
    'an event topic schema must be a union of objects with literal `type` and `schemaVersion` fields',
  );
}

function literalValues(schema: z.ZodType | undefined): unknown[] {
  const def = (schema as { def?: { type?: string; values?: unknown[] } } | undefined)?.def;
  return def?.type === 'literal' && Array.isArray(def.values) ? def.values : [];
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,240}$/;

/** Describes a topic; the versions are read off the schema (every option needs literal type and version). */
export function eventTopic<S extends z.ZodType>(
  name: string,
  schema: S,
  keyOf: (event: z.output<S>) => string,
): EventTopic<S> {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new TypeError(`invalid topic name ${JSON.stringify(name)}`);
  }
  const found = new Map<string, Set<number>>();
  collectVersions(schema, found);
  const versions: Record<string, readonly number[]> = {};
  for (const [type, set] of found) versions[type] = [...set].sort((a, b) => a - b);
  return { name, schema, versions: Object.freeze(versions), keyOf };
}

/**
 * The same topic under another name: an environment's or a test's prefix (`KAFKA_TOPIC_PREFIX`), so
 * several of them can share one cluster without their events meeting. Schema, versions and key stay.
 */
export function prefixedTopic<S extends z.ZodType>(topic: EventTopic<S>, prefix: string): EventTopic<S> {
  if (prefix === '') return topic;
  const name = `${prefix}${topic.name}`;
  if (!TOPIC_NAME.test(name)) throw new TypeError(`invalid topic prefix ${JSON.stringify(prefix)}`);
  return { ...topic, name };
}
