/**
 * The Geo client: pair features for the precise path, one batch per rough miss set. Every call runs under
 * the request's budget and GEO_TIMEOUT_MS, through a breaker (service-kit's dependency()), so a dead Geo
 * costs a request one fast failure and, after BREAKER_FAILURES of them, nothing at all.
 *
 * The precise path's pairs are coalesced (the kit's coalescer): the pairs asked for in one event-loop
 * turn go to Geo as one `POST /v1/features/pairs`, a lone pair as `POST /v1/features`. A Geo that does not
 * know the pairs route yet (404 during a rolling upgrade) is asked pair by pair instead.
 */
import { GEO_MAX_BATCH, REGION_CLASSES } from '@eta/contracts';
import { UpstreamError, type DeadlineLike, type DependencyMetrics } from '@eta/service-kit';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { GeoPort, PairInfo, RegionInfo } from '../domain/estimate.ts';
import { DependencyFailure, type LatLng } from '../domain/fallback.ts';
import { bffDependency } from './geo-ml-calls.ts';

/**
 * Only the fields the estimate reads, rather than @eta/contracts' full FeaturesResponse: zod then skips
 * the live blocks and names, which matters at thousands of calls per second, and Geo adding fields can
 * never break us. The field meanings are those of the contract.
 *
 * No call sends `live: true`, so Geo reads no live per-dong statistics for the BFF (each live block says
 * `not-requested`): the models take no live input, and a rule on top of them would need measured
 * evidence first (vendor-bff README, "How an estimate is made").
 */
const Region = z.object({
  inServiceArea: z.boolean(),
  dong: z.object({ regionClass: z.enum(REGION_CLASSES) }).optional(),
});
const Pair = z.object({
  distanceM: z.number(),
  roadDistanceM: z.number(),
  origin: Region,
  destination: Region,
});
const Batch = z.object({
  results: z.array(
    z.union([
      z.object({ index: z.number().int(), features: Pair }),
      z.object({ index: z.number().int(), error: z.object({ code: z.string() }) }),
    ]),
  ),
});

interface PairAsk {
  readonly origin: LatLng;
  readonly destination: LatLng;
}

function region(r: z.output<typeof Region>): RegionInfo {
  return {
    inServiceArea: r.inServiceArea,
    regionClass: r.inServiceArea ? (r.dong?.regionClass ?? null) : null,
  };
}

function pairInfo(p: z.output<typeof Pair>): PairInfo {
  return {
    distanceKm: p.distanceM / 1000,
    roadKm: p.roadDistanceM / 1000,
    origin: region(p.origin),
    destination: region(p.destination),
  };
}

const point = (p: LatLng) => ({ lat: p.lat, lng: p.lng });

export interface GeoClient extends GeoPort {
  close(): Promise<void>;
}

export interface GeoClientDeps {
  readonly registry: Registry;
  /** Calls, coalesced pair batches and the breaker (watched as `geo`). */
  readonly metrics: DependencyMetrics;
  readonly onBreakerChange?: (to: string, from: string) => void;
  readonly log?: { warn(obj: object, msg: string): void };
}

export function createGeoClient(config: Config, deps: GeoClientDeps): GeoClient {
  const geo = bffDependency(config, {
    name: 'geo',
    http: {
      origin: config.GEO_URL,
      timeoutMs: config.GEO_TIMEOUT_MS,
      connections: config.GEO_CONNECTIONS,
      metricsRegistry: deps.registry,
    },
    metrics: deps.metrics,
    ...(deps.onBreakerChange ? { onBreakerChange: deps.onBreakerChange } : {}),
    // Geo's readiness: up, geodata loaded, not shutting down. Bounded by GEO_TIMEOUT_MS like any call.
    probe: (http) => http.request({ method: 'GET', path: '/readyz' }),
  });
  const http = geo.http;

  const one = (ask: PairAsk, budget: DeadlineLike) =>
    geo.call('features', budget, async (b) => {
      const res = await http.request({
        method: 'POST',
        path: '/v1/features',
        body: { origin: point(ask.origin), destination: point(ask.destination) },
        deadline: b,
        schema: Pair,
      });
      return pairInfo(res.body);
    });

  /** Each pair in its own call, a failure answered in its place. */
  const eachAlone = (asks: readonly PairAsk[], budget: DeadlineLike) =>
    Promise.all(asks.map((a) => one(a, budget).catch((err: unknown) => toError(err))));

  /** Cleared for good when Geo answers 404 on the pairs route (an older Geo). */
  let pairsRoute = true;
  const pairsCall = (asks: readonly PairAsk[], budget: DeadlineLike) =>
    geo.call('features-pairs', budget, async (b) => {
      const res = await http.request({
        method: 'POST',
        path: '/v1/features/pairs',
        body: { pairs: asks.map((a) => ({ origin: point(a.origin), destination: point(a.destination) })) },
        deadline: b,
        schema: Batch,
      });
      const out = new Array<PairInfo | Error>(asks.length);
      for (const item of res.body.results) {
        if (item.index < 0 || item.index >= out.length) continue;
        out[item.index] =
          'features' in item
            ? pairInfo(item.features)
            : new DependencyFailure(
                'geo',
                'rejected',
                `geo features-pairs: item refused (${item.error.code})`,
              );
      }
      for (let i = 0; i < out.length; i++) {
        out[i] ??= new DependencyFailure('geo', 'bad-body', `geo features-pairs: no result for item ${i}`);
      }
      return out;
    });

  // Batch sizes are counted under `features`, the operation the coalesced requests asked for.
  const pairs = geo.coalescer<PairAsk, PairInfo>('features', {
    maxWeight: Math.min(config.GEO_COALESCE_MAX_PAIRS, GEO_MAX_BATCH),
    holdWhileBusyMs: config.DEPENDENCY_COALESCE_HOLD_MS,
    send: async (asks, budget) => {
      if (asks.length === 1 || !pairsRoute) return eachAlone(asks, budget);
      try {
        return await pairsCall(asks, budget);
      } catch (err) {
        const notFound =
          err instanceof DependencyFailure &&
          err.cause instanceof UpstreamError &&
          err.cause.statusCode === 404;
        if (!notFound) throw err;
        pairsRoute = false;
        deps.log?.warn({ err }, 'geo has no /v1/features/pairs (older version): asking pair by pair');
        return eachAlone(asks, budget);
      }
    },
  });

  return {
    features: (origin: LatLng, destination: LatLng, budget: DeadlineLike) =>
      config.DEPENDENCY_COALESCE
        ? pairs.submit({ origin, destination }, budget)
        : one({ origin, destination }, budget),
    featuresFrom: (origin: LatLng, destinations: readonly LatLng[], budget: DeadlineLike) => {
      if (destinations.length > GEO_MAX_BATCH) {
        // The rough path sends at most 201 points; more is a bug here, not something to split silently.
        throw new RangeError(`geo batch of ${destinations.length} points exceeds ${GEO_MAX_BATCH}`);
      }
      return geo.call('features-batch', budget, async (b) => {
        const res = await http.request({
          method: 'POST',
          path: '/v1/features/batch',
          body: { origin: point(origin), destinations: destinations.map(point) },
          deadline: b,
          schema: Batch,
        });
        const out = new Array<PairInfo | null>(destinations.length).fill(null);
        for (const item of res.body.results) {
          if ('features' in item && item.index >= 0 && item.index < out.length)
            out[item.index] = pairInfo(item.features);
        }
        return out;
      });
    },
    close: () => geo.close(),
  };
}

const toError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));
