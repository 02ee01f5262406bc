import { z } from 'zod';
import { StoreId } from '../estimates.ts';
import { envelope, eventTopic } from './envelope.ts';
import { DongCode, OrderId } from './ids.ts';

/**
 * Topic `orders`: the lifecycle of an order, keyed by order id (so one order's events stay in order on one
 * partition). Produced by the ordering system outside the suite (and by the replay in tests and local
 * runs); read by the consumers of live dong statistics and live accuracy.
 *
 *   created -> rider-assigned -> picked-up -> delivered
 *           \-------------------------------> cancelled   (at any point before delivered)
 *
 * Every event carries what a consumer needs without having seen the others (store, the destination's
 * dong, when the order was placed), so a consumer that starts mid-stream or meets them out of order can
 * still count each one; `occurredAt` is when that step happened.
 */

/** Longest delivery `actualMinutes` accepts (a day): anything longer is a data error, not a delivery. */
export const ORDER_MAX_MINUTES = 24 * 60;

const orderFields = {
  orderId: OrderId,
  storeId: StoreId,
  /** The destination's administrative dong (Geo's region lookup of the delivery address). */
  dongCode: DongCode,
  /** When the order was placed (RFC 3339 with offset); the same on every event of one order. */
  orderedAt: z.iso.datetime({ offset: true }),
};

export const OrderCreated = z.object({ ...envelope('created', 1), ...orderFields });
export type OrderCreated = z.infer<typeof OrderCreated>;

export const OrderRiderAssigned = z.object({
  ...envelope('rider-assigned', 1),
  ...orderFields,
  /** The fleet's rider id, when the ordering system shares it. */
  riderId: z.string().min(1).max(64).optional(),
});
export type OrderRiderAssigned = z.infer<typeof OrderRiderAssigned>;

export const OrderPickedUp = z.object({ ...envelope('picked-up', 1), ...orderFields });
export type OrderPickedUp = z.infer<typeof OrderPickedUp>;

export const OrderDelivered = z.object({
  ...envelope('delivered', 1),
  ...orderFields,
  /**
   * Minutes from `orderedAt` to the hand-over, as the ordering system measured them: the outcome an
   * estimate for this order is scored against. (Not recomputed from the timestamps: a replay compresses
   * time, the real minutes stay.)
   */
  actualMinutes: z.number().positive().max(ORDER_MAX_MINUTES),
});
export type OrderDelivered = z.infer<typeof OrderDelivered>;

export const ORDER_CANCEL_REASONS = ['customer', 'store', 'no-rider', 'other'] as const;

export const OrderCancelled = z.object({
  ...envelope('cancelled', 1),
  ...orderFields,
  reason: z.enum(ORDER_CANCEL_REASONS).optional(),
});
export type OrderCancelled = z.infer<typeof OrderCancelled>;

export const ORDER_EVENT_TYPES = [
  'created',
  'rider-assigned',
  'picked-up',
  'delivered',
  'cancelled',
] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

export const OrderEvent = z.discriminatedUnion('type', [
  OrderCreated,
  OrderRiderAssigned,
  OrderPickedUp,
  OrderDelivered,
  OrderCancelled,
]);
export type OrderEvent = z.infer<typeof OrderEvent>;

export const ORDERS_TOPIC = eventTopic('orders', OrderEvent, (e) => e.orderId);

/**
 * `POST /v1/events/orders`: order events over HTTP, for an ordering system that does not write to Kafka
 * itself and for the replay (loadtest/replay.ts). Served by vendor-bff's `events` role (and `all`) with
 * the service credential of the estimate API; each event is validated with the topic's schema, then
 * published to `orders` (Kafka, or the in-process bus with the embedded defaults) and 202 is answered
 * only once the broker (or bus) has all of them: nothing answered 202 is lost. One bad event refuses the
 * whole request with 400 VALIDATION_ERROR (`body.events.<i>...`) and nothing of it is published; 503
 * UPSTREAM_ERROR (with Retry-After) when the broker could not take them in time: send them again (the
 * consumers are idempotent by `eventId`, so a request that was partly published before it failed counts
 * once when repeated).
 */
export const ORDER_EVENTS_ROUTE = '/v1/events/orders';
export const ORDER_EVENTS_MAX_BATCH = 500;

export const OrderEventsRequest = z.strictObject({
  events: z.array(OrderEvent).min(1).max(ORDER_EVENTS_MAX_BATCH),
});
export type OrderEventsRequest = z.infer<typeof OrderEventsRequest>;

export const OrderEventsResponse = z.object({ accepted: z.number().int().nonnegative() });
export type OrderEventsResponse = z.infer<typeof OrderEventsResponse>;
