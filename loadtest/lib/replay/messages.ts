/**
 * What the replay sends for a scheduled order: the precise estimate request at checkout and the `orders`
 * lifecycle events, each built with the contract's types (the sinks validate the events against the topic
 * schema again before anything leaves the process). Wall times are the replay's start plus the step's
 * offset; `actualMinutes` stays the dataset's real minutes, as the contract asks of a replay (unless the
 * run asked for a simulated shift, shift.ts, which the report labels).
 */
import type { OrderEvent, PreciseEstimateRequest } from '@eta/contracts';
import { DAY_START_S, type OrderStep, type ScheduledOrder } from './plan.ts';

export interface EventContext {
  /** The replay's start, ms since the epoch. */
  readonly startMs: number;
  readonly eventId: string;
  /** The destination's dong as Geo answered it (the plan's own when Geo is not asked). */
  readonly dongCode: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Which time the estimate's `orderedAt` names. `wall`: the compressed wall-clock time the order is placed
 * at (the model sees the Seoul hour and weekday of the run). `dataset`: the order's own time of day in
 * Seoul on the day before the replay started (one weekday for the whole run, every time in the past), so
 * the model sees the hour the dataset's minutes were measured at, as the retrain job's rows and the drift
 * run need.
 */
export type EstimateClock = 'wall' | 'dataset';

const SEOUL_OFFSET_MS = 9 * 3_600_000;
const DAY_MS = 86_400_000;

/** `secondOfDay` in Seoul on the Seoul day before the one `atMs` falls in. */
export function seoulTimeOfDayBefore(secondOfDay: number, atMs: number): number {
  const seoulMidnight = Math.floor((atMs + SEOUL_OFFSET_MS) / DAY_MS) * DAY_MS - SEOUL_OFFSET_MS;
  return seoulMidnight - DAY_MS + (secondOfDay % 86_400) * 1000;
}

export function preciseRequest(
  s: ScheduledOrder,
  startMs: number,
  clock: EstimateClock = 'wall',
): PreciseEstimateRequest {
  const { order } = s;
  const orderedAtMs =
    clock === 'wall'
      ? startMs + s.atMs.created
      : seoulTimeOfDayBefore(DAY_START_S + order.daySecond, startMs);
  return {
    storeId: order.storeId,
    destination: order.destination,
    orderedAt: iso(orderedAtMs),
    ...(Object.keys(order.order).length > 0 ? { order: order.order } : {}),
    ...(order.rider !== null ? { rider: order.rider } : {}),
    orderId: order.orderId,
  };
}

export function orderEvent(kind: OrderStep, s: ScheduledOrder, ctx: EventContext): OrderEvent {
  const base = {
    eventId: ctx.eventId,
    schemaVersion: 1 as const,
    occurredAt: iso(ctx.startMs + s.atMs[kind]),
    orderId: s.order.orderId,
    storeId: s.order.storeId,
    dongCode: ctx.dongCode,
    orderedAt: iso(ctx.startMs + s.atMs.created),
  };
  switch (kind) {
    case 'created':
      return { ...base, type: 'created' };
    case 'rider-assigned':
      return {
        ...base,
        type: 'rider-assigned',
        ...(s.order.riderId !== null ? { riderId: s.order.riderId } : {}),
      };
    case 'picked-up':
      return { ...base, type: 'picked-up' };
    case 'delivered':
      return { ...base, type: 'delivered', actualMinutes: s.order.actualMinutes };
  }
}
