import { z } from 'zod';
import { ErrorBody } from './errors.ts';
import { EstimateSource, OrderType, StoreId } from './estimates.ts';
import { LatLng, LookupQuery, RegionClass } from './geo.ts';
import { BUSY_MAX_HOURS, StoreSettingsBody, StoreSettingsPatch } from './stores.ts';

/**
 * The store-owner admin API (vendor-bff with ROLE=admin) as admin-web calls it. The server validates
 * requests AND its responses with these schemas, and admin-web parses every answer with them and
 * validates its forms with the same request schemas, so the browser and the server cannot disagree.
 *
 * Every route needs `Authorization: Bearer <JWT>`:
 * - 401 UNAUTHENTICATED: no token, a malformed, expired or wrongly signed one;
 * - 404 STORE_NOT_FOUND: the store does not exist OR belongs to another owner (one answer for both, so a
 *   token cannot probe which ids exist);
 * - 429 RATE_LIMITED with `Retry-After: <seconds>`;
 * - 400 VALIDATION_ERROR with `details: [{ path, message }]`, `path` dotted from the request part:
 *   `params.id`, `querystring.lat`, `body.busy.until`, `headers.if-match`.
 * Error bodies are the shared ErrorBody; the 412 adds `current`.
 */

// ---------------------------------------------------------------------------------------------------
// Routes

/** Fastify route patterns, registered by vendor-bff. */
export const ADMIN_ROUTES = {
  /** GET: who the token is (MeResponse). */
  me: '/v1/me',
  /** GET: the store (AdminStore). */
  store: '/v1/stores/:id',
  /** GET: settings (StoreSettingsBody) + ETag; PUT: replace them (StoreSettingsPut) with If-Match. */
  settings: '/v1/stores/:id/settings',
  /** GET: settings changes, newest first (SettingsHistoryResponse). */
  settingsHistory: '/v1/stores/:id/settings/history',
  /** GET ?lat=&lng=: what customers would be shown across the day (PreviewResponse). */
  preview: '/v1/stores/:id/preview',
  /** GET ?date=: the store's live accuracy that day (StoreAccuracyResponse). */
  accuracy: '/v1/stores/:id/accuracy',
  /** GET ?date=: every store's live accuracy that day (AccuracyOverviewResponse); operators only (else 403). */
  accuracyOverview: '/v1/accuracy',
} as const;

/** The same routes as client paths, so admin-web never builds a URL by hand. */
export const adminPaths = {
  me: (): string => ADMIN_ROUTES.me,
  store: (id: number): string => `/v1/stores/${id}`,
  settings: (id: number): string => `/v1/stores/${id}/settings`,
  settingsHistory: (id: number): string => `/v1/stores/${id}/settings/history`,
  preview: (id: number, at?: LatLng): string =>
    at === undefined
      ? `/v1/stores/${id}/preview`
      : `/v1/stores/${id}/preview?${new URLSearchParams({ lat: String(at.lat), lng: String(at.lng) }).toString()}`,
  accuracy: (id: number, date?: string): string =>
    date === undefined ? `/v1/stores/${id}/accuracy` : `/v1/stores/${id}/accuracy?date=${date}`,
  accuracyOverview: (date?: string): string =>
    date === undefined ? '/v1/accuracy' : `/v1/accuracy?date=${date}`,
};

/** Route params of every `/v1/stores/:id...` route. Params arrive as strings. */
export const StoreParams = z.object({
  id: z
    .string()
    // 15 digits at most: every such id is a safe integer (2^53 has 16 digits), so an id the pattern
    // admits is never refused by StoreId afterwards (the OpenAPI document promised 16-digit ids it refused).
    .regex(/^[1-9]\d{0,14}$/, { error: 'expected a positive integer store id' })
    .transform(Number)
    .pipe(StoreId),
});
export type StoreParams = z.output<typeof StoreParams>;

// ---------------------------------------------------------------------------------------------------
// Headers and error codes

/**
 * Optimistic concurrency: the settings' `version` travels as a strong entity tag `"<version>"` in `ETag`
 * (GET and PUT answers) and `If-Match` (PUT). Lower-case names: see headers.ts.
 */
export const ETAG_HEADER = 'etag';
export const IF_MATCH_HEADER = 'if-match';
export const RETRY_AFTER_HEADER = 'retry-after';

export function formatEtag(version: number): string {
  return `"${version}"`;
}

/**
 * The version in one strong entity tag, or null. The server answers 400 VALIDATION_ERROR
 * (`headers.if-match`) for an If-Match it cannot read (a weak tag, `*`, a list): each of those would
 * either match nothing forever or overwrite blindly, and both hide a client bug.
 */
