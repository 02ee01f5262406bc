import { ORDERS_TOPIC } from './orders.ts';
import { PREDICTIONS_TOPIC } from './predictions.ts';
import { SETTINGS_CHANGED_TOPIC } from './settings.ts';

/**
 * Every topic of the suite, by name. The names are the ones terraform/modules/stack/main.tf creates on
 * Confluent Cloud (module confluent): `orders`, `predictions`, `settings-changed`, each with `<name>.dlq`.
 */
export const EVENT_TOPICS = {
  orders: ORDERS_TOPIC,
  predictions: PREDICTIONS_TOPIC,
  'settings-changed': SETTINGS_CHANGED_TOPIC,
} as const;

export const TOPIC_NAMES = Object.keys(EVENT_TOPICS) as (keyof typeof EVENT_TOPICS)[];

/** Dead-letter topics are `<topic>.dlq` beside their topic (terraform/modules/confluent `dlq = true`). */
export const DLQ_SUFFIX = '.dlq';
export function dlqTopicName(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/**
 * Headers of a dead-lettered message (its key and value are the original bytes, its other headers the
 * original ones). `x-dlq-reason` is one of DLQ_REASONS; the rest say where it came from, so it can be
 * found, fixed and replayed.
 */
export const DLQ_HEADERS = {
  /** Why: one of DLQ_REASONS. */
  reason: 'x-dlq-reason',
  /** The decoder's or handler's message (at most DLQ_DETAIL_MAX_LENGTH characters). */
  detail: 'x-dlq-detail',
  topic: 'x-dlq-topic',
  partition: 'x-dlq-partition',
  offset: 'x-dlq-offset',
  /** The consumer group that gave up on it. */
  group: 'x-dlq-group',
  /** The original message's timestamp (ms since the epoch, as Kafka reports it). */
  timestamp: 'x-dlq-timestamp',
  /** When it was dead-lettered (RFC 3339). */
  at: 'x-dlq-at',
} as const;

export const DLQ_DETAIL_MAX_LENGTH = 1_000;

/**
 * Why a message went to the dead-letter topic:
 * - `empty`: no value (a tombstone, or a producer bug);
 * - `not-json`: the value is not JSON (or not UTF-8 text);
 * - `unknown-type`: no `type` this consumer knows on this topic;
 * - `unknown-version`: a known `type` at a `schemaVersion` this consumer does not know (a newer producer):
 *   refused rather than read as if it were a version it knows;
 * - `schema`: a known type and version whose fields fail the schema;
 * - `rejected`: decoded fine, but its handler refused it for good (`@eta/events`' DeadLetterError).
 */
export const DLQ_REASONS = [
  'empty',
  'not-json',
  'unknown-type',
  'unknown-version',
  'schema',
  'rejected',
] as const;
export type DlqReason = (typeof DLQ_REASONS)[number];
