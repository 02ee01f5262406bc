import { z } from 'zod';
import { OrderId } from './events/ids.ts';
import { LatLng } from './geo.ts';

/**
 * The vendor BFF's estimate API: `POST /v1/estimates/precise` (one store, an order placed or about to be)
 * and `POST /v1/estimates/rough` (a store list as a customer browses it). The BFF validates requests AND
 * its own responses with these schemas, so a client parsing with them gets exactly what was promised.
 */

/** Stores per rough call; a longer list is a 400, split it. */
export const ROUGH_MAX_STORES = 200;

export const ORDER_TYPES = ['snack', 'meal', 'drinks', 'buffet'] as const;
export const OrderType = z.enum(ORDER_TYPES);
export type OrderType = z.infer<typeof OrderType>;

export const VEHICLE_TYPES = ['bicycle', 'electric_scooter', 'scooter', 'motorcycle'] as const;
export const VehicleType = z.enum(VEHICLE_TYPES);
export type VehicleType = z.infer<typeof VehicleType>;

/** A store id as the catalogue knows it (Postgres bigserial, well inside the safe integer range). */
export const StoreId = z
  .number({ error: (issue) => (issue.input === undefined ? 'is required' : 'expected an integer store id') })
  .int({ error: 'expected an integer store id' })
  .positive({ error: 'store ids are positive' })
  .max(Number.MAX_SAFE_INTEGER);

/**
 * The ranges are the model's training ranges (ml/models/eta-precise metadata): a value outside them would
 * be extrapolated by trees that never saw it, so it is refused rather than silently answered.
 */
export const OrderDetails = z.strictObject({
  /** Defaults to the store's category. */
  type: OrderType.optional(),
  /** Other orders the rider carries on this trip (0 = single delivery). */
  multipleDeliveries: z.number().int().min(0).max(3).optional(),
  festival: z.boolean().optional(),
});
export type OrderDetails = z.infer<typeof OrderDetails>;

export const RiderDetails = z.strictObject({
  age: z.number().int().min(18).max(65).optional(),
  rating: z.number().min(1).max(5).optional(),
  vehicleType: VehicleType,
  /** Grade 0-3 as recorded by the fleet (0 is the slowest). */
  vehicleCondition: z.number().int().min(0).max(3),
});
export type RiderDetails = z.infer<typeof RiderDetails>;

/**
 * How far `orderedAt` may lie from now. An estimate is for an order being placed, one scheduled ahead
 * (delivery apps take reservations up to about a week out) or a recent one looked at again (support,
 * replays of the last weeks); anything further off is a client bug (a 1970 epoch, 9999 as "never", seconds
 * read as milliseconds) that would otherwise be answered with an ETA for the weekday and hour it happens to
 * name. Checked against the clock at the time the request is parsed.
 */
export const ORDERED_AT_MAX_PAST_DAYS = 30;
export const ORDERED_AT_MAX_FUTURE_DAYS = 7;
const DAY_MS = 86_400_000;

export const OrderedAt = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 date-time with offset' })
  .refine(
    (value) => {
      const at = Date.parse(value);
      // A value that is not a date-time at all is the format check's to report.
      if (Number.isNaN(at)) return true;
      const now = Date.now();
      return at >= now - ORDERED_AT_MAX_PAST_DAYS * DAY_MS && at <= now + ORDERED_AT_MAX_FUTURE_DAYS * DAY_MS;
    },
    {
      error: `must be within ${ORDERED_AT_MAX_PAST_DAYS} days before and ${ORDERED_AT_MAX_FUTURE_DAYS} days after now`,
    },
  );

export const PreciseEstimateRequest = z.strictObject({
  storeId: StoreId,
  destination: LatLng,
  /**
   * When the order is (or would be) placed; the model's hour and weekday are taken in Asia/Seoul. Default
   * now. At most ORDERED_AT_MAX_PAST_DAYS before and ORDERED_AT_MAX_FUTURE_DAYS after the server's clock.
   */
  orderedAt: OrderedAt.optional(),
  order: OrderDetails.optional(),
  /** The assigned rider; without one the fleet's typical rider is assumed (see the BFF README). */
  rider: RiderDetails.optional(),
  /**
   * The order this estimate is for, when there is one (checkout, order tracking): logged with the
   * prediction so it can be scored against the order's actual delivery minutes. Changes no estimate.
   */
  orderId: OrderId.optional(),
});
export type PreciseEstimateRequest = z.infer<typeof PreciseEstimateRequest>;

