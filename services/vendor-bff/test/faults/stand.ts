/**
 * The fault stand: real Geo and ML proxy processes, the real vendor-bff process (ROLE=all), and a private
 * Toxiproxy server with one proxy on every hop the BFF makes: Geo, the ML proxy, Redis (the shared test
 * server, under a key prefix of this stand's own) and Postgres (the shared test server, in a schema of this
 * stand's own). The BFF's GEO_URL, ML_PROXY_URL, REDIS_URL and DATABASE_URL point at the proxies, so a
 * toxic on a proxy is a network fault on that hop, nothing else changes.
 *
 * The BFF runs with its shipped defaults for everything under test (timeouts, budgets, breakers,
 * retries, coalescing, cache tiers) unless a test file states otherwise, and those keys are NOT set here:
 * a key set in the environment of the test run reaches the BFF, which is how a protection is switched off
 * to see a scenario fail (BREAKER_FAILURES=1000, DEPENDENCY_RETRY=..., CACHE_L2_TIMEOUT_MS=10000).
 */
import { sampleValue, sumSamples } from '@eta/service-kit';
import { spawnService, suiteService, type SpawnedService } from '@eta/testing';
import {
  hostPort,
  startToxiproxy,
  throughProxy,
  type ToxicProxy,
  type ToxiproxyServer,
} from '@eta/testing/toxiproxy';
import { runMigrations, seedStores } from '../../src/adapters/db/index.ts';
import { devToken } from '../auth/tokens.ts';
import { databaseUrl, postgresSchema, redisUrl, silentLog, type SchemaDb } from '../db/support.ts';
import { NO_EVENT_LOOP_SHEDDING } from '../support/app-env.ts';

export type Hop = 'geo' | 'ml' | 'redis' | 'postgres';
export const HOPS: readonly Hop[] = ['geo', 'ml', 'redis', 'postgres'];

export const SERVICE_TOKEN = 'faults-integration-token-0123456789abcdef';

/** Seeded stores 1..STORES; stores 1..MANUAL_STORES answer the owner's manual times (10 + 15 = 25 min). */
export const STORES = 200;
export const MANUAL_STORES = 5;
export const MANUAL_MINUTES = 25;

/** Inside Seoul: Gangnam station and Seoul City Hall. */
export const GANGNAM = { lat: 37.4979, lng: 127.0276 } as const;
export const CITY_HALL = { lat: 37.5663, lng: 126.9779 } as const;

export interface Answer {
  readonly status: number;
  /** Parsed JSON (undefined when the body was not JSON). */
  readonly body: unknown;
  /** Wall time of the call, ms. */
  readonly ms: number;
}

export interface PreciseBody {
  readonly storeId: number;
  readonly etaMinutes: number;
  readonly source: string;
  readonly degraded: boolean;
}

export interface RoughItem {
  readonly storeId: number;
  readonly source?: string;
  readonly degraded?: boolean;
  readonly error?: { readonly code: string };
}

export interface Stand {
  readonly tp: ToxiproxyServer;
  readonly hops: Readonly<Record<Hop, ToxicProxy>>;
  readonly geo: SpawnedService;
  readonly ml: SpawnedService;
  readonly bff: SpawnedService;
  readonly pg: SchemaDb;
  /** Redis key prefix of this stand's caches. */
  readonly prefix: string;
  /** POST /v1/estimates/precise; `timeoutMs` is sent as x-request-timeout-ms. */
  precise(storeId: number, opts?: { destination?: LatLng; timeoutMs?: number }): Promise<Answer>;
  rough(storeIds: readonly number[], opts?: { destination?: LatLng; timeoutMs?: number }): Promise<Answer>;
  /** A store owner's (dev-key) token for the admin API. */
  ownerToken(stores: readonly number[]): Promise<string>;
  /** One scrape of a process's /metrics (the BFF by default). */
  metrics(of?: SpawnedService): Promise<Metrics>;
  /** Every proxy enabled and every toxic gone; then waits for every breaker of the BFF to be closed again. */
  heal(): Promise<void>;
  stop(): Promise<void>;
}

export interface LatLng {
  readonly lat: number;
  readonly lng: number;
}

/** A Prometheus text scrape, summed over the series that carry the given labels. */
export class Metrics {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  /** Sum of `name{...}` over every series whose labels include all of `labels`. */
  sum(name: string, labels: Readonly<Record<string, string>> = {}): number {
    return sumSamples(this.text, name, labels);
  }

  /** `bff_breaker_state{dependency}` (0 closed, 1 half-open, 2 open); undefined when not exported. */
  breaker(dependency: string): number | undefined {
    return sampleValue(this.text, 'bff_breaker_state', { dependency });
  }

  /** `cache_breaker_state{cache}`. */
  cacheBreaker(cache: string): number | undefined {
    return sampleValue(this.text, 'cache_breaker_state', { cache });
  }
}

export const BFF_BREAKERS = ['geo', 'ml-proxy/eta-precise', 'ml-proxy/eta-rough'] as const;
export const CACHES = ['stores', 'rough-estimates'] as const;

export interface StandOptions {
  /** Tag for the schema and the key prefix. */
  readonly tag: string;
  /** Added to the BFF's environment (only what a test file states in its header). */
  readonly bffEnv?: Readonly<Record<string, string>>;
}

