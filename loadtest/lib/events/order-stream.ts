/**
 * Order events and precise predictions as the consumers meet them on a live stream, for consumers.bench.ts:
 * `orders` orders at seeded stores (1..5,000, the seed's ids) delivered to real Seoul dongs (the BFF's
 * seed-dongs.json), each with its four lifecycle events (created, rider-assigned, picked-up, delivered)
 * and, on the other topic, four precise predictions carrying its order id (the checkout estimate, then
 * three tracking ones; the checkout one is what live accuracy scores). Both streams are in time order:
 * an order's later steps come a fixed number of orders later, so every batch mixes new orders with ones
 * being assigned, picked up and delivered, as at peak. Every event is valid per @eta/contracts (the
 * producer validates it again) and has a fresh UUIDv7 id from @eta/events' newEventId.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OrderEvent, PrecisePrediction, RoughPrediction } from '@eta/contracts';
import { seededRandom } from '../mix.ts';

/** The seed's store ids (SEED_STORES, 5,000 as the run command seeds them). */
const STORES = 5_000;
/** The eta-precise v2 feature layout (ml/models/eta-precise/2/metadata.json), so an event has its real size. */
const FEATURES = [
  'distance_km',
  'hour_of_day',
  'day_of_week',
  'region_class',
  'order_type',
  'weather',
  'road_traffic',
  'rider_age',
  'rider_rating',
  'vehicle_type',
  'vehicle_condition',
  'multiple_deliveries',
  'festival',
] as const;
/** Minutes after the order a step happens; delivered is the order's own actualMinutes. */
const ASSIGNED_AFTER_MIN = 4;
const PICKED_UP_AFTER_MIN = 14;
/** Predictions: the checkout estimate just before the order, then tracking ones (minutes after it). */
const PREDICTION_AT_MIN = [-1, 3, 10, 20] as const;

export interface StreamPlan {
  readonly orders: number;
  readonly runId: string;
  /** When the first order was placed; orders follow every `spacingMs`. */
  readonly startMs: number;
  readonly spacingMs: number;
  readonly dongs: readonly string[];
  readonly seed: number;
}

