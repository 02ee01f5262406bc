export {
  decodeEvent,
  defineTopic,
  encodeEvents,
  EventValidationError,
  silentLog,
  type Decoded,
  type EventHandler,
  type EventLog,
  type EventPublisher,
  type EventSubscriber,
  type IncomingEvent,
  type OutgoingEvent,
  type Topic,
} from './types.ts';
export {
  createConsumer,
  createProducer,
  type KafkaClientOptions,
  type KafkaConsumer,
  type KafkaConsumerOptions,
  type KafkaProducer,
} from './kafka.ts';
export { createEventBus, type EventBus, type EventBusOptions } from './bus.ts';
