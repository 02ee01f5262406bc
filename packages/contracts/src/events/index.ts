export {
  envelope,
  EventEnvelope,
  EventId,
  eventTopic,
  OccurredAt,
  prefixedTopic,
  type EventTopic,
} from './envelope.ts';
export { DongCode, H3Cell, ORDER_ID_MAX_LENGTH, OrderId, RequestId } from './ids.ts';
export * from './orders.ts';
export * from './predictions.ts';
export * from './settings.ts';
export * from './topics.ts';
export * from './metrics.ts';
