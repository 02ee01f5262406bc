import { DLQ_DETAIL_MAX_LENGTH, DLQ_HEADERS, dlqTopicName, type DlqReason } from '@eta/contracts';
import type { EventLog, EventProducer, RawMessage } from './types.ts';

/**
 * Dead-letter routing: a message a consumer can never handle (bad JSON, a failed schema, an unknown type or
 * version, or one its handler refused with DeadLetterError) is copied to `<topic>.dlq` (the topics
 * terraform/modules/confluent creates beside each one) with its original key, value and headers, plus
 * `x-dlq-*` headers saying why and where it came from; then the consumer commits past it and goes on. A
 * message is never dropped: if the dead-letter topic cannot be written, the original is not committed and
 * comes back.
 */

/** A received message, as the consumer saw it, before decoding. */
export interface ReceivedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | Uint8Array | null;
  readonly value: string | Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch, as Kafka reports it. */
  readonly timestamp: string;
}

/**
 * Thrown by a handler for an event that decoded but can never be handled (it contradicts what the handler
 * knows for good, not a passing outage): the consumer dead-letters it with reason `rejected` instead of
 * having it redelivered for ever. Any other error means "try again".
 */
export class DeadLetterError extends Error {
  readonly reason = 'rejected' as const;
  constructor(message: string) {
    super(message);
    this.name = 'DeadLetterError';
  }
}

/** The dead-letter copy of `message`: same key and value, its headers plus the `x-dlq-*` ones. */
export function deadLetterOf(
  message: ReceivedMessage,
  reason: DlqReason,
  detail: string,
  groupId: string,
  at: Date = new Date(),
): { topic: string; message: RawMessage } {
  return {
    topic: dlqTopicName(message.topic),
    message: {
      key: message.key,
      value: message.value,
      headers: {
        ...message.headers,
        [DLQ_HEADERS.reason]: reason,
        [DLQ_HEADERS.detail]: detail.slice(0, DLQ_DETAIL_MAX_LENGTH),
        [DLQ_HEADERS.topic]: message.topic,
        [DLQ_HEADERS.partition]: String(message.partition),
        [DLQ_HEADERS.offset]: message.offset,
        [DLQ_HEADERS.group]: groupId,
        [DLQ_HEADERS.timestamp]: message.timestamp,
        [DLQ_HEADERS.at]: at.toISOString(),
      },
    },
  };
}

/**
 * Sends the dead-letter copy and logs it. Rejects when the dead-letter topic could not be written: the
 * caller must then not commit the original (it is delivered again, and routed again).
 */
export async function routeToDeadLetter(
  producer: Pick<EventProducer, 'sendRaw'>,
  message: ReceivedMessage,
  reason: DlqReason,
  detail: string,
  groupId: string,
  log: EventLog,
): Promise<void> {
  const dead = deadLetterOf(message, reason, detail, groupId);
  await producer.sendRaw(dead.topic, [dead.message]);
  log.warn(
    {
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      groupId,
      reason,
      detail: detail.slice(0, 200),
      dlq: dead.topic,
    },
    'event dead-lettered',
  );
}
