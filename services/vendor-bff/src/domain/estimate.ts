/**
 * The estimate path: precise (one store, an order placed or about to be) and rough (a store list while a
 * customer browses). Dependencies are ports, so the fallback ladder is tested with in-memory stand-ins and
 * integration tests plug in the real Geo and ML proxy clients.
 *
 * The ladder, so the caller always gets an answer:
 *   Geo features         -> else distance by haversine here, region class from the store's stored region
 *   eta-precise          -> else eta-rough while budget remains -> else the owner's manual times
 *                        -> else a region default
 * `source` names the rung that answered and `degraded` says whether any step fell back.
 */
import type {
  EstimateSource,
  PreciseEstimateRequest,
  PreciseEstimateResponse,
  RoughEstimateItem,
  RoughEstimateRequest,
} from '@eta/contracts';
import type { DeadlineLike } from '@eta/service-kit';
import { outOfServiceArea, storeNotFound } from '../errors.ts';
import {
  manualUsable,
  shownFromManual,
  shownFromModel,
  shownFromRegionDefault,
  type Quantiles,
  type Shown,
} from './estimate-policy.ts';
import { roughCacheKey, roughCell, timeBucket } from './estimate-rough-key.ts';
import {
  budgetWithin,
  DependencyFailure,
  FALLBACK_CIRCUITY,
  haversineKm,
  inSeoulBounds,
  travelMinutes,
  type LatLng,
} from './fallback.ts';
import {
  preciseRow,
  roughRow,
  seoulTime,
  type FeatureRow,
  type ModelName,
  type SeoulTime,
} from './features.ts';
import type { PreciseServed, RoughServed, ServedModel } from './predictions.ts';
import type { CatalogRead, RegionClass, Store, StoreCatalog, StoreSettings, StoreView } from './stores.ts';

// ---------------------------------------------------------------------------------------------------
// Ports

export interface RegionInfo {
  readonly inServiceArea: boolean;
  /** The dong's class; null outside the service area. */
  readonly regionClass: RegionClass | null;
}

/** Geo's pair features, reduced to what the estimate uses. */
export interface PairInfo {
  readonly distanceKm: number;
  readonly roadKm: number;
  readonly origin: RegionInfo;
  readonly destination: RegionInfo;
}

export interface GeoPort {
  /** `POST /v1/features`. Throws DependencyFailure. */
  features(origin: LatLng, destination: LatLng, budget: DeadlineLike): Promise<PairInfo>;
  /**
   * `POST /v1/features/batch` with one shared origin: one answer per destination in order, null for a
   * point Geo refused. Throws DependencyFailure when the call as a whole failed.
   */
  featuresFrom(
    origin: LatLng,
    destinations: readonly LatLng[],
    budget: DeadlineLike,
  ): Promise<(PairInfo | null)[]>;
}

export interface ModelAnswer {
  /** The model version that answered (validated against this code's feature layout). */
  readonly version: string;
  /** One per row sent, in order. */
  readonly rows: readonly Quantiles[];
}

export interface ModelPort {
  /** V2 infer on the ML proxy. Throws DependencyFailure (also for the proxy's heuristic answers). */
  infer(model: ModelName, rows: readonly FeatureRow[], budget: DeadlineLike): Promise<ModelAnswer>;
}

/** What the rough cache keeps per (store, cell, bucket): the model's answer before the owner's settings. */
export interface CachedRough {
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
  /** Model version. */
  readonly v: string;
  /** Estimated minutes on the road, to split the total. */
  readonly t: number;
  /**
   * The row sent to eta-rough, for the prediction log. Optional: entries written by a BFF from before it
   * (Redis is shared across a rolling upgrade) have none, and are logged without features.
   */
  readonly f?: FeatureRow;
}

/** The longest JSON text of a finite double (`-1.2345678901234567e-100`). */
const MAX_NUMBER_JSON = 24;
/** `{"p10":,"p50":,"p90":,"v":"","t":,"f":[]}`: the fixed characters of an entry's JSON. */
const ROUGH_ENTRY_FIXED_JSON = 41;

/**
 * An upper bound on the UTF-8 length of an entry's JSON, from its shape alone: the rough cache's L1 byte
 * budget counts this instead of encoding every entry only to measure it (without Redis nothing else
 * needs the encoding; ~2 % of the BFF's CPU on a rough request of 50 misses).
 */
