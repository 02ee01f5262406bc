/**
 * The prediction log's plumbing: the `predictions` topic (with KAFKA_TOPIC_PREFIX), a bounded buffered
 * publisher in front of a Kafka producer (KAFKA_BROKERS) or the in-process bus (embedded defaults), and
 * its metrics. The estimate path only ever calls `offer()`, which never waits and never throws.
 */
import { PREDICTIONS_TOPIC, predictionHeaders, prefixedTopic, type PredictionEvent } from '@eta/contracts';
import {
  createBufferedPublisher,
  createEventBus,
  type BufferedPublisher,
  type EventBus,
  type EventLog,
  type EventProducer,
  newEventId,
  openThreadedProducer,
} from '@eta/events';
import type { Registry } from 'prom-client';
import type { Config } from '../../config.ts';
import { PredictionLog } from '../../domain/predictions.ts';
import { createPublisherMetrics } from './metrics.ts';

export interface PredictionLogAdapter {
  readonly log: PredictionLog;
  readonly publisher: BufferedPublisher;
  /** Where the events go: `kafka` (KAFKA_BROKERS) or `bus` (the in-process stand-in). */
  readonly transport: 'kafka' | 'bus';
  /** The topic name events are published to (prefix included). */
  readonly topic: string;
  /** Sends what is buffered (bounded), then closes the producer it opened. */
  close(): Promise<void>;
}

export interface PredictionLogOptions {
  readonly registry: Registry;
  readonly log: EventLog;
  /** The Kafka client id (the service's name in logs, e.g. vendor-bff-precise). */
  readonly clientId: string;
  /**
   * The in-process bus to publish to when KAFKA_BROKERS is unset (tests, and consumers run in the same
   * process); a private one otherwise. Its owner closes it.
   */
  readonly bus?: EventBus;
}

/** Longest close() waits for the buffer to empty, inside the service's SHUTDOWN_TIMEOUT_MS. */
const CLOSE_FLUSH_MS = 2_000;

export function openPredictionLog(config: Config, opts: PredictionLogOptions): PredictionLogAdapter {
  const topic = prefixedTopic(PREDICTIONS_TOPIC, config.KAFKA_TOPIC_PREFIX);
  const brokers = config.KAFKA_BROKERS;
  let producer: EventProducer;
  let owned: EventProducer | undefined;
  if (brokers !== undefined) {
    // On its own thread: kafkajs encodes and checksums every record on the thread that sends (12-35 µs a
    // message), which on this one would be the estimate path's (packages/events README, "The producer on
    // its own thread").
    producer = owned = openThreadedProducer({
      brokers,
      clientId: opts.clientId,
      log: opts.log,
      sendTimeoutMs: config.EVENTS_SEND_TIMEOUT_MS,
      ...config.kafkaSecurity,
    });
  } else if (opts.bus !== undefined) {
    producer = opts.bus;
  } else {
    producer = owned = createEventBus({ log: opts.log });
  }
  // The gauge reads the buffer's size at scrape time, long after both exist.
  const metrics = createPublisherMetrics(opts.registry, [topic.name], () => buffer.size);
  const buffer = createBufferedPublisher({
    producer,
    maxEvents: config.EVENTS_BUFFER_MAX_EVENTS,
    maxBytes: config.EVENTS_BUFFER_MAX_BYTES,
    lingerMs: config.EVENTS_LINGER_MS,
    maxBatch: config.EVENTS_MAX_BATCH,
    // Built by typed code (domain/predictions.ts, whose every kind of answer its tests check against the
    // schema) and validated again by every consumer, which dead-letters a bad one: checking each here would
    // cost the estimate path more than building the event does.
    validate: false,
    metrics,
    log: opts.log,
  });
  const log = new PredictionLog({
    sink: {
      offer: (event: PredictionEvent) => {
        buffer.offer(topic, { key: topic.keyOf(event), value: event, headers: predictionHeaders(event) });
      },
    },
    newId: newEventId,
    log: opts.log,
  });
  const transport = brokers !== undefined ? 'kafka' : 'bus';
  opts.log.info(
    { transport, topic: topic.name, ...(brokers !== undefined ? { brokers } : {}) },
    transport === 'kafka'
      ? 'prediction log: publishing to Kafka'
      : 'prediction log: publishing to the in-process bus (KAFKA_BROKERS unset)',
  );
  return {
    log,
    publisher: buffer,
    transport,
    topic: topic.name,
    async close() {
      await buffer.close({ timeoutMs: CLOSE_FLUSH_MS });
      await owned?.close();
    },
  };
}
