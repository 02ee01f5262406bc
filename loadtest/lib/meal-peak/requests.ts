/**
 * The meal-peak request mix, built per slot:
 * - `rough`: a store-list page, `pageSize` distinct stores drawn by popularity, one destination near a hot spot
 *   (POST /v1/estimates/rough);
 * - `detail`: the store detail page, one store by popularity, no rider (POST /v1/estimates/precise);
 * - `checkout`: the same with the order and the assigned rider;
 * - `admin`: a store owner opening one of their stores' settings (GET /v1/stores/{id}/settings, owner JWT).
 * Precise requests carry `orderedAt` at the simulated Seoul time of the request, so the model's hour follows
 * the compressed day; the rough route takes no time and answers for the server's now.
 */
import { adminPaths, ESTIMATE_SOURCES } from '@eta/contracts';
import type { MixEntry, RequestSpec } from '../mix.ts';
import type { HotSpotSampler } from './hotspots.ts';
import type { MixEntryName } from './options.ts';
import { ROUTES, type Route } from './routes.ts';
import type { StorePopularity } from './zipf.ts';

export interface Owner {
  readonly headers: Readonly<Record<string, string>>;
  readonly storeIds: readonly number[];
}

export interface MixDeps {
  readonly serviceHeaders: Readonly<Record<string, string>>;
  /** Store owners for the admin traffic; none leaves it out. */
  readonly owners: readonly Owner[];
  readonly stores: StorePopularity;
  readonly spots: HotSpotSampler;
  readonly pageSize: number;
  readonly weights: Readonly<Record<MixEntryName, number>>;
}

export const ROUTE_OF_ENTRY: Readonly<Record<MixEntryName, Route>> = {
  rough: 'rough',
  detail: 'precise',
  checkout: 'precise',
  admin: 'admin',
};

/** Route code per request index: ROUTES.indexOf(route). */
export type RouteLog = number[];