export function roughEntrySize(value: CachedRough): number {
  // A version is a few ASCII digits in practice; 6 bytes per UTF-16 unit (a `\uXXXX` escape) bounds any.
  let size = ROUGH_ENTRY_FIXED_JSON + 4 * MAX_NUMBER_JSON + 6 * value.v.length;
  // Each element and its comma (a null is shorter than a number).
  if (value.f !== undefined) size += value.f.length * (MAX_NUMBER_JSON + 1);
  return size;
}

/** The part of @eta/cache's TieredCache the rough path uses. */
export interface RoughCachePort {
  getMany(
    keys: readonly string[],
    compute: (missing: readonly string[]) => Promise<ReadonlyMap<string, CachedRough>>,
  ): Promise<Map<string, CachedRough>>;
}

export interface EstimateLog {
  warn(obj: object, msg: string): void;
}

export interface EstimateSettings {
  /** Time for all dependency calls of one estimate, inside the request's own deadline. */
  readonly budgetMs: number;
  /** Kept back from the request's deadline to build and send the answer. */
  readonly reserveMs: number;
  readonly roughResolution: number;
  readonly roughBucketMinutes: number;
}

export interface EstimateDeps {
  readonly catalog: StoreCatalog;
  readonly geo: GeoPort;
  readonly ml: ModelPort;
  readonly roughCache: RoughCachePort;
  readonly settings: EstimateSettings;
  readonly log: EstimateLog;
  readonly now?: () => Date;
}

// ---------------------------------------------------------------------------------------------------

function fallbackPair(
  origin: LatLng,
  destination: LatLng,
  originClass: RegionClass | null,
  destClass: RegionClass | null,
): PairInfo {
  const km = haversineKm(origin, destination);
  return {
    distanceKm: km,
    roadKm: km * FALLBACK_CIRCUITY,
    origin: { inServiceArea: inSeoulBounds(origin), regionClass: originClass },
    destination: { inServiceArea: inSeoulBounds(destination), regionClass: destClass },
  };
}

function dependencyFailed(err: unknown): err is DependencyFailure {
  return err instanceof DependencyFailure;
}

interface Answer {
  readonly shown: Shown;
  readonly source: EstimateSource;
  readonly degraded: boolean;
  readonly modelVersion?: string;
  /** The model the figure was made from, for the prediction log; absent for manual times and defaults. */
  readonly served?: ServedModel;
}

export class EstimateService {
  readonly #d: EstimateDeps;
  readonly #now: () => Date;

  constructor(deps: EstimateDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  async precise(
    req: PreciseEstimateRequest,
    deadline: DeadlineLike | undefined,
  ): Promise<PreciseEstimateResponse> {
    return (await this.preciseServed(req, deadline)).answer;
  }

  /** The precise answer and how it was made (the model, its row and quantiles), for the prediction log. */
  async preciseServed(
    req: PreciseEstimateRequest,
    deadline: DeadlineLike | undefined,
  ): Promise<PreciseServed> {
    const { settings, log } = this.#d;
    const now = this.#now();
    const time = seoulTime(req.orderedAt === undefined ? now : new Date(req.orderedAt));
    const budget = budgetWithin(deadline, settings.budgetMs, settings.reserveMs);
    const dest = req.destination;

    let view: StoreView | undefined;
    try {
      view = await this.#d.catalog.get(req.storeId);
    } catch (err) {
      // Without the catalogue nothing is known of the store; the region default still answers.
      log.warn({ err, storeId: req.storeId }, 'catalogue read failed; answering a region default');
      if (!inSeoulBounds(dest)) throw outOfServiceArea();
      const answer = toPrecise(req.storeId, {
        shown: shownFromRegionDefault(null, undefined, now, 0),
        source: 'fallback',
        degraded: true,
      });
      return { answer, model: null, at: now };
    }
    if (view === undefined) throw storeNotFound(req.storeId);
    const { store } = view;

    let degraded = false;
    let pair: PairInfo;
    try {
      pair = await this.#d.geo.features(store, dest, budget);
    } catch (err) {
      if (!dependencyFailed(err)) throw err;
      degraded = true;
      pair = fallbackPair(store, dest, store.regionClass, store.regionClass);
    }
    if (!pair.destination.inServiceArea) throw outOfServiceArea();

    const answer = await this.#ladder(view, pair, time, now, budget, req, degraded);
    return { answer: toPrecise(req.storeId, answer), model: answer.served ?? null, at: now };
  }

  async #ladder(
    view: StoreView,
    pair: PairInfo,
    time: SeoulTime,
    now: Date,
    budget: DeadlineLike,
    req: PreciseEstimateRequest,
    geoDegraded: boolean,
  ): Promise<Answer> {
    const { store, settings } = view;
    const travel = travelMinutes(pair.roadKm, time.hour);
    if (!settings.autoPrediction) {
      return manualOrDefault(settings, store, now, travel, geoDegraded);
    }
    const rough = {
      distanceKm: pair.distanceKm,
      time,
      regionClass: pair.destination.regionClass ?? store.regionClass,
      orderType: req.order?.type ?? store.category,
    };
    const rider = req.rider;
    // What the caller does not give is unknown (NaN), never a guessed rider: the model was trained with
    // these unknown and answers for the average rider and load, as eta-rough does for the store list.
    const preciseInputs = preciseRow({
      ...rough,
      riderAge: rider?.age ?? null,
      riderRating: rider?.rating ?? null,
      vehicleType: rider?.vehicleType ?? null,
      vehicleCondition: rider?.vehicleCondition ?? null,
      multipleDeliveries: req.order?.multipleDeliveries ?? null,
      festival: req.order?.festival ?? null,
    });
    try {
      const a = await this.#d.ml.infer('eta-precise', [preciseInputs], budget);
      const q = a.rows[0];
      if (q !== undefined) {
        return {
          shown: shownFromModel(q, travel, settings, now),
          source: 'model',
          degraded: geoDegraded,
          modelVersion: a.version,
          served: { model: 'eta-precise', version: a.version, row: preciseInputs, quantiles: q },
        };
      }
    } catch (err) {
      if (!dependencyFailed(err)) throw err;
    }
    try {
      const roughInputs = roughRow(rough);
      const a = await this.#d.ml.infer('eta-rough', [roughInputs], budget);
      const q = a.rows[0];
      if (q !== undefined) {
        return {
          shown: shownFromModel(q, travel, settings, now),
          source: 'rough',
          degraded: true,
          modelVersion: a.version,
          served: { model: 'eta-rough', version: a.version, row: roughInputs, quantiles: q },
        };
      }
    } catch (err) {
      if (!dependencyFailed(err)) throw err;
    }
    return manualOrDefault(settings, store, now, travel, true);
  }