/** The BFF's seeded dongs (the 425 administrative dongs of Seoul it places stores in). */
export function seedDongs(root: string): string[] {
  const file = join(root, 'services', 'vendor-bff', 'data', 'seed-dongs.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { dongs: { code: string }[] };
  return data.dongs.map((d) => d.code);
}

/**
 * A plan of `orders` orders placed over the `windowMinutes` that ended two hours ago: every step, the last
 * delivery included (at most an hour after its order), is in the past and inside the consumers' windows
 * (accuracy join 6 h, receipts 48 h).
 */
export function planStream(root: string, orders: number, runId: string, windowMinutes = 120): StreamPlan {
  const windowMs = windowMinutes * 60_000;
  return {
    orders,
    runId,
    startMs: Date.now() - 2 * 60 * 60_000 - windowMs,
    spacingMs: windowMs / orders,
    dongs: seedDongs(root),
    seed: 18,
  };
}

interface Order {
  readonly orderId: string;
  readonly storeId: number;
  readonly dongCode: string;
  readonly orderedAtMs: number;
  readonly actualMinutes: number;
  readonly p50: number;
}

function order(plan: StreamPlan, i: number): Order {
  const r = seededRandom(plan.seed * 1_000_003 + i);
  const actualMinutes = Math.round((15 + r() * 45) * 10) / 10;
  return {
    orderId: `${plan.runId}-${i}`,
    storeId: 1 + Math.floor(r() * STORES),
    dongCode: plan.dongs[Math.floor(r() * plan.dongs.length)]!,
    orderedAtMs: plan.startMs + i * plan.spacingMs,
    actualMinutes,
    p50: Math.round((actualMinutes + (r() - 0.5) * 12) * 1000) / 1000,
  };
}

/**
 * Interleaves steps in time order: at slot k, step s of order k - lag[s] (lags in orders, from the
 * minutes a step comes after its order).
 */
function* interleave<T>(
  plan: StreamPlan,
  afterMinutes: readonly number[],
  make: (o: Order, step: number) => T,
): Generator<T> {
  const base = Math.min(...afterMinutes);
  const lags = afterMinutes.map((m) => Math.round(((m - base) * 60_000) / plan.spacingMs));
  const last = plan.orders + Math.max(...lags);
  for (let slot = 0; slot < last; slot++) {
    for (let s = 0; s < lags.length; s++) {
      const i = slot - lags[s]!;
      if (i >= 0 && i < plan.orders) yield make(order(plan, i), s);
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The four lifecycle events of every order, in time order: 4 x plan.orders events. */
export function orderEvents(plan: StreamPlan, newEventId: () => string): Generator<OrderEvent> {
  // delivered is placed at the mean delivery time (37.5 min); its own occurredAt is orderedAt + actualMinutes.
  return interleave(plan, [0, ASSIGNED_AFTER_MIN, PICKED_UP_AFTER_MIN, 37.5], (o, step): OrderEvent => {
    const common = {
      schemaVersion: 1 as const,
      eventId: newEventId(),
      orderId: o.orderId,
      storeId: o.storeId,
      dongCode: o.dongCode,
      orderedAt: iso(o.orderedAtMs),
    };
    switch (step) {
      case 0:
        return { ...common, type: 'created', occurredAt: common.orderedAt };
      case 1:
        return {
          ...common,
          type: 'rider-assigned',
          occurredAt: iso(o.orderedAtMs + ASSIGNED_AFTER_MIN * 60_000),
          riderId: `rider-${o.storeId % 997}`,
        };
      case 2:
        return {
          ...common,
          type: 'picked-up',
          occurredAt: iso(o.orderedAtMs + PICKED_UP_AFTER_MIN * 60_000),
        };
      default:
        return {
          ...common,
          type: 'delivered',
          occurredAt: iso(o.orderedAtMs + o.actualMinutes * 60_000),
          actualMinutes: o.actualMinutes,
        };
    }
  });
}

/** Four precise predictions per order, with its order id, in time order: 4 x plan.orders events. */
export function predictionEvents(plan: StreamPlan, newEventId: () => string): Generator<PrecisePrediction> {
  return interleave(plan, PREDICTION_AT_MIN, (o, step): PrecisePrediction => {
    const r = seededRandom(plan.seed * 7_919 + step * 104_729 + o.storeId);
    const features: Record<string, number | null> = {};
    for (const name of FEATURES) features[name] = Math.round(r() * 30 * 1000) / 1000;
    const p50 = o.p50 - step * 0.5;
    return {
      schemaVersion: 1,
      type: 'prediction',
      kind: 'precise',
      eventId: newEventId(),
      occurredAt: iso(o.orderedAtMs + PREDICTION_AT_MIN[step]! * 60_000),
      requestId: `req-${o.orderId}-${step}`,
      orderId: o.orderId,
      storeId: o.storeId,
      // An H3 resolution-9 cell in Mapo-gu (its format is what the schema checks).
      destinationCell: '8930e1d8a6bffff',
      model: { name: 'eta-precise', version: '2' },
      features,
      quantiles: { p10: p50 - 7, p50, p90: p50 + 10 },
      shownMinutes: Math.round(p50),
      shownRange: { low: Math.round(p50 - 7), high: Math.round(p50 + 10) },
      source: 'model',
      degraded: false,
    };
  });
}

/** The eta-rough layout (the precise one's first seven; vendor-bff domain/features.ts): a rough item's row. */
const ROUGH_FEATURES = FEATURES.slice(0, 7);
/** Stores per rough event: a store list's first page, as the as-shipped chain's rough row asks. */
export const ROUGH_EVENT_STORES = 50;

/**
 * `count` rough predictions as the prediction log publishes them for store lists: one event per request,
 * ROUGH_EVENT_STORES items each with its row (~21 kB an event). They carry no order id: the live-accuracy
 * consumer has no use for them (it passes them over by their `eta-join: none` header, or decodes and
 * ignores them when a producer did not set it).
 */
export function* roughPredictionEvents(
  count: number,
  seed: number,
  newEventId: () => string,
): Generator<RoughPrediction> {
  const at = Date.now() - 60_000;
  for (let i = 0; i < count; i++) {
    const r = seededRandom(seed * 7_919 + i);
    const first = 1 + Math.floor(r() * (STORES - ROUGH_EVENT_STORES));
    yield {
      schemaVersion: 1,
      type: 'prediction',
      kind: 'rough',
      eventId: newEventId(),
      occurredAt: iso(at + i),
      requestId: `req-rough-${seed}-${i}`,
      destinationCell: '8930e1d8a6bffff',
      items: Array.from({ length: ROUGH_EVENT_STORES }, (_, k) => {
        const features: Record<string, number | null> = {};
        for (const name of ROUGH_FEATURES) features[name] = Math.round(r() * 30 * 1000) / 1000;
        const p50 = 20 + Math.round(r() * 30 * 1000) / 1000;
        return {
          storeId: first + k,
          model: { name: 'eta-rough' as const, version: '2' },
          features,
          quantiles: { p10: p50 - 7, p50, p90: p50 + 10 },
          shownMinutes: Math.round(p50),
          shownRange: { low: Math.round(p50 - 7), high: Math.round(p50 + 10) },
          source: 'rough' as const,
          degraded: false,
        };
      }),
    };
  }
}
