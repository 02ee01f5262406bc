import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { TieredCache } from '@eta/cache';
import { fromEnv } from '@eta/cache';
import { closeRedis, createCacheRedis } from '@eta/cache';
import type { EventBus } from '@eta/events';
import { buildService, type BuildServiceOptions, type ServiceApp } from '@eta/service-kit';
import {
  createDbStoreSource,
  createStoreViewCache,
  listStoreIds,
  openDatabase,
  type Database,
} from './adapters/db/index.ts';
import { openInProcessBus } from './adapters/events/bus.ts';
import { openEventConsumers } from './adapters/events/consumers.ts';
import { openOrderIngest } from './adapters/events/order-ingest.ts';
import { openPredictionLog } from './adapters/events/prediction-log.ts';
import { openTrainingShipper } from './adapters/events/training-shipper.ts';
import { createGeoClient } from './adapters/geo.ts';
import { createMlClient } from './adapters/ml.ts';
import { createTokenVerifier, DEV_ISSUER } from './auth/jwt.ts';
import { serviceAuthHook } from './auth/hooks.ts';
import { createRateLimiter } from './auth/rate-limit.ts';
import { createServiceAuthenticator } from './auth/service-credential.ts';
import type { Config, Role } from './config.ts';
import { AdminService } from './domain/admin-service.ts';
import { createStoreCatalog } from './domain/catalog.ts';
import { warmUp } from './domain/warmup.ts';
import { EstimateService, roughEntrySize, type CachedRough, type RoughCachePort } from './domain/estimate.ts';
import type { ModelName } from './domain/features.ts';
import type { StoreCatalog } from './domain/stores.ts';
import { accuracyOf, adminStoreOf, registerAdminRoutes, seedRegionNames } from './http/admin.ts';
import { registerAdminWeb } from './http/admin-web.ts';
import { registerPreciseRoutes, registerRoughRoutes } from './http/estimates.ts';
import { registerOrderEventRoutes } from './http/events.ts';
import { createEstimateMetrics } from './http/metrics.ts';
import { estimateSecurity, openApiOf } from './http/openapi.ts';

export const SERVICE_NAME = 'vendor-bff';

export interface AppDeps {
  readonly logStream?: BuildServiceOptions['logStream'];
  /**
   * The store catalogue. Tests of the estimate logic pass an in-memory one; without it the app opens the
   * database (DATABASE_URL, or embedded PGlite seeded with the demo stores) and reads it through the cache.
   */
  readonly catalog?: StoreCatalog;
  /** With `catalog`, the database the admin API writes settings to (ROLE admin/all needs both or neither). */
  readonly db?: Database;
  /** The image's version (APP_VERSION), for logs and the OpenAPI document; the package's when omitted. */
  readonly version?: string;
  /** Wall clock for estimates (busy-mode expiry, time features); tests move it. */
  readonly now?: () => Date;
  /**
   * The in-process event bus the prediction log publishes to when KAFKA_BROKERS is unset (tests, and
   * consumers run in this process subscribe to it); without it the log has a private one.
   */
  readonly eventBus?: EventBus;
}

/** This package's version: the OpenAPI document's and the logs' when no APP_VERSION is given. */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** Which route groups a role serves. `all` is every role in one process (local runs, tests). */
export function routesOf(role: Role): { precise: boolean; rough: boolean; admin: boolean; events: boolean } {
  return {
    precise: role === 'precise' || role === 'all',
    rough: role === 'rough' || role === 'all',
    admin: role === 'admin' || role === 'all',
    events: role === 'events' || role === 'all',
  };
}

/**
 * Whether this process runs the event consumers (EVENT_CONSUMERS): ROLE=events does unless `off`; ROLE=all
 * on `auto` only on the in-process bus (the local run: with Kafka, the events Deployment consumes, and a
 * test's BFF must not join the cluster's consumer group).
 */
export function consumersOn(config: Pick<Config, 'ROLE' | 'EVENT_CONSUMERS' | 'KAFKA_BROKERS'>): boolean {
  if (config.EVENT_CONSUMERS === 'off') return false;
  if (config.ROLE === 'events') return true;
  if (config.ROLE !== 'all') return false;
  return config.EVENT_CONSUMERS === 'on' || config.KAFKA_BROKERS === undefined;
}

/**
 * The models a role calls: eta-rough is also the precise path's stand-in when eta-precise fails, and the
 * admin preview is the precise estimate.
 */
export function modelsOf(role: Role): ModelName[] {
  const r = routesOf(role);
  if (r.precise || r.admin) return ['eta-precise', 'eta-rough'];
  return r.rough ? ['eta-rough'] : [];
}

