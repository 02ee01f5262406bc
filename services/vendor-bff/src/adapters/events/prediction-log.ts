/**
 * The prediction log's plumbing: the `predictions` topic (with KAFKA_TOPIC_PREFIX), a bounded buffered
 * publisher in front of a Kafka producer (KAFKA_BROKERS) or the in-process bus (embedded defaults), and
 * its metrics. The estimate path only ever calls `offer()`, which never waits and never throws.
 */
import {
  PrecisePrediction,
  PREDICTIONS_TOPIC,
  prefixedTopic,
  RoughPrediction,
  type PredictionEvent,
} from '@eta/contracts';
import {
  createBufferedPublisher,
  createEventBus,
  type BufferedPublisher,
  type EventBus,
  type EventLog,
  type EventProducer,
  newEventId,
  openProducer,
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
    producer = owned = openProducer({
      brokers,
      clientId: opts.clientId,
      log: opts.log,
      sendTimeoutMs: config.EVENTS_SEND_TIMEOUT_MS,
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
    metrics,
    log: opts.log,
  });
  // Each event is validated against its own kind's schema rather than the topic's union: the same check
  // (the union picks that schema by `kind`), without the dispatch, on a path that runs for every answer.
  const precise = { name: topic.name, schema: PrecisePrediction };
  const rough = { name: topic.name, schema: RoughPrediction };
  const log = new PredictionLog({
    sink: {
      offer: (event: PredictionEvent) => {
        const key = topic.keyOf(event);
        if (event.kind === 'precise') buffer.offer(precise, { key, value: event });
        else buffer.offer(rough, { key, value: event });
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
