import {
  type AccuracyFigures,
  type FeatureVector,
  type OrderDelivered,
  type OrderEvent,
  type PrecisePrediction,
  type PredictionEvent,
  TRAINING_ROW_MODEL,
} from '@eta/contracts';

/**
 * Rules of the event consumers (ROLE=events) that need no I/O: how order events fold into one state per
 * order, what a prediction and a delivery contribute to live accuracy, and how the figures are computed.
 * adapters/db/live-events.ts applies them in one transaction per batch; docs/adr/0006-event-consumers.md
 * says why the state is kept this way.
 */

/** The furthest step wins, whatever order the events arrive in; delivered and cancelled both end an order. */
export const STATUS_RANK: Readonly<Record<OrderEvent['type'], number>> = {
  created: 1,
  'rider-assigned': 2,
  'picked-up': 3,
  delivered: 4,
  cancelled: 4,
};

export const TERMINAL_RANK = 4;

/** An order's state after a batch of its events (adapters/db upserts it, keeping the furthest step). */
export interface OrderState {
  readonly orderId: string;
  readonly storeId: number;
  readonly dongCode: string;
  readonly orderedAt: string;
  readonly status: OrderEvent['type'];
  readonly rank: number;
  /** From the `delivered` event: when it happened and its minutes. */
  readonly deliveredAt: string | null;
  readonly actualMinutes: number | null;
}

/**
 * One state per order from a batch of events (the database refuses two upserts of one row in a statement).
 * Of two terminal events the first seen stays, as the database keeps the stored one.
 */
export function foldOrders(events: readonly OrderEvent[]): OrderState[] {
  const byOrder = new Map<string, OrderState>();
  for (const e of events) {
    const rank = STATUS_RANK[e.type];
    const before = byOrder.get(e.orderId);
    const delivered = e.type === 'delivered' ? e : undefined;
    if (before === undefined) {
      byOrder.set(e.orderId, {
        orderId: e.orderId,
        storeId: e.storeId,
        dongCode: e.dongCode,
        orderedAt: e.orderedAt,
        status: e.type,
        rank,
        deliveredAt: delivered?.occurredAt ?? null,
        actualMinutes: delivered?.actualMinutes ?? null,
      });
      continue;
    }
    const ahead = rank > before.rank;
    byOrder.set(e.orderId, {
      ...before,
      status: ahead ? e.type : before.status,
      rank: Math.max(rank, before.rank),
      deliveredAt: before.deliveredAt ?? (ahead ? (delivered?.occurredAt ?? null) : null),
      actualMinutes: before.actualMinutes ?? (ahead ? (delivered?.actualMinutes ?? null) : null),
    });
  }
  return [...byOrder.values()];
}

/** Order events per dong and type, for the exactly-once counts. */
export function countEvents(
  events: readonly OrderEvent[],
): { dongCode: string; type: OrderEvent['type']; count: number }[] {
  const counts = new Map<string, { dongCode: string; type: OrderEvent['type']; count: number }>();
  for (const e of events) {
    const key = `${e.dongCode}/${e.type}`;
    const entry = counts.get(key);
    if (entry) entry.count += 1;
    else counts.set(key, { dongCode: e.dongCode, type: e.type, count: 1 });
  }
  return [...counts.values()];
}

// ---------------------------------------------------------------------------------------------------
// Live accuracy

/** Minutes are kept as integer thousandths so that sums are exact (migrations/0002_live_events.sql). */
export function toMilliMinutes(minutes: number): number {
  return Math.round(minutes * 1000);
}

/** What a precise prediction with an order id contributes: the estimate the order is scored against. */
export interface PredictionRow {
  readonly orderId: string;
  readonly eventId: string;
  readonly predictedAt: string;
  readonly storeId: number;
  /** `eta-precise@2`; `manual` or `fallback` when no model answered. */
  readonly model: string;
  readonly predictedMm: number;
  readonly lowMm: number;
  readonly highMm: number;
  /** What a training row needs (issue 13): the eta-precise answer's model, input row and raw quantiles. */
  readonly training: PredictionTraining | null;
  /** The minutes the customer was shown. */
  readonly shownMinutes: number;
}

/** The served model's answer, kept with the prediction so a delivery can make a training row of it. */
export interface PredictionTraining {
  readonly modelName: string;
  readonly modelVersion: string;
  readonly features: FeatureVector;
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
}

/**
 * The training side of a prediction: only an answer of the model the retrain job retrains (eta-precise)
 * with its input row and quantiles. A manual or region-default answer has none; nor has the eta-rough
 * stand-in a precise request gets when eta-precise failed (its row has another model's features).
 */
export function predictionTraining(e: PrecisePrediction): PredictionTraining | null {
  if (
    e.model === null ||
    e.model.name !== TRAINING_ROW_MODEL ||
    e.features === null ||
    e.quantiles === null
  ) {
    return null;
  }
  return {
    modelName: e.model.name,
    modelVersion: e.model.version,
    features: e.features,
    p10: e.quantiles.p10,
    p50: e.quantiles.p50,
    p90: e.quantiles.p90,
  };
}