  async rough(req: RoughEstimateRequest, deadline: DeadlineLike | undefined): Promise<RoughEstimateItem[]> {
    return (await this.roughServed(req, deadline)).items;
  }

  /** The rough answers and, per item, the model each was made from, for the prediction log. */
  async roughServed(req: RoughEstimateRequest, deadline: DeadlineLike | undefined): Promise<RoughServed> {
    const { settings: cfg, log } = this.#d;
    const now = this.#now();
    const time = seoulTime(now);
    const dest = req.destination;
    // Cheap and exact enough to refuse another city before any work; Geo refines it on a cache miss.
    if (!inSeoulBounds(dest)) throw outOfServiceArea();
    const budget = budgetWithin(deadline, cfg.budgetMs, cfg.reserveMs);
    const { cell, centre } = roughCell(dest.lat, dest.lng, cfg.roughResolution);
    const bucketOf = (storeId: number) => timeBucket(now, cfg.roughBucketMinutes, storeId);

    let read: CatalogRead;
    try {
      read = await this.#d.catalog.getMany([...new Set(req.storeIds)]);
    } catch (err) {
      log.warn({ err, stores: req.storeIds.length }, 'catalogue read failed; answering region defaults');
      const shown = shownFromRegionDefault(null, undefined, now, 0);
      const items = req.storeIds.map((storeId) =>
        toRough(storeId, { shown, source: 'fallback', degraded: true }),
      );
      return { items, models: items.map(() => null), at: now };
    }

    const storeByKey = new Map<string, Store>();
    for (const view of read.stores.values()) {
      if (view.settings.autoPrediction)
        storeByKey.set(roughCacheKey(view.store.id, cell, bucketOf(view.store.id)), view.store);
    }

    // Answers made while Geo was down are served to this request but never cached: the next request may
    // get the real thing.
    const uncached = new Map<string, CachedRough>();
    let outside = false;
    const compute = async (missing: readonly string[]): Promise<ReadonlyMap<string, CachedRough>> => {
      // Answers go back under the key strings the cache asked with (it keeps those), not rebuilt copies.
      const keys: string[] = [];
      const stores: Store[] = [];
      for (const key of missing) {
        const s = storeByKey.get(key);
        if (s === undefined) continue;
        keys.push(key);
        stores.push(s);
      }
      if (stores.length === 0) return new Map();
      let pairs: (PairInfo | null)[];
      let geoDown = false;
      try {
        // One call for everything: the shared end is the cell centre, the first other end is the exact
        // destination (its service-area answer) and the rest are the stores. Distances are symmetric.
        const all = await this.#d.geo.featuresFrom(
          centre,
          [dest, ...stores.map((s) => ({ lat: s.lat, lng: s.lng }))],
          budget,
        );
        const exact = all[0];
        if (exact !== null && exact !== undefined && !exact.destination.inServiceArea) {
          outside = true;
          return new Map();
        }
        pairs = all.slice(1);
      } catch (err) {
        if (!dependencyFailed(err)) throw err;
        geoDown = true;
        pairs = stores.map((s) => fallbackPair(centre, s, s.regionClass, s.regionClass));
      }
      const rows: FeatureRow[] = [];
      const travel: number[] = [];
      stores.forEach((s, i) => {
        const p = pairs[i] ?? fallbackPair(centre, s, s.regionClass, s.regionClass);
        rows.push(
          roughRow({
            distanceKm: p.distanceKm,
            time,
            // The region of the delivery: the cell centre's dong (the origin of these pairs).
            regionClass: geoDown ? s.regionClass : p.origin.regionClass,
            orderType: s.category,
          }),
        );
        travel.push(travelMinutes(p.roadKm, time.hour));
      });
      let answer: ModelAnswer;
      try {
        answer = await this.#d.ml.infer('eta-rough', rows, budget);
      } catch (err) {
        if (!dependencyFailed(err)) throw err;
        return new Map();
      }
      const out = new Map<string, CachedRough>();
      answer.rows.forEach((q, i) => {
        const key = keys[i];
        if (key === undefined) return;
        const row = rows[i];
        const value: CachedRough = {
          p10: q.p10,
          p50: q.p50,
          p90: q.p90,
          v: answer.version,
          t: travel[i] ?? 0,
          ...(row !== undefined ? { f: row } : {}),
        };
        (geoDown ? uncached : out).set(key, value);
      });
      return out;
    };