/**
 * Builds the BFF for its ROLE: each role registers only its own routes (here, explicitly; no autoload) and
 * adds readiness checks only for what it uses. Never listens.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<ServiceApp> {
  const role = config.ROLE;
  // Conventions: one name everywhere, roles add -<role>.
  const name = role === 'all' ? SERVICE_NAME : `${SERVICE_NAME}-${role}`;
  const app = await buildService({
    name,
    config,
    version: deps.version ?? packageVersion(),
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
    openapi: openApiOf(config),
  });
  const routes = routesOf(role);
  // One in-process bus per process when there is no Kafka: the prediction log, the order-events ingest and
  // the consumers meet on it (ROLE=all locally). Closed last, after everything that publishes or consumes.
  let bus = deps.eventBus;
  if (bus === undefined && config.KAFKA_BROKERS === undefined && routes.events) {
    const own = openInProcessBus({ registry: app.metricsRegistry, log: app.log });
    bus = own;
    app.closeStep('in-process event bus', () => own.close());
  }

  // One verifier for both credentials: owners' and operators' JWTs (admin) and service JWTs (estimates).
  const verifier = createTokenVerifier(config);
  if (config.AUTH_DEV_KEYS) {
    app.log.warn(
      { issuer: DEV_ISSUER },
      'AUTH_DEV_KEYS=true: tokens signed with the COMMITTED development key are accepted; never in production',
    );
  }

  let sharedDb: Database | undefined;
  if (routes.precise || routes.rough || routes.admin) {
    // One data layer per process: the admin API's writes invalidate the very catalogue the estimates read.
    const data =
      deps.catalog !== undefined ? { catalog: deps.catalog, db: deps.db } : await openCatalog(app, config);
    const catalog = data.catalog;
    const metrics = createEstimateMetrics(app.metricsRegistry, role);
    const geo = createGeoClient(config, {
      registry: app.metricsRegistry,
      metrics: metrics.dependencies,
      onBreakerChange: (to, from) => app.log.warn({ dependency: 'geo', to, from }, 'breaker changed state'),
      log: app.log,
    });
    const ml = createMlClient(config, modelsOf(role), {
      registry: app.metricsRegistry,
      metrics: metrics.dependencies,
      log: app.log,
      onBreakerChange: (model, to, from) =>
        app.log.warn({ dependency: 'ml-proxy', model, to, from }, 'breaker changed state'),
    });

    // Ready once the layouts were checked (whatever the outcome), and never while a served model
    // disagrees with the vectors built here. Geo and an unreachable ML proxy do not hold readiness: the
    // fallback ladder answers without them, and an unready BFF would answer nobody.
    // Not for the admin role: its preview falls back like any estimate, and settings must stay editable.
    if (routes.precise || routes.rough) {
      app.readiness.add('model-layouts', async () => {
        await ml.firstCheck;
        const bad = [...ml.layouts()].filter(([, s]) => s.state === 'mismatch');
        if (bad.length > 0) throw new Error(`model layout mismatch: ${bad.map(([m]) => m).join(', ')}`);
      });
    }

    let roughCache: TieredCache<CachedRough> | undefined;
    if (routes.rough) {
      roughCache = fromEnv<CachedRough>(config, {
        name: 'rough-estimates',
        // The key carries the time bucket, so an entry is never asked for after its bucket: no stale grace.
        ttlMs: config.ROUGH_TIME_BUCKET_MINUTES * 60_000,
        staleMs: 0,
        l1: {
          maxEntries: config.ROUGH_CACHE_MAX_ENTRIES,
          maxBytes: config.ROUGH_CACHE_MAX_BYTES,
          sizeOf: roughEntrySize,
        },
        registry: app.metricsRegistry,
        log: app.log,
      });
      const cache = roughCache;
      app.readiness.add('rough-cache', () => cache.ready());
    }
    const noCache: RoughCachePort = { getMany: async () => new Map() };

    const estimateDeps = {
      catalog,
      geo,
      ml,
      roughCache: roughCache ?? noCache,
      settings: {
        budgetMs: config.ESTIMATE_BUDGET_MS,
        reserveMs: config.ESTIMATE_RESERVE_MS,
        roughResolution: config.ROUGH_H3_RESOLUTION,
        roughBucketMinutes: config.ROUGH_TIME_BUCKET_MINUTES,
      },
      log: app.log,
    };
    const service = new EstimateService({ ...estimateDeps, ...(deps.now ? { now: deps.now } : {}) });

    // Every estimate answered is logged to `predictions` after it was sent (README "Prediction log").
    // Closed after the server, so the last answers' events are still offered and sent (bounded).
    const predictions =
      (routes.precise || routes.rough) && config.PREDICTION_LOG
        ? openPredictionLog(config, {
            registry: app.metricsRegistry,
            log: app.log,
            clientId: name,
            ...(bus !== undefined ? { bus } : {}),
          })
        : undefined;

    // One step each, so a drain that times out names the one it waited for.
    app.closeStep('geo client', () => geo.close());
    app.closeStep('ml client', () => ml.close());
    if (roughCache !== undefined) app.closeStep('rough cache', () => roughCache.close());
    if (predictions !== undefined) app.closeStep('prediction log', () => predictions.close());

    if (routes.precise || routes.rough) {
      const db = data.db;
      app.warmUps.push({
        name: 'catalogue and estimate path',
        run: async (deadline) => {
          const outcome = await warmUp(
            {
              catalog,
              ...(db !== undefined
                ? { listStoreIds: (after: number, limit: number) => listStoreIds(db, after, limit) }
                : {}),
              precise: (req, budget) => service.precise(req, budget),
              modelsChecked: ml.firstCheck,
            },
            {
              maxStores: config.WARMUP_MAX_STORES,
              // The rough role has no eta-precise model to warm; its stores are read all the same.
              estimates: routes.precise ? config.WARMUP_ESTIMATES : 0,
              concurrency: 16,
              estimateBudgetMs: config.ESTIMATE_BUDGET_MS,
            },
            deadline,
          );
          app.log.info(outcome, 'warm-up: stores cached and estimates run');
        },
      });
    }

    if (routes.precise || routes.rough) {
      const perSecond = config.SERVICE_RATE_LIMIT_PER_SECOND;
      const authenticate = serviceAuthHook(
        serviceCredential(config, verifier),
        perSecond > 0
          ? createRateLimiter({
              perMinute: perSecond * 60,
              burst: config.SERVICE_RATE_LIMIT_BURST ?? perSecond,
            })
          : undefined,
      );
      const security = estimateSecurity(config);
      const routeDeps = {
        service,
        metrics,
        authenticate,
        security,
        ...(predictions !== undefined ? { predictions: predictions.log } : {}),
      };
      if (routes.precise) registerPreciseRoutes(app, routeDeps);
      if (routes.rough) registerRoughRoutes(app, routeDeps);
    }

    // Tests of the estimate path inject an in-memory catalogue without a database: no admin API then.
    if (routes.admin && data.db !== undefined) {
      if (!verifier.configured) {
        app.log.warn(
          {},
          'admin API: no token issuer configured (AUTH_* or AUTH_DEV_KEYS); every request is a 401',
        );
      }
      registerAdminRoutes(app, {
        service: new AdminService({
          store: adminStoreOf(data.db),
          accuracy: accuracyOf(data.db),
          catalog,
          preview: estimateDeps,
          regionNames: seedRegionNames,
          ...(deps.now ? { now: deps.now } : {}),
        }),
        verifier,
        limiter: createRateLimiter({
          perMinute: config.ADMIN_RATE_LIMIT_PER_MINUTE,
          burst: config.ADMIN_RATE_LIMIT_BURST,
        }),
      });
      registerAdminWeb(app, { dir: config.ADMIN_WEB_DIR });
    }
    sharedDb = data.db;
  }

  if (routes.events) {
    await addEventsRole(app, config, { verifier, name, bus, db: sharedDb ?? deps.db, now: deps.now });
  }

  return app;
}

/** The estimate API's service credential (static tokens, service JWTs, a mesh identity): also the ingest's. */
function serviceCredential(config: Config, verifier: ReturnType<typeof createTokenVerifier>) {
  return createServiceAuthenticator({
    tokens: config.SERVICE_TOKENS ?? [],
    verifier,
    meshHeader: config.TRUST_MESH_IDENTITY_HEADER,
  });
}