/**
 * The model's own answer when there was one (its p50, and p10-p90 as the range): live accuracy is the
 * model's accuracy, before the owner's clamps and busy minutes. An answer with no model behind it (manual
 * times, a region default) is scored on what was shown. Rough predictions and precise ones without an
 * order id cannot be joined to an outcome: null.
 */
export function predictionRow(e: PredictionEvent): PredictionRow | null {
  if (e.kind !== 'precise' || e.orderId === null) return null;
  const q = e.quantiles;
  const model = e.model !== null && q !== null ? `${e.model.name}@${e.model.version}` : e.source;
  return {
    orderId: e.orderId,
    eventId: e.eventId,
    predictedAt: e.occurredAt,
    storeId: e.storeId,
    model,
    predictedMm: toMilliMinutes(q !== null && e.model !== null ? q.p50 : e.shownMinutes),
    lowMm: toMilliMinutes(q !== null && e.model !== null ? q.p10 : e.shownRange.low),
    highMm: toMilliMinutes(q !== null && e.model !== null ? q.p90 : e.shownRange.high),
    training: predictionTraining(e),
    shownMinutes: e.shownMinutes,
  };
}

/** Seoul keeps UTC+9 all year (no daylight saving since 1988). */
const SEOUL_OFFSET_MS = 9 * 3_600_000;

/** The day (YYYY-MM-DD) and hour (0-23) of an instant in Asia/Seoul. */
export function seoulDayHour(at: Date | string): { date: string; hour: number } {
  const ms = (typeof at === 'string' ? Date.parse(at) : at.getTime()) + SEOUL_OFFSET_MS;
  const shifted = new Date(ms);
  return { date: shifted.toISOString().slice(0, 10), hour: shifted.getUTCHours() };
}

export interface DeliveryRow {
  readonly orderId: string;
  readonly eventId: string;
  readonly storeId: number;
  readonly dongCode: string;
  readonly orderedAt: string;
  readonly deliveredAt: string;
  readonly actualMm: number;
  /** As reported (actualMm is rounded to thousandths for exact sums); the training row's actual minutes. */
  readonly actualMinutes: number;
  readonly seoulDate: string;
  readonly seoulHour: number;
}

/** The delivery side of the join; the day and hour are those the order was placed, in Seoul. */
export function deliveryRow(e: OrderDelivered): DeliveryRow {
  const { date, hour } = seoulDayHour(e.orderedAt);
  return {
    orderId: e.orderId,
    eventId: e.eventId,
    storeId: e.storeId,
    dongCode: e.dongCode,
    orderedAt: e.orderedAt,
    // The hand-over: placed + the measured minutes (a replay compresses time; the minutes are real).
    deliveredAt: new Date(Date.parse(e.orderedAt) + e.actualMinutes * 60_000).toISOString(),
    actualMm: toMilliMinutes(e.actualMinutes),
    actualMinutes: e.actualMinutes,
    seoulDate: date,
    seoulHour: hour,
  };
}

/** Exact sums over joined orders, in milli-minutes. */
export interface AccuracySums {
  readonly orders: number;
  /** Sum of |predicted - actual|. */
  readonly absErrorMm: number;
  /** Sum of (predicted - actual). */
  readonly errorMm: number;
  /** Orders with low <= actual <= high. */
  readonly covered: number;
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The published figures: minutes to 3 decimals, coverage to 4; null over no orders. */
export function figuresOf(s: AccuracySums): AccuracyFigures {
  if (s.orders === 0) return { orders: 0, maeMinutes: null, biasMinutes: null, coverage: null };
  return {
    orders: s.orders,
    maeMinutes: round(s.absErrorMm / s.orders / 1000, 3),
    biasMinutes: round(s.errorMm / s.orders / 1000, 3),
    coverage: round(s.covered / s.orders, 4),
  };
}

/** One joined order, as the accuracy API plots it. */
export interface OutcomePoint {
  readonly orderId: string;
  readonly deliveredAt: Date;
  readonly predictedMm: number;
  readonly lowMm: number;
  readonly highMm: number;
  readonly actualMm: number;
  readonly model: string;
}

export interface StoreDayAccuracy {
  readonly day: AccuracySums;
  readonly hours: (AccuracySums & { hour: number })[];
  readonly models: (AccuracySums & { model: string })[];
  readonly points: OutcomePoint[];
}

export interface DayAccuracyOverview {
  readonly day: AccuracySums;
  readonly models: (AccuracySums & { model: string })[];
  readonly stores: (AccuracySums & { storeId: number })[];
}

/** Today in Asia/Seoul, the accuracy API's default day. */
export function seoulToday(now: Date): string {
  return seoulDayHour(now).date;
}
