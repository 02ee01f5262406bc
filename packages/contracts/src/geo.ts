import { z } from 'zod';

/**
 * The Geo service's public contract: HTTP bodies of `/v1/regions/lookup`, `/v1/regions/dongs/:code/live`,
 * `/v1/features`, `/v1/features/batch` and `/v1/features/pairs`, and the Redis key and value of the live
 * per-dong statistics that the event pipeline (not built yet) is to write and Geo reads. Geo validates requests AND its own responses
 * with these schemas, so a client that parses with them gets exactly what the server promised.
 */

/**
 * Points per `/v1/features/batch` call, and pairs per `/v1/features/pairs` call; a larger list is a 400,
 * split it.
 */
export const GEO_MAX_BATCH = 500;

/**
 * A box wholly inside Seoul (Guro to Jungnang, Eunpyeong to Songpa): every point in it is in the service
 * area. Synthetic destinations (the BFF's warm-up, the benchmarks) are drawn from it.
 */
export const SEOUL_INNER_BOX = { minLat: 37.49, maxLat: 37.61, minLng: 126.91, maxLng: 127.09 } as const;

// ---------------------------------------------------------------------------------------------------
// Coordinates

const required = (expected: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'is required' : `expected ${expected}`;

/** WGS84 degrees. NaN and ±Infinity are rejected by z.number() itself. */
export const Latitude = z
  .number({ error: required('a number (degrees)') })
  .min(-90, { error: 'latitude must be within [-90, 90]' })
  .max(90, { error: 'latitude must be within [-90, 90]' });

export const Longitude = z
  .number({ error: required('a number (degrees)') })
  .min(-180, { error: 'longitude must be within [-180, 180]' })
  .max(180, { error: 'longitude must be within [-180, 180]' });

export const LatLng = z.object(
  { lat: Latitude, lng: Longitude },
  { error: required('an object { lat, lng }') },
);
export type LatLng = z.infer<typeof LatLng>;

/**
 * A query-string degree value. Plain decimal notation only: `Number()` would also take '' (as 0), hex and
 * whitespace, and a coordinate silently read as 0 is a wrong answer rather than a 400.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const queryDegrees = (schema: typeof Latitude | typeof Longitude, limit: number) =>
  z
    .string({ error: required('a decimal number (degrees)') })
    .regex(DECIMAL, { error: 'expected a decimal number (degrees)' })
    .transform(Number)
    .pipe(schema)
    // What the OpenAPI document shows (its input side would otherwise be the string and its pattern alone,
    // so a client reading it could not know the range, and `lat=+5829313406097` looked valid): a number
    // in the range, which is what a query value written in decimal notation is (the string's pattern is
    // dropped: on a number it would mean nothing). Validation stays the zod above.
    .meta({
      type: 'number',
      minimum: -limit,
      maximum: limit,
      pattern: undefined,
      description: `degrees within [-${limit}, ${limit}], in decimal notation (an exponent is allowed)`,
    });

// ---------------------------------------------------------------------------------------------------
// Regions

export const REGION_CLASSES = ['metropolitan', 'urban', 'semi-urban'] as const;
export const RegionClass = z.enum(REGION_CLASSES);
export type RegionClass = z.infer<typeof RegionClass>;

export const GuRef = z.object({
  /** 5-digit code, e.g. `11140` (중구). */
  code: z.string(),
  name: z.string(),
});
export type GuRef = z.infer<typeof GuRef>;

export const DongRef = z.object({
  /** 10-digit administrative code (행정기관코드, admdongkor's adm_cd2), e.g. `1114055000` (명동). */
  code: z.string(),
  name: z.string(),
  /** The model's City-type feature, assigned from foodDensity (services/geo/README.md). */
  regionClass: RegionClass,
  /** Estimated food/drink shops within 500 m of a typical point of the dong. */
  foodDensity: z.number(),
});
export type DongRef = z.infer<typeof DongRef>;

/** H3 cells of the point at resolutions 7, 8 and 9, for every valid point (H3 is global). */
export const H3Cells = z.object({ r7: z.string(), r8: z.string(), r9: z.string() });
export type H3Cells = z.infer<typeof H3Cells>;

