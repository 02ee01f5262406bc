/**
 * The publishing side of `POST /v1/events/orders`: order events go to the `orders` topic (Kafka with
 * KAFKA_BROKERS, else the process's in-process bus) and the call resolves only once the broker (or bus)
 * has every one of them, so an answered 202 never loses an event. Keyed by order id (the topic's key).
 */
import { ORDERS_TOPIC, prefixedTopic, type OrderEvent } from '@eta/contracts';
import { type EventBus, type EventLog, type EventProducer, openProducer } from '@eta/events';
import type { Config } from '../../config.ts';

export interface OrderIngest {
  readonly topic: string;
  publish(events: readonly OrderEvent[]): Promise<void>;
  close(): Promise<void>;
}

export function openOrderIngest(
  config: Config,
  opts: { readonly log: EventLog; readonly clientId: string; readonly bus?: EventBus },
): OrderIngest {
  const topic = prefixedTopic(ORDERS_TOPIC, config.KAFKA_TOPIC_PREFIX);
  let producer: EventProducer;
  let owned: EventProducer | undefined;
  if (config.KAFKA_BROKERS !== undefined) {
    producer = owned = openProducer({
      brokers: config.KAFKA_BROKERS,
      clientId: `${opts.clientId}-ingest`,
      log: opts.log,
      sendTimeoutMs: config.EVENTS_SEND_TIMEOUT_MS,
      ...config.kafkaSecurity,
    });
  } else if (opts.bus !== undefined) {
    producer = opts.bus;
  } else {
    throw new Error('the order-events ingest without KAFKA_BROKERS needs the in-process bus');
  }
  return {
    topic: topic.name,
    publish: (events) =>
      producer.publish(
        topic,
        events.map((value) => ({ key: topic.keyOf(value), value })),
      ),
    close: async () => {
      await owned?.close();
    },
  };
}
