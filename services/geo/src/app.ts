import { performance } from 'node:perf_hooks';
import { buildService, type BuildServiceOptions, type ServiceApp } from '@eta/service-kit';
import pkg from '../package.json' with { type: 'json' };
import { createLiveStore } from './adapters/live-store.ts';
import { createLiveRedis } from './adapters/redis.ts';
import type { Config } from './config.ts';
import { loadGeoIndex, type GeoIndex } from './domain/index.ts';
import { registerFeatureRoutes } from './http/features.ts';
import { registerLiveRoutes } from './http/live.ts';
import { registerRegionRoutes } from './http/regions.ts';

export const SERVICE_NAME = 'geo';

export interface AppDeps {
  readonly logStream?: BuildServiceOptions['logStream'];
  /** An index already loaded (tests share one); otherwise GEO_DATA_DIR is loaded here. */
  readonly index?: GeoIndex;
  /** Wall clock for live-statistics ages (tests). */
  readonly now?: () => number;
}

export type GeoApp = ServiceApp & { readonly geoIndex: GeoIndex };

/** 500 points of `{"lat":37.123456,"lng":127.123456}` are about 20 KiB; anything near this is not a batch. */
const BODY_LIMIT_BYTES = 256 * 1024;

/**
 * Builds the Geo service; never listens. The geodata is loaded before this resolves, so a listening Geo
 * always has it and a missing or corrupt data file stops the process before it can turn ready
 * (GeoDataError propagates to main.ts). Redis, when configured, is optional at every moment: without it
 * the live block says why it is empty and Geo stays ready.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<GeoApp> {
  const app = await buildService({
    name: SERVICE_NAME,
    config,
    version: pkg.version,
    bodyLimit: BODY_LIMIT_BYTES,
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
    openapi: {
      description:
        'Seoul geodata in memory: the gu, administrative dong and H3 cell of a point, and the features of ' +
        'a store-customer pair (distances, regions) for the delivery-time models. Live per-dong statistics ' +
        'are read only when asked for: `live: true` in a features body, or ' +
        '`GET /v1/regions/dongs/{code}/live`; otherwise each live block says `not-requested`. ' +
        'Called inside the cluster (vendor-bff, operators); no credentials.',
    },
  });

  try {
    const index = deps.index ?? (await loadIndex(app, config.GEO_DATA_DIR));
    // Always true once buildApp has resolved; registered so /readyz names what readiness means here.
    app.readiness.add('geodata', () => {
      if (index.stats().dongs === 0) throw new Error('geodata has no dongs');
    });
    app.decorate('geoIndex', index);

    const liveRedis = await createLiveRedis(config, app.log);
    const live = createLiveStore({
      redis: liveRedis?.redis,
      namespace: config.GEO_LIVE_KEY_NAMESPACE,
      ttlMs: config.CACHE_TTL_MS,
      staleMs: config.CACHE_STALE_MS,
      jitter: config.CACHE_TTL_JITTER,
      l1MaxEntries: config.CACHE_L1_MAX_ENTRIES,
      l1MaxBytes: config.CACHE_L1_MAX_BYTES,
      breakerFailures: config.CACHE_BREAKER_FAILURES,
      breakerResetMs: config.CACHE_BREAKER_RESET_MS,
      maxAgeSeconds: config.GEO_LIVE_MAX_AGE_SECONDS,
      log: app.log,
      registry: app.metricsRegistry,
      ...(deps.now ? { now: deps.now } : {}),
    });
    app.closeStep('live dong statistics', async () => {
      await live.close();
      await liveRedis?.close();
    });

    registerRegionRoutes(app, { index });
    registerFeatureRoutes(app, { index, live });
    registerLiveRoutes(app, { index, live });
    return app as GeoApp;
  } catch (err) {
    await app.close();
    throw err;
  }
}

async function loadIndex(app: ServiceApp, dataDir: string): Promise<GeoIndex> {
  const started = performance.now();
  const index = await loadGeoIndex(dataDir);
  app.log.info(
    { dataDir, loadMs: Math.round(performance.now() - started), ...index.stats() },
    'geodata loaded',
  );
  return index;
}