/** Where a point is. Outside Seoul there is no gu or dong; the H3 cells are still given. */
export const RegionBlock = z.discriminatedUnion('inServiceArea', [
  z.object({ inServiceArea: z.literal(true), gu: GuRef, dong: DongRef, h3: H3Cells }),
  z.object({ inServiceArea: z.literal(false), h3: H3Cells }),
]);
export type RegionBlock = z.infer<typeof RegionBlock>;

export const LookupQuery = z.object({ lat: queryDegrees(Latitude, 90), lng: queryDegrees(Longitude, 180) });
export type LookupQuery = z.infer<typeof LookupQuery>;
export const LookupResponse = RegionBlock;
export type LookupResponse = z.infer<typeof LookupResponse>;

// ---------------------------------------------------------------------------------------------------
// Live per-dong statistics (Redis)

/**
 * Redis key of one dong's live statistics: `geo:live:dong:<10-digit dong code>`, a JSON string matching
 * LiveDongStats. `namespace` (default none) lets several environments or test runs share one Redis.
 */
export const LIVE_DONG_KEY_PREFIX = 'geo:live:dong:';
export function liveDongKey(dongCode: string, namespace = ''): string {
  return `${namespace}${LIVE_DONG_KEY_PREFIX}${dongCode}`;
}

/**
 * How long a written value lives in Redis. Writers refresh every dong at least every minute or so; when
 * they stop, the values vanish and Geo says `no-data` instead of serving an old picture as live.
 */
export const LIVE_DONG_TTL_MS = 15 * 60_000;

export const DONG_CODE_PATTERN = /^\d{10}$/;

export const LiveDongStats = z.object({
  /** Mean minutes from order to delivery over deliveries completed in the last 20 minutes; null with none. */
  avgDeliveryMinutes20m: z.number().nonnegative().nullable(),
  /** Deliveries the mean is over (its sample size: a mean of 1 is noise). */
  deliveries20m: z.number().int().nonnegative(),
  /** Orders accepted and not yet delivered whose destination is in the dong. */
  ordersInFlight: z.number().int().nonnegative(),
  /** When the writer computed these figures (RFC 3339 with offset); Geo reports the age from it. */
  updatedAt: z.iso.datetime({ offset: true }),
});
export type LiveDongStats = z.infer<typeof LiveDongStats>;

/** The part of an ioredis client the writer needs, so this package does not depend on ioredis. */
export interface LiveStatsRedis {
  set(key: string, value: string, px: 'PX', ttlMs: number): Promise<unknown>;
}

export interface WriteLiveDongStatsOptions {
  readonly ttlMs?: number;
  readonly namespace?: string;
}

/**
 * Writes one dong's live statistics where Geo reads them. Validates first, so a bad writer fails loudly
 * at its own end rather than making Geo answer `no-data` for a value it cannot read.
 */
export async function writeLiveDongStats(
  redis: LiveStatsRedis,
  dongCode: string,
  stats: LiveDongStats,
  opts: WriteLiveDongStatsOptions = {},
): Promise<void> {
  if (!DONG_CODE_PATTERN.test(dongCode)) throw new TypeError(`dong code must be 10 digits, got ${dongCode}`);
  const value = LiveDongStats.parse(stats);
  const ttlMs = opts.ttlMs ?? LIVE_DONG_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new RangeError(`ttlMs must be a positive integer`);
  await redis.set(liveDongKey(dongCode, opts.namespace), JSON.stringify(value), 'PX', ttlMs);
}

/**
 * Why a live block is empty:
 * - `not-requested`: the features call did not ask for live statistics (`live: true`), so Geo read none;
 * - `no-data`: nothing written for this dong (yet, or the writer stopped and the key expired);
 * - `stale`: a value exists but is older than the server's limit (`ageSeconds` says how old);
 * - `no-redis`: this Geo runs without Redis (REDIS_URL unset), so it has no live figures at all;
 * - `redis-unavailable`: Redis is configured but did not answer in time; Geo answers without it;
 * - `outside-service-area`: the point is in no dong.
 */
export const LIVE_UNAVAILABLE_REASONS = [
  'not-requested',
  'no-data',
  'stale',
  'no-redis',
  'redis-unavailable',
  'outside-service-area',
] as const;
export const LiveUnavailableReason = z.enum(LIVE_UNAVAILABLE_REASONS);
export type LiveUnavailableReason = z.infer<typeof LiveUnavailableReason>;