/** `YYYY-MM-DD` of `at` in Asia/Seoul. */
export function seoulDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Seoul',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** RFC 3339 in Seoul time (+09:00, no daylight saving) of minute `minute` (may be fractional) of `date`. */
export function seoulTime(date: string, minute: number): string {
  const s = Math.min(24 * 3600 - 1, Math.floor(minute * 60));
  const hh = String(Math.floor(s / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return `${date}T${hh}:${mm}:${ss}+09:00`;
}

const VEHICLES = [
  'motorcycle',
  'motorcycle',
  'motorcycle',
  'scooter',
  'electric_scooter',
  'bicycle',
] as const;
const ORDER_TYPES = ['meal', 'meal', 'meal', 'snack', 'drinks', 'buffet'] as const;

/**
 * The mix of one slot. `slot.count` requests start at Seoul minute `slot.startMinute` and spread over
 * `slot.minutes`; each request's route is written to `routes[i]` when it is built, so the per-request
 * records (which carry the index, not the entry) can be told apart by route.
 */
export function slotMix(
  deps: MixDeps,
  slot: {
    readonly date: string;
    readonly startMinute: number;
    readonly minutes: number;
    readonly count: number;
  },
  routes: RouteLog,
): MixEntry[] {
  const headers = deps.serviceHeaders;
  const orderedAt = (i: number) =>
    seoulTime(
      slot.date,
      slot.startMinute + (slot.minutes * Math.min(i, slot.count)) / Math.max(1, slot.count),
    );
  const code = (r: Route) => ROUTES.indexOf(r);
  const entries: Record<MixEntryName, (ctx: { i: number; random: () => number }) => RequestSpec> = {
    rough: ({ i, random }) => {
      routes[i] = code('rough');
      const d = deps.spots.sample(random);
      return {
        method: 'POST',
        path: '/v1/estimates/rough',
        headers,
        body: JSON.stringify({
          destination: { lat: d.lat, lng: d.lng },
          storeIds: deps.stores.pickDistinct(random, deps.pageSize),
        }),
      };
    },
    detail: ({ i, random }) => {
      routes[i] = code('precise');
      const d = deps.spots.sample(random);
      return {
        method: 'POST',
        path: '/v1/estimates/precise',
        headers,
        body: JSON.stringify({
          storeId: deps.stores.pick(random),
          destination: { lat: d.lat, lng: d.lng },
          orderedAt: orderedAt(i),
        }),
      };
    },
    checkout: ({ i, random }) => {
      routes[i] = code('precise');
      const d = deps.spots.sample(random);
      return {
        method: 'POST',
        path: '/v1/estimates/precise',
        headers,
        body: JSON.stringify({
          storeId: deps.stores.pick(random),
          destination: { lat: d.lat, lng: d.lng },
          orderedAt: orderedAt(i),
          order: {
            type: ORDER_TYPES[Math.floor(random() * ORDER_TYPES.length)],
            multipleDeliveries: Math.floor(random() * 3),
            festival: false,
          },
          rider: {
            vehicleType: VEHICLES[Math.floor(random() * VEHICLES.length)],
            vehicleCondition: Math.floor(random() * 4),
            age: 20 + Math.floor(random() * 20),
            rating: Math.round((4 + random()) * 10) / 10,
          },
        }),
      };
    },
    admin: ({ i, random }) => {
      routes[i] = code('admin');
      const owner = deps.owners[Math.floor(random() * deps.owners.length)]!;
      const id = owner.storeIds[Math.floor(random() * owner.storeIds.length)]!;
      return { method: 'GET', path: adminPaths.settings(id), headers: owner.headers };
    },
  };
  return (Object.keys(entries) as MixEntryName[])
    .map((name) => ({
      name,
      weight: name === 'admin' && deps.owners.length === 0 ? 0 : deps.weights[name],
      build: entries[name],
    }))
    .filter((e) => e.weight > 0);
}

/** What the answers said, per route: how many, how many degraded, and by source. */
export interface AnswerTally {
  answers: number;
  degraded: number;
  readonly bySource: Record<string, number>;
}

export type AnswerTallies = Record<Route, AnswerTally>;

export function newTallies(): AnswerTallies {
  return Object.fromEntries(
    ROUTES.map((r) => [r, { answers: 0, degraded: 0, bySource: {} }]),
  ) as AnswerTallies;
}

const SOURCES = new Set<string>(ESTIMATE_SOURCES);

type EstimateLike = { source?: unknown; degraded?: unknown };

const isEstimate = (e: EstimateLike): e is { source: string; degraded: boolean } =>
  typeof e.source === 'string' && SOURCES.has(e.source) && typeof e.degraded === 'boolean';

function count(t: AnswerTally, e: { source: string; degraded: boolean }): void {
  t.answers += 1;
  if (e.degraded) t.degraded += 1;
  t.bySource[e.source] = (t.bySource[e.source] ?? 0) + 1;
}

/**
 * The check of every 2xx answer: an estimate answer with a known source (a degraded one included: it is
 * an answer, counted for the degraded-share SLO), a store list with one estimate per requested store and
 * none refused, settings with their fields. Counts into `tallies`.
 */
export function answerCheck(tallies: AnswerTallies, pageSize: number) {
  return (res: { body: string }, req: RequestSpec): boolean => {
    // A failed answer is an error and counts nothing else.
    if (req.path === '/v1/estimates/precise') {
      const body = JSON.parse(res.body) as EstimateLike;
      if (!isEstimate(body)) return false;
      count(tallies.precise, body);
      return true;
    }
    if (req.path === '/v1/estimates/rough') {
      const body = JSON.parse(res.body) as { estimates?: EstimateLike[] };
      if (!Array.isArray(body.estimates) || body.estimates.length !== pageSize) return false;
      if (!body.estimates.every(isEstimate)) return false;
      for (const e of body.estimates) count(tallies.rough, e as { source: string; degraded: boolean });
      return true;
    }
    const body = JSON.parse(res.body) as { autoPrediction?: unknown };
    if (typeof body.autoPrediction !== 'boolean') return false;
    tallies.admin.answers += 1;
    return true;
  };
}
