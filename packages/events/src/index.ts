export {
  decodeEvent,
  defineTopic,
  encodeEvent,
  encodeEvents,
  type EncodeOptions,
  EventValidationError,
  silentLog,
  type BatchHandler,
  type BatchOptions,
  DEFAULT_BATCH_EVENTS,
  type DecodeFailure,
  type Decoded,
  type EventHandler,
  type EventLog,
  type EventProducer,
  type EventPublisher,
  type EventSubscriber,
  type IncomingEvent,
  type OutgoingEvent,
  type RawMessage,
  type Topic,
} from './types.ts';
export {
  createConsumer,
  createProducer,
  EventProducerUnavailableError,
  EventSendTimeoutError,
  KAFKA_SASL_MECHANISMS,
  openProducer,
  type KafkaClientOptions,
  type KafkaConsumerOptions,
  type KafkaProducerOptions,
  type KafkaSasl,
  type KafkaSaslMechanism,
  type KafkaTls,
} from './kafka.ts';
export { openThreadedProducer, type ThreadedProducer, type ThreadedProducerOptions } from './threaded.ts';
export { createEventBus, type EventBus, type EventBusOptions } from './bus.ts';
export {
  createBufferedPublisher,
  type BufferedPublisher,
  type BufferedPublisherOptions,
  type PublisherMetrics,
} from './buffer.ts';
export { DeadLetterError, deadLetterOf, routeToDeadLetter, type ReceivedMessage } from './dlq.ts';
export { newEventId } from './ids.ts';