/**
 * The `events` role: the order-events ingest, and (consumersOn) the consumers of `orders` and
 * `predictions` with the live-statistics writer. Its database is the process's (ROLE=all) or its own.
 */
async function addEventsRole(
  app: ServiceApp,
  config: Config,
  opts: {
    verifier: ReturnType<typeof createTokenVerifier>;
    name: string;
    bus: EventBus | undefined;
    db: Database | undefined;
    now: (() => Date) | undefined;
  },
): Promise<void> {
  const ingest = openOrderIngest(config, {
    log: app.log,
    clientId: opts.name,
    ...(opts.bus !== undefined ? { bus: opts.bus } : {}),
  });
  registerOrderEventRoutes(app, {
    ingest,
    authenticate: serviceAuthHook(serviceCredential(config, opts.verifier)),
    security: estimateSecurity(config),
  });
  app.closeStep('order-event ingest', () => ingest.close());
  if (!consumersOn(config)) return;

  let db = opts.db;
  // ROLE=all shares the process's database; tests that inject a catalogue without one get no consumers.
  if (db === undefined && config.ROLE !== 'events') {
    app.log.info({}, 'event consumers off: this process has no database (a catalogue was injected)');
    return;
  }
  if (db === undefined) {
    const own = await openDatabase(config, app.log, { applicationName: `${SERVICE_NAME}-events` });
    db = own;
    app.closeStep('events database', () => own.close());
  }
  const redis =
    config.REDIS_URL !== undefined
      ? createCacheRedis(config.REDIS_URL, 'commands', {
          name: 'live-stats',
          timeoutMs: 2_000,
          connectTimeoutMs: config.CACHE_CONNECT_TIMEOUT_MS,
          log: app.log,
        })
      : undefined;
  const consumers = openEventConsumers(config, {
    db,
    registry: app.metricsRegistry,
    log: app.log,
    clientId: opts.name,
    ...(opts.bus !== undefined ? { bus: opts.bus } : {}),
    ...(redis !== undefined ? { redis } : {}),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
  });
  app.readiness.add('event-consumers', () => {
    if (!consumers.running()) throw new Error('the event consumers have not joined their group yet');
  });
  // Training rows to BigQuery (BIGQUERY_PROJECT; docs/adr/0007-training-rows.md). No readiness check: a
  // BigQuery outage leaves the rows waiting in Postgres and the pod serving. The client is loaded only
  // then: the other roles, and an events role without BigQuery, never pay for it at start.
  const bq = config.BIGQUERY_PROJECT !== undefined ? await import('./adapters/bigquery.ts') : undefined;
  const bigQuery = bq?.bigQueryTarget(config);
  const shipper =
    bq !== undefined && bigQuery !== undefined
      ? openTrainingShipper({
          db,
          sink: bq.createTrainingRowsSink(bigQuery, app.log),
          registry: app.metricsRegistry,
          log: app.log,
          holder: `${opts.name}-${randomUUID()}`,
          batch: config.TRAINING_ROWS_SHIP_BATCH,
          intervalMs: config.TRAINING_ROWS_SHIP_INTERVAL_MS,
          maxBackoffMs: config.TRAINING_ROWS_SHIP_MAX_BACKOFF_MS,
          // Renewed before every batch, whose calls end within two deadlines; a pod that died without
          // letting it go (SIGKILL, a lost node) holds the others off this long.
          leaseMs: Math.max(10_000, 3 * config.TRAINING_ROWS_SHIP_TIMEOUT_MS),
          ...(opts.now !== undefined ? { now: opts.now } : {}),
        })
      : undefined;
  // Joined once the server listens; the consumers are stopped before the bus and the database close.
  app.addHook('onReady', async () => {
    void consumers.start();
    shipper?.start();
  });
  // Steps run last-registered first: the consumers stop, then the shipper, then their Redis closes.
  if (redis !== undefined) app.closeStep('live statistics redis', () => closeRedis(redis));
  if (shipper !== undefined) app.closeStep('analytics shipper', () => shipper.close());
  app.closeStep('event consumers', () => consumers.close());
}