export function parseEtag(value: string | null | undefined): number | null {
  const m = value == null ? null : /^"([1-9]\d{0,15})"$/.exec(value.trim());
  if (m === null || m[1] === undefined) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

/** Error codes of the admin API beyond the shared ones (errors.ts). */
export const ADMIN_ERROR_CODES = [
  /** 401: no bearer token, or it is malformed, expired or not signed by us. */
  'UNAUTHENTICATED',
  /** 404: no such store, or not one of the caller's. */
  'STORE_NOT_FOUND',
  /** 412: If-Match names an older version; nothing was changed; the body's `current` is the stored row. */
  'PRECONDITION_FAILED',
  /** 428: a PUT without If-Match (blind overwrites of another person's edit are refused). */
  'PRECONDITION_REQUIRED',
] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

/** The 412 body: what the server holds now, so the client can show the difference and retry on it. */
export const PreconditionFailedBody = ErrorBody.extend({
  code: z.literal('PRECONDITION_FAILED'),
  current: StoreSettingsBody,
});
export type PreconditionFailedBody = z.infer<typeof PreconditionFailedBody>;

// ---------------------------------------------------------------------------------------------------
// GET /v1/me

/** `owner`: a store owner, limited to `storeIds`. `operator`: support staff, any store (`storeIds` empty). */
export const ADMIN_ROLES = ['owner', 'operator'] as const;
export const AdminRole = z.enum(ADMIN_ROLES);
export type AdminRole = z.infer<typeof AdminRole>;

export const MeResponse = z.object({
  /** The token's `sub`; also the `actor` recorded in the settings history. */
  subject: z.string().min(1),
  role: AdminRole,
  /** Stores the token may manage, ascending. */
  storeIds: z.array(StoreId),
});
export type MeResponse = z.infer<typeof MeResponse>;

// ---------------------------------------------------------------------------------------------------
// GET /v1/stores/:id

export const AdminStore = z.object({
  id: StoreId,
  name: z.string().min(1),
  location: LatLng,
  category: OrderType,
  /** From Geo when the store was created; every field null while unknown. */
  region: z.object({
    guCode: z.string().nullable(),
    dongCode: z.string().nullable(),
    /** Human-readable, e.g. `중구 명동`, when known. */
    name: z.string().nullable(),
    regionClass: RegionClass.nullable(),
  }),
});
export type AdminStore = z.infer<typeof AdminStore>;

// ---------------------------------------------------------------------------------------------------
// PUT /v1/stores/:id/settings

const field = StoreSettingsPatch.shape;

/**
 * The PUT body: every editable field, replacing the stored values (a form saves what it shows, so a
 * full replacement cannot half-apply). Field rules are the PATCH schema's own, unwrapped, so the two
 * cannot drift. The rules that need the clock are in settingsPutRules.
 */
export const StoreSettingsPut = z
  .strictObject({
    autoPrediction: field.autoPrediction.unwrap(),
    manualPrepMinutes: field.manualPrepMinutes.unwrap(),
    manualDeliveryMinutes: field.manualDeliveryMinutes.unwrap(),
    minShownMinutes: field.minShownMinutes.unwrap(),
    maxShownMinutes: field.maxShownMinutes.unwrap(),
    busy: field.busy.unwrap(),
  })
  .refine(
    (p) => p.minShownMinutes === null || p.maxShownMinutes === null || p.minShownMinutes <= p.maxShownMinutes,
    { error: 'minimum shown time must not exceed the maximum', path: ['minShownMinutes'] },
  );
/** What the client sends (`busy.until` an RFC 3339 string). */
export type StoreSettingsPutInput = z.input<typeof StoreSettingsPut>;
/** What the server gets after parsing (`busy.until` a Date). */
export type StoreSettingsPut = z.output<typeof StoreSettingsPut>;

/**
 * The checks that need the clock, with the server's messages and paths relative to the body. The server
 * runs them with its own `now` after parsing (and answers 400 VALIDATION_ERROR, paths prefixed `body.`);
 * the browser runs them before sending so the owner sees the same words inline.
 */
export function settingsPutRules(
  put: Pick<StoreSettingsPut, 'busy'>,
  now: Date,
): { path: string; message: string }[] {
  if (put.busy === null) return [];
  const until = put.busy.until.getTime();
  if (until <= now.getTime()) return [{ path: 'busy.until', message: 'busy until must be in the future' }];
  if (until > now.getTime() + BUSY_MAX_HOURS * 3_600_000) {
    return [{ path: 'busy.until', message: `busy mode lasts at most ${BUSY_MAX_HOURS} hours` }];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------
// GET /v1/stores/:id/settings/history

/** Entries per history answer (the newest ones). */
export const SETTINGS_HISTORY_LIMIT = 50;

export const SettingsHistoryItem = z.object({
  id: z.number().int().positive(),
  /** The writer's token subject (MeResponse.subject). */
  actor: z.string(),
  at: z.iso.datetime({ offset: true }),
  before: StoreSettingsBody,
  after: StoreSettingsBody,
});
export type SettingsHistoryItem = z.infer<typeof SettingsHistoryItem>;

export const SettingsHistoryResponse = z.object({
  /** Newest first, at most SETTINGS_HISTORY_LIMIT. */
  items: z.array(SettingsHistoryItem),
});
export type SettingsHistoryResponse = z.infer<typeof SettingsHistoryResponse>;

// ---------------------------------------------------------------------------------------------------
// GET /v1/stores/:id/preview

/** Both or neither: without them the server uses a typical destination for the store (its own choice). */
export const PreviewQuery = z
  .object({ lat: LookupQuery.shape.lat.optional(), lng: LookupQuery.shape.lng.optional() })
  .refine((q) => (q.lat === undefined) === (q.lng === undefined), {
    error: 'give both lat and lng, or neither',
    path: ['lat'],
  });
export type PreviewQuery = z.output<typeof PreviewQuery>;

export const PreviewPoint = z.object({
  /** Hour of the day in Asia/Seoul, 0-23; one point per hour, ascending. */
  hour: z.number().int().min(0).max(23),
  /** What a customer ordering at that hour would be shown, after the owner's clamps and busy mode. */
  etaMinutes: z.number().int(),
  /**
   * The estimate's range, low <= etaMinutes <= high, clamped like the figure: the model's p10-p90, or for
   * manual times and defaults the estimate API's guess spread (-15 % / +25 %), never a zero-width range.
   */
  low: z.number().int(),
  high: z.number().int(),
  source: EstimateSource,
});
export type PreviewPoint = z.infer<typeof PreviewPoint>;

export const PreviewResponse = z.object({
  storeId: StoreId,
  destination: LatLng,
  points: z.array(PreviewPoint).length(24),
});
export type PreviewResponse = z.infer<typeof PreviewResponse>;

// ---------------------------------------------------------------------------------------------------
// GET /v1/stores/:id/accuracy, GET /v1/accuracy (operators)

/**
 * Live accuracy: each delivered order's actual minutes against the estimate the customer was given for it
 * (the earliest precise prediction logged with its `orderId`, normally the checkout's). Computed by the
 * BFF's `events` role from the `predictions` and `orders` topics (docs/adr/0006-event-consumers.md) and
 * kept in Postgres. Figures are over the model's own answer (`quantiles`): `predicted` is its p50,
 * coverage counts actual minutes inside p10-p90; an answer that had no model behind it (manual times,
 * region default) is scored on the shown minutes and shown range instead. Days and hours are Asia/Seoul.
 */

/** `date` is a day in Asia/Seoul, YYYY-MM-DD; default today there. */
export const AccuracyQuery = z.strictObject({
  date: z.iso.date({ error: 'expected a date YYYY-MM-DD' }).optional(),
});
export type AccuracyQuery = z.infer<typeof AccuracyQuery>;

/** Figures over a set of delivered orders; the three figures are null when `orders` is 0. */
export const AccuracyFigures = z.object({
  /** Delivered orders joined to a prediction. */
  orders: z.number().int().nonnegative(),
  /** Mean |predicted - actual| minutes. */
  maeMinutes: z.number().nonnegative().nullable(),
  /** Mean (predicted - actual) minutes: negative means deliveries took longer than promised. */
  biasMinutes: z.number().nullable(),
  /** Share of orders whose actual minutes fell inside the predicted p10-p90, 0-1. */
  coverage: z.number().min(0).max(1).nullable(),
});
export type AccuracyFigures = z.infer<typeof AccuracyFigures>;

/** Points in a day's answer, the newest kept when a store delivered more. */
export const ACCURACY_POINTS_LIMIT = 500;

export const AccuracyPoint = z.object({
  orderId: z.string(),
  /** When it was delivered (orderedAt + actual minutes), RFC 3339. */
  deliveredAt: z.iso.datetime({ offset: true }),
  predictedMinutes: z.number(),
  /** p10-p90 (or the shown range). */
  low: z.number(),
  high: z.number(),
  actualMinutes: z.number(),
  /** `eta-precise@2`, or `manual` / `fallback` for an answer with no model. */
  model: z.string(),
});
export type AccuracyPoint = z.infer<typeof AccuracyPoint>;

export const AccuracyHour = AccuracyFigures.extend({
  /** Hour of the day the orders were placed, Asia/Seoul, 0-23; only hours with orders are listed. */
  hour: z.number().int().min(0).max(23),
});
export type AccuracyHour = z.infer<typeof AccuracyHour>;

export const AccuracyByModel = AccuracyFigures.extend({ model: z.string() });
export type AccuracyByModel = z.infer<typeof AccuracyByModel>;

export const StoreAccuracyResponse = z.object({
  storeId: StoreId,
  date: z.iso.date(),
  timeZone: z.literal('Asia/Seoul'),
  day: AccuracyFigures,
  hours: z.array(AccuracyHour),
  models: z.array(AccuracyByModel),
  /** Oldest first, at most ACCURACY_POINTS_LIMIT (the day's newest). */
  points: z.array(AccuracyPoint),
});
export type StoreAccuracyResponse = z.infer<typeof StoreAccuracyResponse>;

/** Stores per operator answer, those with the most orders that day first. */
export const ACCURACY_STORES_LIMIT = 1_000;

export const AccuracyOverviewResponse = z.object({
  date: z.iso.date(),
  timeZone: z.literal('Asia/Seoul'),
  day: AccuracyFigures,
  models: z.array(AccuracyByModel),
  stores: z.array(AccuracyFigures.extend({ storeId: StoreId })),
});
export type AccuracyOverviewResponse = z.infer<typeof AccuracyOverviewResponse>;
