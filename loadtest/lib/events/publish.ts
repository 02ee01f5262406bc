/**
 * Publishing a stream of events to a topic as fast as the broker takes them, before a consumer starts:
 * batches of `batchSize`, one send in flight, through @eta/events' producer (idempotent, acks from all
 * in-sync replicas, every event validated against the topic's schema before it leaves).
 */
import type { EventsProducer } from '../replay/events-package.ts';

export interface PublishOptions<T> {
  readonly producer: EventsProducer;
  /** A topic as @eta/contracts describes it (prefixedTopic(...)): its name, schema and key. */
  readonly topic: { readonly name: string; readonly keyOf: (event: T) => string };
  readonly events: Iterable<T>;
  readonly batchSize?: number;
  readonly inFlight?: number;
  /** Message headers per event (the prediction log's `predictionHeaders`); none by default. */
  readonly headers?: (event: T) => Readonly<Record<string, string>>;
}

/** Resolves with the count published once the broker acknowledged every batch; rejects on the first failure. */
export async function publishAll<T>(opts: PublishOptions<T>): Promise<number> {
  const size = opts.batchSize ?? 1_000;
  // One send at a time: kafkajs' idempotent producer with several sends in flight to one partition gets
  // "out of order sequence number" from the broker (seen on the first full run of `consumers`).
  const limit = opts.inFlight ?? 1;
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let count = 0;
  let batch: { key: string; value: T; headers?: Readonly<Record<string, string>> }[] = [];
  const flush = async () => {
    const events = batch;
    batch = [];
    const p = opts.producer.publish(opts.topic, events).then(
      () => {
        count += events.length;
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    const tracked = p.finally(() => pending.delete(tracked));
    pending.add(tracked);
    if (pending.size >= limit) await Promise.race(pending);
  };
  for (const value of opts.events) {
    if (failure !== undefined) break;
    batch.push({
      key: opts.topic.keyOf(value),
      value,
      ...(opts.headers !== undefined ? { headers: opts.headers(value) } : {}),
    });
    if (batch.length >= size) await flush();
  }
  if (batch.length > 0 && failure === undefined) await flush();
  await Promise.all(pending);
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return count;
}
