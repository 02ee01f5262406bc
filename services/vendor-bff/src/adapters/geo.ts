/**
 * The Geo client: pair features for the precise path, one batch per rough miss set. Every call runs under
 * the request's budget and GEO_TIMEOUT_MS, through a breaker, so a dead Geo costs a request one fast
 * failure and, after BREAKER_FAILURES of them, nothing at all.
 */
import { createBreaker, type CircuitBreaker } from '@eta/cache';
import { GEO_MAX_BATCH, REGION_CLASSES } from '@eta/contracts';
import { createHttpClient, type HttpClient } from '@eta/service-kit';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { GeoPort, PairInfo, RegionInfo } from '../domain/estimate.ts';
import {
  guardedCall,
  type Budget,
  type CallObserver,
  type GuardOptions,
  type LatLng,
} from '../domain/fallback.ts';
import { classifyUpstream } from './geo-ml-calls.ts';

/**
 * Only the fields the estimate reads, rather than @eta/contracts' full FeaturesResponse: zod then skips
 * the live blocks and names, which matters at thousands of calls per second, and Geo adding fields can
 * never break us. The field meanings are those of the contract.
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
  readonly breaker: CircuitBreaker;
  close(): Promise<void>;
}

export interface GeoClientDeps {
  readonly registry: Registry;
  readonly observer: CallObserver;
  readonly onBreakerChange?: (to: string, from: string) => void;
}

export function createGeoClient(config: Config, deps: GeoClientDeps): GeoClient {
  const http: HttpClient = createHttpClient({
    name: 'geo',
    origin: config.GEO_URL,
    timeoutMs: config.GEO_TIMEOUT_MS,
    connections: config.GEO_CONNECTIONS,
    metricsRegistry: deps.registry,
  });
  const breaker = createBreaker({
    failureThreshold: config.BREAKER_FAILURES,
    resetAfterMs: config.BREAKER_RESET_MS,
    ...(deps.onBreakerChange ? { onStateChange: deps.onBreakerChange } : {}),
  });
  const guard: GuardOptions = {
    dependency: 'geo',
    breaker,
    observer: deps.observer,
    minBudgetMs: config.DEPENDENCY_MIN_BUDGET_MS,
    retryConnect: config.DEPENDENCY_RETRY,
    classify: classifyUpstream,
  };

  return {
    breaker,
    features: (origin: LatLng, destination: LatLng, budget: Budget) =>
      guardedCall(guard, 'features', budget, async (b) => {
        const res = await http.request({
          method: 'POST',
          path: '/v1/features',
          body: { origin: point(origin), destination: point(destination) },
          deadline: b,
          schema: Pair,
        });
        return pairInfo(res.body);
      }),
    featuresFrom: (origin: LatLng, destinations: readonly LatLng[], budget: Budget) => {
      if (destinations.length > GEO_MAX_BATCH) {
        // The rough path sends at most 201 points; more is a bug here, not something to split silently.
        throw new RangeError(`geo batch of ${destinations.length} points exceeds ${GEO_MAX_BATCH}`);
      }
      return guardedCall(guard, 'features-batch', budget, async (b) => {
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
    close: () => http.close(),
  };
}
