import { z } from 'zod';
import { EstimateRange, EstimateSource, ROUGH_MAX_STORES, StoreId } from '../estimates.ts';
import { envelope, eventTopic } from './envelope.ts';
import { H3Cell, OrderId, RequestId } from './ids.ts';

/**
 * Topic `predictions`: the prediction log, every estimate the BFF served, published after the answer was
 * sent (vendor-bff README, "Prediction log"). One event type, `prediction`, in two kinds:
 *
 * - `precise`: one per answered `POST /v1/estimates/precise`, with the caller's `orderId` when it gave one
 *   (checkout, tracking): the live-accuracy join matches it to the order's `delivered` event on it;
 * - `rough`: one per answered `POST /v1/estimates/rough`, its stores in `items` (one per answered position
 *   of the request, in request order; stores answered with an error are left out).
 *
 * Keyed by the order id when there is one (the same key as the order's events), else the request id.
 */

/** H3 resolution of `destinationCell` (cells of about 0.1 km²): an area to group by, not an address. */
export const PREDICTION_CELL_RESOLUTION = 9;

export const PREDICTION_MODELS = ['eta-precise', 'eta-rough'] as const;
export const PredictionModel = z.enum(PREDICTION_MODELS);
export type PredictionModel = z.infer<typeof PredictionModel>;

/**
 * The model row as sent: feature name -> value, in the model's layout order, categorical features as their
 * integer codes and unknown values as null (sent to the model as NaN). Names are the models' metadata names
 * (ml/models/<name>/<version>/metadata.json), e.g. `distance_km`, `hour_of_day`, `rider_age`.
 */
export const FeatureVector = z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), z.number().nullable());
export type FeatureVector = z.infer<typeof FeatureVector>;

/** The model's own answer in minutes, before the owner's settings (busy mode, clamps) and rounding. */
export const PredictionQuantiles = z.object({ p10: z.number(), p50: z.number(), p90: z.number() });
export type PredictionQuantiles = z.infer<typeof PredictionQuantiles>;

/**
 * What was served for one store. `model`, `features` and `quantiles` describe the model whose answer the
 * shown figure was made from: `eta-precise` (source `model`) or `eta-rough` (source `rough`, also a precise
 * request whose eta-precise call failed); all three are null for an answer from the owner's manual times
 * or a region default (source `manual`, `fallback`). `features` may also be null for a rough answer read
 * from a cache entry an older BFF wrote without its row.
 */
const servedFields = {
  model: z.object({ name: PredictionModel, version: z.string().min(1).max(64) }).nullable(),
  features: FeatureVector.nullable(),
  quantiles: PredictionQuantiles.nullable(),
  /** The `etaMinutes` answered. */
  shownMinutes: z.number().int(),
  /** The `range` answered. */
  shownRange: EstimateRange,
  source: EstimateSource,
  degraded: z.boolean(),
};

export const PrecisePrediction = z.object({
  ...envelope('prediction', 1),
  kind: z.literal('precise'),
  /** The answer's `x-request-id`, to find its log lines. */
  requestId: RequestId,
  /** The order the estimate was for, when the caller said (`orderId` in the request); else null. */
  orderId: OrderId.nullable(),
  storeId: StoreId,
  /** The destination's H3 cell at PREDICTION_CELL_RESOLUTION. */
  destinationCell: H3Cell,
  ...servedFields,
});
export type PrecisePrediction = z.infer<typeof PrecisePrediction>;

export const RoughPredictionItem = z.object({ storeId: StoreId, ...servedFields });
export type RoughPredictionItem = z.infer<typeof RoughPredictionItem>;

export const RoughPrediction = z.object({
  ...envelope('prediction', 1),
  kind: z.literal('rough'),
  requestId: RequestId,
  destinationCell: H3Cell,
  items: z.array(RoughPredictionItem).min(1).max(ROUGH_MAX_STORES),
});
export type RoughPrediction = z.infer<typeof RoughPrediction>;

export const PredictionEvent = z.discriminatedUnion('kind', [PrecisePrediction, RoughPrediction]);
export type PredictionEvent = z.infer<typeof PredictionEvent>;

export const PREDICTIONS_TOPIC = eventTopic('predictions', PredictionEvent, (e) =>
  e.kind === 'precise' && e.orderId !== null ? e.orderId : e.requestId,
);

/**
 * Message header `eta-join: none` on every prediction event with no order to join (a rough answer, or a
 * precise one the caller gave no `orderId`). The live-accuracy consumer passes such messages over by the
 * header alone, without decoding them: a rough event of 50 stores is ~21 kB and ~330 µs to parse and
 * check, most of the topic's bytes, and of no use to the join. A message without the header (an older
 * producer's, or one written by hand) is decoded and checked as before.
 */
export const PREDICTION_JOIN_HEADER = 'eta-join';

/** The headers a prediction event is published with (see PREDICTION_JOIN_HEADER). */
export function predictionHeaders(event: PredictionEvent): Record<string, string> {
  return event.kind === 'precise' && event.orderId !== null ? {} : { [PREDICTION_JOIN_HEADER]: 'none' };
}

/** True for a prediction message its header says has no order to join. */
export const predictionWithoutOrder = (headers: Readonly<Record<string, string>>): boolean =>
  headers[PREDICTION_JOIN_HEADER] === 'none';