/**
 * Where an answer came from:
 * - `model`: the eta-precise model (precise requests);
 * - `rough`: the eta-rough model: the rough endpoint's normal answer (through its cache), or a precise
 *   request whose eta-precise call failed or was late (then `degraded` is true);
 * - `manual`: the owner's manual preparation + delivery times (auto prediction off, or every model failed);
 * - `fallback`: a region default, when not even the store's own settings could be used.
 */
export const ESTIMATE_SOURCES = ['model', 'rough', 'manual', 'fallback'] as const;
export const EstimateSource = z.enum(ESTIMATE_SOURCES);
export type EstimateSource = z.infer<typeof EstimateSource>;

/** Whole minutes; low <= etaMinutes <= high always holds. */
export const EstimateRange = z.object({ low: z.number().int(), high: z.number().int() });
export type EstimateRange = z.infer<typeof EstimateRange>;

const estimateFields = {
  storeId: z.number().int(),
  etaMinutes: z.number().int(),
  range: EstimateRange,
  source: EstimateSource,
  /** The model version that answered (`source` model or rough). */
  modelVersion: z.string().optional(),
  /**
   * True when any step fell back (Geo, a model, the catalogue's last known copy): the answer is still the
   * best available, and `source` says which rung of the ladder produced it.
   */
  degraded: z.boolean(),
};

export const PreciseEstimateResponse = z.object({
  ...estimateFields,
  /** prep + travel = etaMinutes; busy-mode minutes count as preparation. */
  components: z.object({ prepMinutes: z.number().int(), travelMinutes: z.number().int() }),
});
export type PreciseEstimateResponse = z.infer<typeof PreciseEstimateResponse>;

export const RoughEstimateRequest = z.strictObject({
  destination: LatLng,
  storeIds: z
    .array(StoreId, { error: (issue) => (issue.input === undefined ? 'is required' : 'expected an array') })
    .min(1, { error: 'at least one store id is needed' })
    .max(ROUGH_MAX_STORES, { error: `at most ${ROUGH_MAX_STORES} store ids per call; split the list` }),
});
export type RoughEstimateRequest = z.infer<typeof RoughEstimateRequest>;

export const RoughEstimate = z.object(estimateFields);
export type RoughEstimate = z.infer<typeof RoughEstimate>;

/** A store of the list that could not be estimated, in its place; the others are still answered. */
export const RoughEstimateError = z.object({
  storeId: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }),
});
export type RoughEstimateError = z.infer<typeof RoughEstimateError>;

export const RoughEstimateItem = z.union([RoughEstimate, RoughEstimateError]);
export type RoughEstimateItem = z.infer<typeof RoughEstimateItem>;

export const RoughEstimateResponse = z.object({
  /** One per requested id, in request order. */
  estimates: z.array(RoughEstimateItem),
});
export type RoughEstimateResponse = z.infer<typeof RoughEstimateResponse>;

/** Error codes of the estimate API beyond the shared ones. */
export const ESTIMATE_ERROR_CODES = ['STORE_NOT_FOUND', 'OUT_OF_SERVICE_AREA'] as const;
export type EstimateErrorCode = (typeof ESTIMATE_ERROR_CODES)[number];

// ---------------------------------------------------------------------------------------------------
// Metrics

/** Counter by `role`, `kind` (precise, rough), `source` and `degraded`: estimates answered. */
export const BFF_ESTIMATES_TOTAL = 'bff_estimates_total';
/** Histogram by `dependency` (geo, ml-proxy), `operation` and `outcome` (ok or a failure kind). */
export const BFF_DEPENDENCY_DURATION_SECONDS = 'bff_dependency_duration_seconds';
/** Counter by `dependency`, `operation` and `kind` (timeout, connect, status, bad-body, breaker-open, layout). */
export const BFF_DEPENDENCY_FAILURES_TOTAL = 'bff_dependency_failures_total';
/** Gauge by `dependency`: 0 closed, 1 half-open, 2 open. */
export const BFF_BREAKER_STATE = 'bff_breaker_state';
/**
 * Histogram by `dependency` and `operation` (geo features, ml-proxy model name): how many estimate requests
 * shared one coalesced dependency call. Its count is the number of calls, its sum the number of requests.
 */
export const BFF_COALESCED_REQUESTS = 'bff_coalesced_requests';