/** Starts everything; on a failure stops what it had started and rethrows. */
export async function startStand(opts: StandOptions): Promise<Stand> {
  const started: { stop(): Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    const tp = await startToxiproxy();
    started.push(tp);
    const pg = await postgresSchema(opts.tag);
    started.push({ stop: () => pg.drop() });
    await runMigrations(pg.db, silentLog);
    await seedStores(pg.db, silentLog, { count: STORES });
    // Stores 1..MANUAL_STORES: the owner's manual times, so an answer shows which settings it was made from.
    await pg.db.query(
      `UPDATE store_settings SET auto_prediction = (store_id > $1), manual_prep_minutes = 10,
         manual_delivery_minutes = 15, min_shown_minutes = NULL, max_shown_minutes = NULL,
         busy_extra_minutes = NULL, busy_until = NULL`,
      [MANUAL_STORES],
    );

    const service = (name: string, env: Record<string, string | undefined>) =>
      spawnService({
        ...suiteService(name),
        name,
        readyTimeoutMs: 120_000,
        stopTimeoutMs: 20_000,
        // No event-loop shedding in any of the three: a machine busy with other test files must not turn
        // into shed requests (503) here (the ML proxy shows event-loop delay right after loading its
        // models, integration/processes.ts); these tests are about the dependencies, admission control
        // has its own.
        env: { SHUTDOWN_DELAY_MS: '0', LOG_LEVEL: 'warn', ...NO_EVENT_LOOP_SHEDDING, ...env },
      });
    const [geo, ml] = await Promise.all([
      service('geo', { REDIS_URL: undefined }),
      service('ml-proxy', { MODEL_POLL_INTERVAL_SECONDS: '0', WARMUP_RUNS: '2' }),
    ]);
    started.push(geo, ml);

    const hops: Record<Hop, ToxicProxy> = {
      geo: await tp.createProxy('geo', hostPort(geo.origin)),
      ml: await tp.createProxy('ml', hostPort(ml.origin)),
      redis: await tp.createProxy('redis', hostPort(redisUrl())),
      postgres: await tp.createProxy('postgres', hostPort(databaseUrl())),
    };
    const dbUrl = new URL(throughProxy(databaseUrl(), hops.postgres));
    dbUrl.searchParams.set('options', `-c search_path=${pg.schema}`);
    const prefix = `${pg.schema}:`;
    const bff = await service('vendor-bff', {
      ROLE: 'all',
      GEO_URL: `http://${hops.geo.listen}`,
      ML_PROXY_URL: `http://${hops.ml.listen}`,
      DATABASE_URL: dbUrl.toString(),
      DATABASE_POOL_MAX: '4',
      MIGRATE_ON_START: 'false',
      REDIS_URL: throughProxy(redisUrl(), hops.redis),
      CACHE_KEY_PREFIX: prefix,
      SERVICE_TOKENS: `faults:${SERVICE_TOKEN}`,
      AUTH_DEV_KEYS: 'true',
      // Layouts are checked at start; a re-check every 30 s would add ML proxy traffic the counts here
      // do not expect.
      MODEL_LAYOUT_REFRESH_SECONDS: '3600',
      WARMUP_ESTIMATES: '50',
      ...opts.bffEnv,
    });
    started.push(bff);

    const post = async (path: string, body: unknown, timeoutMs?: number): Promise<Answer> => {
      const t0 = performance.now();
      const res = await fetch(`${bff.origin}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${SERVICE_TOKEN}`,
          ...(timeoutMs !== undefined ? { 'x-request-timeout-ms': String(timeoutMs) } : {}),
        },
        body: JSON.stringify(body),
        // A backstop against a hang only; every answer is due long before it.
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, body: parsed, ms: performance.now() - t0 };
    };
    const metrics = async (of: SpawnedService = bff) => {
      const res = await fetch(`${of.origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
      return new Metrics(await res.text());
    };

    return {
      tp,
      hops,
      geo,
      ml,
      bff,
      pg,
      prefix,
      precise: (storeId, o = {}) =>
        post('/v1/estimates/precise', { storeId, destination: o.destination ?? GANGNAM }, o.timeoutMs),
      rough: (storeIds, o = {}) =>
        post('/v1/estimates/rough', { storeIds, destination: o.destination ?? GANGNAM }, o.timeoutMs),
      ownerToken: (stores) => devToken({ role: 'owner', stores: [...stores] }, 'faults-owner'),
      metrics,
      async heal() {
        await tp.reset();
        await waitFor(
          'every breaker of the BFF closed',
          async () => {
            const m = await metrics();
            return (
              BFF_BREAKERS.every((b) => m.breaker(b) === 0) && CACHES.every((c) => m.cacheBreaker(c) === 0)
            );
          },
          RECOVERY_MS,
        );
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * Recoveries are found by background probes that back off up to 4x their reset time (BFF 1 s, so ~5 s;
 * the caches' L2 5 s, so ~25 s) plus jitter: waited for as a condition, with room for a busy machine.
 */
export const RECOVERY_MS = 60_000;

/** Polls `condition` every 50 ms until it holds; throws after `timeoutMs`. Returns how long it took. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** p50 / p99 / max of durations, rounded to 0.1 ms, for the figures a test prints. */
export function spread(ms: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN) * 10) / 10;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}