    let cached: Map<string, CachedRough>;
    try {
      cached =
        storeByKey.size === 0 ? new Map() : await this.#d.roughCache.getMany([...storeByKey.keys()], compute);
    } catch (err) {
      // The cache handles Redis itself; reaching here is a bug, and the caller still gets manual times.
      log.warn({ err }, 'rough cache failed; answering manual times');
      cached = new Map();
    }
    if (outside) throw outOfServiceArea();

    const models: (ServedModel | null)[] = [];
    const items = req.storeIds.map((storeId, i): RoughEstimateItem => {
      models.push(null);
      const view = read.stores.get(storeId);
      if (view === undefined) {
        const e = storeNotFound(storeId, `body.storeIds.${i}`);
        return { storeId, error: { code: e.code, message: e.message } };
      }
      const { store, settings } = view;
      if (!settings.autoPrediction) {
        return toRough(
          storeId,
          manualOrDefault(settings, store, now, settings.manualDeliveryMinutes, read.stale),
        );
      }
      const key = roughCacheKey(storeId, cell, bucketOf(storeId));
      const hit = cached.get(key);
      const fresh = hit ?? uncached.get(key);
      if (fresh !== undefined) {
        models[i] = { model: 'eta-rough', version: fresh.v, row: fresh.f ?? null, quantiles: fresh };
        return toRough(storeId, {
          shown: shownFromModel(fresh, fresh.t, settings, now),
          source: 'rough',
          degraded: read.stale || hit === undefined,
          modelVersion: fresh.v,
        });
      }
      return toRough(storeId, manualOrDefault(settings, store, now, settings.manualDeliveryMinutes, true));
    });
    return { items, models, at: now };
  }
}

function manualOrDefault(
  settings: StoreSettings,
  store: Store,
  now: Date,
  travel: number,
  degraded: boolean,
): Answer {
  if (manualUsable(settings)) return { shown: shownFromManual(settings, now), source: 'manual', degraded };
  return {
    shown: shownFromRegionDefault(store.regionClass, settings, now, travel),
    source: 'fallback',
    degraded: true,
  };
}

function toPrecise(storeId: number, a: Answer): PreciseEstimateResponse {
  return {
    storeId,
    etaMinutes: a.shown.etaMinutes,
    range: a.shown.range,
    source: a.source,
    ...(a.modelVersion !== undefined ? { modelVersion: a.modelVersion } : {}),
    degraded: a.degraded,
    components: a.shown.components,
  };
}

function toRough(storeId: number, a: Answer): RoughEstimateItem {
  return {
    storeId,
    etaMinutes: a.shown.etaMinutes,
    range: a.shown.range,
    source: a.source,
    ...(a.modelVersion !== undefined ? { modelVersion: a.modelVersion } : {}),
    degraded: a.degraded,
  };
}