export const LiveDongFeatures = z.discriminatedUnion('available', [
  z.object({
    available: z.literal(true),
    avgDeliveryMinutes20m: z.number().nullable(),
    deliveries20m: z.number().int(),
    ordersInFlight: z.number().int(),
    updatedAt: z.string(),
    /** Seconds since updatedAt when this answer was made (0 if the writer's clock is ahead). */
    ageSeconds: z.number(),
  }),
  z.object({
    available: z.literal(false),
    reason: LiveUnavailableReason,
    /** Only with `stale`. */
    ageSeconds: z.number().optional(),
  }),
]);
export type LiveDongFeatures = z.infer<typeof LiveDongFeatures>;

/** `GET /v1/regions/dongs/:code/live`: one dong's live statistics, for operators and dashboards. */
export const DongLiveParams = z.object({
  /** 10-digit administrative code of a Seoul dong, e.g. `1114055000` (명동). */
  code: z.string().regex(DONG_CODE_PATTERN, { error: 'expected a 10-digit administrative dong code' }),
});
export type DongLiveParams = z.infer<typeof DongLiveParams>;

export const DongLiveResponse = z.object({
  dong: DongRef,
  gu: GuRef,
  /** As a features call with `live: true` answers it for a point of this dong (never `not-requested`). */
  live: LiveDongFeatures,
});
export type DongLiveResponse = z.infer<typeof DongLiveResponse>;

// ---------------------------------------------------------------------------------------------------
// Pair features

/**
 * Whether a features call reads the live statistics of its dongs (one Redis round trip per call unless
 * cached). Default off: the precise and rough paths do not use them (the models have no live input), so
 * by default Geo does no Redis read and answers each live block `{ available: false, reason:
 * 'not-requested' }`. Operators, dashboards and future callers send `live: true`.
 */
const LiveFlag = z.boolean({ error: 'expected true or false' }).optional().meta({
  description: 'true: read and answer the live statistics of each end; default false (`not-requested`)',
});

export const FeaturesRequest = z.object({ origin: LatLng, destination: LatLng, live: LiveFlag });
export type FeaturesRequest = z.infer<typeof FeaturesRequest>;

export const PairFeatures = z.object({
  /** Great-circle (haversine) distance in metres. */
  distanceM: z.number(),
  /**
   * Estimated road distance in metres: distanceM × a circuity factor falling with distance (1.45 at 0 m to
   * 1.18 from 20 km), plus 700 m when the ends are on opposite banks of the Han river. Not routed.
   */
  roadDistanceM: z.number(),
  /** Initial bearing origin → destination, degrees clockwise from north, in [0, 360). */
  bearingDeg: z.number(),
  origin: RegionBlock,
  destination: RegionBlock,
  sameDong: z.boolean(),
  sameGu: z.boolean(),
  crossesHanRiver: z.boolean(),
  /** Live statistics of the dong at each end; `not-requested` unless the call sent `live: true`. */
  live: z.object({ origin: LiveDongFeatures, destination: LiveDongFeatures }),
});
export type PairFeatures = z.infer<typeof PairFeatures>;
export const FeaturesResponse = PairFeatures;
export type FeaturesResponse = z.infer<typeof FeaturesResponse>;

/**
 * One shared end and up to GEO_MAX_BATCH other ends, answered in order: either `{ origin, destinations }`
 * (a store and its customers) or `{ destination, origins }` (a customer and a list of stores). Items are
 * checked one by one, so one bad point is answered in its place instead of failing the whole list.
 */
const batchPoints = z
  .array(z.unknown())
  .max(GEO_MAX_BATCH, { error: `a batch holds at most ${GEO_MAX_BATCH} points; split it` });

