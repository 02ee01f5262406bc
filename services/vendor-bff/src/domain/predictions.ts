/**
 * The prediction log: what the BFF served, as `@eta/contracts`' `predictions` events. Pure: the estimate
 * service says how each answer was made (ServedModel), the route hands answers here after they were sent,
 * and the events go to a sink (adapters/events: a bounded buffer in front of Kafka or the in-process
 * bus) that never waits and never throws. Nothing here can change an answer or delay one.
 */
import {
  PREDICTION_CELL_RESOLUTION,
  type FeatureVector,
  type LatLng,
  type PrecisePrediction,
  type PreciseEstimateResponse,
  type PredictionEvent,
  type RoughEstimateItem,
  type RoughPrediction,
  type RoughPredictionItem,
} from '@eta/contracts';
import { latLngToCell } from 'h3-js';
import type { Quantiles } from './estimate-policy.ts';
import { MODEL_LAYOUTS, type FeatureRow, type ModelName } from './features.ts';

/**
 * The model an answer was made from: its version, the row sent to it and its raw quantiles (before the
 * owner's settings). `row` is null when not known (a rough answer from a cache entry written without it).
 */
export interface ServedModel {
  readonly model: ModelName;
  readonly version: string;
  readonly row: FeatureRow | null;
  readonly quantiles: Quantiles;
}

/** A precise answer and how it was made; `model` is null for manual times and region defaults. */
export interface PreciseServed {
  readonly answer: PreciseEstimateResponse;
  readonly model: ServedModel | null;
  /** The estimate clock as the request began: the event's occurredAt (not the request's orderedAt). */
  readonly at: Date;
}

/** A rough answer and, per item in the same order, how it was made (null: an error, manual, default). */
export interface RoughServed {
  readonly items: RoughEstimateItem[];
  readonly models: readonly (ServedModel | null)[];
  readonly at: Date;
}

/** Where the events go. Must not throw and must not wait (adapters/events: the buffered publisher). */
export interface PredictionSink {
  offer(event: PredictionEvent): void;
}

export interface PredictionLogDeps {
  readonly sink: PredictionSink;
  /** A fresh event id (UUIDv7: @eta/events' newEventId). */
  readonly newId: () => string;
  readonly log: { warn(obj: object, msg: string): void };
}

/** The row as a name -> value record, in the model's layout order (features.ts). */
export function featureVector(model: ModelName, row: FeatureRow): FeatureVector {
  const layout = MODEL_LAYOUTS[model];
  const out: FeatureVector = {};
  for (let i = 0; i < layout.length; i++) out[layout[i]!.name] = row[i] ?? null;
  return out;
}

function servedFields(
  answer: {
    readonly etaMinutes: number;
    readonly range: { readonly low: number; readonly high: number };
    readonly source: PrecisePrediction['source'];
    readonly degraded: boolean;
  },
  served: ServedModel | null,
): Omit<RoughPredictionItem, 'storeId'> {
  return {
    model: served === null ? null : { name: served.model, version: served.version },
    features: served?.row == null ? null : featureVector(served.model, served.row),
    quantiles:
      served === null
        ? null
        : { p10: served.quantiles.p10, p50: served.quantiles.p50, p90: served.quantiles.p90 },
    shownMinutes: answer.etaMinutes,
    shownRange: { low: answer.range.low, high: answer.range.high },
    source: answer.source,
    degraded: answer.degraded,
  };
}

export function destinationCell(destination: LatLng): string {
  return latLngToCell(destination.lat, destination.lng, PREDICTION_CELL_RESOLUTION);
}

export function precisePrediction(input: {
  readonly eventId: string;
  readonly requestId: string;
  readonly orderId: string | null;
  readonly destination: LatLng;
  readonly served: PreciseServed;
}): PrecisePrediction {
  const { answer, model, at } = input.served;
  return {
    eventId: input.eventId,
    schemaVersion: 1,
    type: 'prediction',
    occurredAt: at.toISOString(),
    kind: 'precise',
    requestId: input.requestId,
    orderId: input.orderId,
    storeId: answer.storeId,
    destinationCell: destinationCell(input.destination),
    ...servedFields(answer, model),
  };
}

/** Null when no store of the request was answered (every id unknown): nothing was served to log. */
export function roughPrediction(input: {
  readonly eventId: string;
  readonly requestId: string;
  readonly destination: LatLng;
  readonly served: RoughServed;
}): RoughPrediction | null {
  const { items, models, at } = input.served;
  const out: RoughPredictionItem[] = [];
  items.forEach((item, i) => {
    if (!('source' in item)) return;
    out.push({ storeId: item.storeId, ...servedFields(item, models[i] ?? null) });
  });
  if (out.length === 0) return null;
  return {
    eventId: input.eventId,
    schemaVersion: 1,
    type: 'prediction',
    occurredAt: at.toISOString(),
    kind: 'rough',
    requestId: input.requestId,
    destinationCell: destinationCell(input.destination),
    items: out,
  };
}

/**
 * Turns served answers into events and offers them to the sink. Called after the answer was sent; a bug
 * here is logged, never thrown at the caller.
 */
export class PredictionLog {
  readonly #d: PredictionLogDeps;

  constructor(deps: PredictionLogDeps) {
    this.#d = deps;
  }

  precise(requestId: string, orderId: string | undefined, destination: LatLng, served: PreciseServed): void {
    try {
      this.#d.sink.offer(
        precisePrediction({
          eventId: this.#d.newId(),
          requestId,
          orderId: orderId ?? null,
          destination,
          served,
        }),
      );
    } catch (err) {
      this.#d.log.warn({ err, requestId }, 'prediction log: could not build the precise event');
    }
  }

  rough(requestId: string, destination: LatLng, served: RoughServed): void {
    try {
      const event = roughPrediction({ eventId: this.#d.newId(), requestId, destination, served });
      if (event !== null) this.#d.sink.offer(event);
    } catch (err) {
      this.#d.log.warn({ err, requestId }, 'prediction log: could not build the rough event');
    }
  }
}