/** The store catalogue's TTL on embedded PGlite (a safety net only: see openCatalog). */
const EMBEDDED_CATALOG_TTL_MS = 24 * 60 * 60_000;

/** Database -> store source -> tiered cache -> catalogue, each closed in onClose in reverse order. */
async function openCatalog(
  app: ServiceApp,
  config: Config,
): Promise<{ catalog: StoreCatalog; db: Database }> {
  const db: Database = await openDatabase(config, app.log, { applicationName: SERVICE_NAME });
  const cache = createStoreViewCache(config, {
    registry: app.metricsRegistry,
    log: app.log,
    // Embedded PGlite belongs to this process: nothing else can write to it, and this process's own
    // writes (the admin API) invalidate the entries they change. A CACHE_TTL_MS refresh would only read
    // the same rows again, in WASM on the thread that answers: ~1 s of its CPU for the 5,000 seeded
    // stores every 30 s (rough ×50 at 200/s for 60 s as shipped: p99 19-33 ms in four runs, 11-15 ms in
    // two with CACHE_TTL_MS=300000; 2026-12-07, docs/benchmarks.md).
    ...(db.kind === 'pglite' ? { ttlMs: EMBEDDED_CATALOG_TTL_MS } : {}),
  });
  const catalog = createStoreCatalog({
    source: createDbStoreSource(db),
    cache,
    log: app.log,
    distributed: config.REDIS_URL !== undefined,
  });
  // No database check: after start the catalogue answers from its cache and last-known copies while
  // Postgres is away, and an estimate pod taken out of the Service would answer nobody.
  app.readiness.add('catalog', () => catalog.ready());
  // Steps run last-registered first: the cache closes, then the database under it.
  app.closeStep('database', () => db.close());
  app.closeStep('store cache', () => cache.close());
  return { catalog, db };
}