// The shape rule is a `.check` that pushes its issue itself, not a `.superRefine`: on every parse, valid
// bodies included, zod's superRefine assigns a closure over the parse payload to `payload.addIssue`, and
// V8 pretenures a function literal assigned straight to a property (old space), so the payload and the
// whole parsed body it holds survived every scavenge until the next Mark-Compact. At 200 batches/s of 51
// points that was 0.9 MB/s into old space and a Mark-Compact every ~9 s in Geo. Request schemas on hot
// paths: no superRefine (services/geo/test/http/batch-body.test.ts holds this one to it).
export const FeaturesBatchRequest = z
  .object({
    origin: LatLng.optional(),
    destination: LatLng.optional(),
    origins: batchPoints.optional(),
    destinations: batchPoints.optional(),
    live: LiveFlag,
  })
  .check((ctx) => {
    const b = ctx.value;
    const shapeA = b.origin !== undefined && b.destinations !== undefined;
    const shapeB = b.destination !== undefined && b.origins !== undefined;
    if (shapeA === shapeB) {
      ctx.issues.push({
        code: 'custom',
        path: b.origin !== undefined ? ['destinations'] : b.destination !== undefined ? ['origins'] : [],
        message: 'send either { origin, destinations: [...] } or { destination, origins: [...] }',
        input: b,
      });
    }
  })
  // The shape rule in the OpenAPI document, which a `.check` does not reach: exactly one of the two shapes.
  .meta({
    oneOf: [{ required: ['origin', 'destinations'] }, { required: ['destination', 'origins'] }],
  });
export type FeaturesBatchRequest = z.infer<typeof FeaturesBatchRequest>;

export const GeoItemError = z.object({
  code: z.string(),
  message: z.string(),
  /** Where in the request body, dotted like VALIDATION_ERROR paths: `body.destinations.3.lat`. */
  field: z.string(),
});
export type GeoItemError = z.infer<typeof GeoItemError>;

export const FeaturesBatchItem = z.union([
  z.object({ index: z.number().int(), features: PairFeatures }),
  z.object({ index: z.number().int(), error: GeoItemError }),
]);
export type FeaturesBatchItem = z.infer<typeof FeaturesBatchItem>;

export const FeaturesBatchResponse = z.object({
  /** Which end of every pair the single point of the request is. */
  sharedEnd: z.enum(['origin', 'destination']),
  /** One per point, in request order; `index` is the point's position in the request list. */
  results: z.array(FeaturesBatchItem),
  /** How many items carry an error instead of features. */
  errors: z.number().int(),
});
export type FeaturesBatchResponse = z.infer<typeof FeaturesBatchResponse>;

/**
 * One item of `/v1/features/pairs`: the same pair `/v1/features` takes. The route checks items one by one
 * with it (the request schema only sees a list), so a bad pair is answered in its place.
 */
export const FeaturesPair = z.object(
  { origin: LatLng, destination: LatLng },
  { error: required('an object { origin, destination }') },
);
export type FeaturesPair = z.infer<typeof FeaturesPair>;

/**
 * Up to GEO_MAX_BATCH independent pairs, each with its own origin and destination (the BFF coalescing the
 * precise requests of one event-loop turn, each a different store and customer), answered in order.
 */
export const FeaturesPairsRequest = z.object({
  /** For every pair of the call. */
  live: LiveFlag,
  pairs: z
    .array(z.unknown(), { error: required('an array of { origin, destination }') })
    .min(1, { error: 'send at least one pair; an empty list has nothing to answer' })
    .max(GEO_MAX_BATCH, { error: `a call holds at most ${GEO_MAX_BATCH} pairs; split it` }),
});
export type FeaturesPairsRequest = z.infer<typeof FeaturesPairsRequest>;

export const FeaturesPairsResponse = z.object({
  /**
   * One per pair, in request order; `index` is the pair's position in `pairs`. `features` is what
   * `/v1/features` answers for that pair; `error.field` is dotted like `body.pairs.3.destination.lat`.
   */
  results: z.array(FeaturesBatchItem),
  /** How many items carry an error instead of features. */
  errors: z.number().int(),
});
export type FeaturesPairsResponse = z.infer<typeof FeaturesPairsResponse>;

// ---------------------------------------------------------------------------------------------------
// Metrics

/** Gauge: 1 while the live-statistics Redis answers, 0 while it does not; absent without REDIS_URL. */
export const GEO_LIVE_REDIS_UP = 'geo_live_redis_up';
/** Counter by `outcome` (available, no-data, stale, redis-unavailable, invalid): live lookups per dong. */
export const GEO_LIVE_LOOKUPS_TOTAL = 'geo_live_lookups_total';
