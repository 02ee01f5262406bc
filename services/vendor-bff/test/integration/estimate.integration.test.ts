// The estimate path against the real chain: Geo and the ML proxy run as their own processes (port 0), the
// stores come through the real data layer (Postgres when DATABASE_URL is set, embedded PGlite otherwise),
// and faults are injected by a pass-through proxy in front of the real ML proxy (delay, refuse, rewrite the
// metadata) or by pointing at a port nothing listens on. No part of Geo or the ML proxy is imitated.
//
// Budgets and timeouts are generous wherever a test expects an answer from a dependency: these tests are
// about which rung of the ladder answers, and on a busy machine a 1 s timeout can turn a model answer into a
// degraded one. A test about a deadline makes the dependency never answer, so only the deadline decides.
import { once } from 'node:events';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer } from 'node:net';
import { cacheEnv, silentLogger } from '@eta/cache';
import { parseEnv } from '@eta/config';
import { sumSamples, type ServiceApp } from '@eta/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  createDbStoreSource,
  createStoreViewCache,
  databaseEnv,
  insertSeedStores,
  runMigrations,
  type Database,
} from '../../src/adapters/db/index.ts';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { createStoreCatalog } from '../../src/domain/catalog.ts';
import type { SettingsValues } from '../../src/domain/settings.ts';
import type { Store, StoreCatalog } from '../../src/domain/stores.ts';
import { BUSAN, GANGNAM, GWANGMYEONG, store } from '../domain/estimate-fixtures.ts';
import { appEnv, GENEROUS_TIMEOUTS } from '../support/app-env.ts';
import { scrapeMetrics } from '../support/metrics.ts';
import { SERVED_MODEL_VERSION, startService, type Proc } from './processes.ts';

// ---------------------------------------------------------------------------------------------------
// Processes

type Fault =
  | { readonly kind: 'pass' }
  /** Never answers matching requests (they are held until the proxy closes): a dependency that is late
   * by any amount, so a deadline test does not depend on how late "a bit late" is on a busy machine. */
  | { readonly kind: 'hang'; readonly path: RegExp }
  /** Drops the connection of every request, like a crashed process behind a live address. */
  | { readonly kind: 'refuse' }
  /** Serves the model's metadata with its first two features swapped (a model with another layout). */
  | { readonly kind: 'swap-features'; readonly model: string }
  /** Answers 404 to matching requests, like an older version without that route. */
  | { readonly kind: 'not-found'; readonly path: RegExp };

interface FaultProxy {
  readonly url: string;
  fault: Fault;
  close(): Promise<void>;
}

async function faultProxy(target: string): Promise<FaultProxy> {
  const to = new URL(target);
  const state: { fault: Fault } = { fault: { kind: 'pass' } };
  const server: Server = createHttpServer((req, res) => {
    const fault = state.fault;
    if (fault.kind === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'not-found' && fault.path.test(req.url ?? '')) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'NOT_FOUND', message: `Route POST:${req.url} not found` }));
      return;
    }
    const forward = () => {
      const up = httpRequest(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const swap =
            fault.kind === 'swap-features' &&
            req.url?.startsWith(`/v2/models/${fault.model}`) &&
            req.method === 'GET';
          if (!swap) {
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            upRes.pipe(res);
            return;
          }
          let text = '';
          upRes.on('data', (c: Buffer) => (text += c.toString()));
          upRes.on('end', () => {
            const body = JSON.parse(text) as { parameters: { features: unknown[] } };
            const f = body.parameters.features;
            [f[0], f[1]] = [f[1], f[0]];
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify(body));
          });
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    if (fault.kind === 'hang' && fault.path.test(req.url ?? '')) return;
    forward();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get fault() {
      return state.fault;
    },
    set fault(f: Fault) {
      state.fault = f;
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

async function deadUrl(): Promise<string> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const a = s.address();
  s.close();
  await once(s, 'close');
  if (a === null || typeof a === 'string') throw new Error('no port');
  return `http://127.0.0.1:${a.port}`;
}

// ---------------------------------------------------------------------------------------------------
// Stores through the real data layer

const T0 = new Date(Date.now() + 60_000);
/** The address of the bug report (Mapo) and stores 1-12 km from it in different dongs and categories. */
const MAPO = { lat: 37.5572, lng: 126.9245 } as const;
const UNKNOWN_RIDER_STORES: readonly Store[] = [
  store(21, { lat: 37.5563, lng: 126.9236, category: 'meal', regionClass: 'metropolitan' }),
  store(22, { lat: 37.5485, lng: 126.9139, category: 'snack', regionClass: 'metropolitan' }),
  store(23, { lat: 37.5663, lng: 126.9779, category: 'drinks', regionClass: 'metropolitan' }),
  store(24, { lat: 37.5796, lng: 126.895, category: 'meal', regionClass: 'urban' }),
  store(25, { lat: 37.527, lng: 126.896, category: 'buffet', regionClass: 'urban' }),
  store(26, { lat: 37.5172, lng: 127.0473, category: 'meal', regionClass: 'metropolitan' }),
];
const defaults: SettingsValues = {
  autoPrediction: true,
  manualPrepMinutes: 10,
  manualDeliveryMinutes: 15,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
};
const STORES: readonly { store: Store; settings: SettingsValues }[] = [
  { store: store(1), settings: defaults },
  {
    store: store(2),
    settings: { ...defaults, autoPrediction: false, manualPrepMinutes: 12, manualDeliveryMinutes: 18 },
  },
  {
    store: store(3),
    settings: {
      ...defaults,
      autoPrediction: false,
      busy: { extraMinutes: 20, until: new Date(T0.getTime() + 30 * 60_000) },
    },
  },
  { store: store(4), settings: { ...defaults, maxShownMinutes: 10 } },
  { store: store(5), settings: { ...defaults, minShownMinutes: 90 } },
  { store: store(6, { lat: 37.5172, lng: 127.0473, regionClass: 'metropolitan' }), settings: defaults },
  ...UNKNOWN_RIDER_STORES.map((s) => ({ store: s, settings: defaults })),
];

let db: Database;
let catalog: StoreCatalog;
let closeCatalog: () => Promise<void>;
let schema = '';

async function openStores(): Promise<void> {
  const dbConfig = parseEnv(databaseEnv, process.env);
  schema = `bff_estimate_${process.pid}_${Date.now()}`;
  db = await createDatabase(dbConfig, silentLogger, { searchPath: schema });
  await runMigrations(db, silentLogger);
  await insertSeedStores(db, STORES);
  const cache = createStoreViewCache(parseEnv(cacheEnv, {}));
  catalog = createStoreCatalog({
    source: createDbStoreSource(db),
    cache,
    log: silentLogger,
    distributed: false,
  });
  closeCatalog = async () => {
    await cache.close();
    if (db.kind === 'postgres') await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.close();
  };
}

// ---------------------------------------------------------------------------------------------------

let geo: Proc;
let ml: Proc;
let proxy: FaultProxy;
let dead = '';
let clock = T0;
const apps: ServiceApp[] = [];

beforeAll(async () => {
  [geo, ml] = await Promise.all([
    startService('geo'),
    startService('ml-proxy', { MODEL_POLL_INTERVAL_SECONDS: '0', WARMUP_RUNS: '2' }),
    openStores(),
  ]).then(([g, m]) => [g, m] as const);
  proxy = await faultProxy(ml.url);
  dead = await deadUrl();
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await proxy?.close();
  await Promise.all([geo?.stop(), ml?.stop()]);
  await closeCatalog?.();
});

/** The estimate API needs a service credential (auth/service-credential.ts). */
const SERVICE_TOKEN = 'estimate-integration-shared-token-0123456789';
const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };

async function app(env: Record<string, string> = {}): Promise<ServiceApp> {
  const config = parseEnv(
    configSchema,
    appEnv({
      ROLE: 'all',
      GEO_URL: geo.url,
      ML_PROXY_URL: proxy.url,
      ...GENEROUS_TIMEOUTS,
      BREAKER_FAILURES: '1000',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      ...env,
    }),
  );
  const a = await buildApp(config, { catalog, now: () => clock });
  apps.push(a);
  const ready = await a.inject({ method: 'GET', url: '/readyz' });
  if (env['EXPECT_UNREADY'] === undefined) expect(ready.statusCode).toBe(200);
  return a;
}

const precise = (a: ServiceApp, body: Record<string, unknown>) =>
  a.inject({ method: 'POST', url: '/v1/estimates/precise', headers: auth, payload: body });
const rough = (a: ServiceApp, body: Record<string, unknown>) =>
  a.inject({ method: 'POST', url: '/v1/estimates/rough', headers: auth, payload: body });

/** Sum of a counter or histogram count over the series whose labels include every given one (0: none). */
const metric = async (a: ServiceApp, name: string, labels: Record<string, string>): Promise<number> =>
  sumSamples(await scrapeMetrics(a), name, labels);

interface Estimate {
  storeId: number;
  etaMinutes: number;
  range: { low: number; high: number };
  source: string;
  modelVersion?: string;
  degraded: boolean;
  components?: { prepMinutes: number; travelMinutes: number };
}

/**
 * 19:30 in Seoul on the latest Friday before today: a dinner-peak order time that stays inside the window
 * the contract accepts (30 days back to 7 ahead), whenever the test runs.
 */
const ORDERED_AT = (() => {
  const seoul = new Date(Date.now() + 9 * 3_600_000);
  const back = (seoul.getUTCDay() - 5 + 7) % 7 || 7;
  const day = new Date(Date.UTC(seoul.getUTCFullYear(), seoul.getUTCMonth(), seoul.getUTCDate() - back));
  return `${day.toISOString().slice(0, 10)}T19:30:00+09:00`;
})();

describe('precise, everything up', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    proxy.fault = { kind: 'pass' };
    a = await app();
  });

  it('auto prediction: the eta-precise model, not degraded', async () => {
    const res = await precise(a, {
      storeId: 1,
      destination: GANGNAM,
      orderedAt: ORDERED_AT,
      rider: { vehicleType: 'motorcycle', vehicleCondition: 2, age: 30, rating: 4.7 },
    });
    expect(res.statusCode).toBe(200);
    const e = res.json<Estimate>();
    expect(e).toMatchObject({
      storeId: 1,
      source: 'model',
      modelVersion: SERVED_MODEL_VERSION,
      degraded: false,
    });
    expect(e.range.low).toBeLessThanOrEqual(e.etaMinutes);
    expect(e.etaMinutes).toBeLessThanOrEqual(e.range.high);
    expect(e.components!.prepMinutes + e.components!.travelMinutes).toBe(e.etaMinutes);
  });

  it('the answer depends on the rider (the vector reaches the model in the right columns)', async () => {
    const body = (vehicleCondition: number) => ({
      storeId: 1,
      destination: GANGNAM,
      orderedAt: ORDERED_AT,
      rider: { vehicleType: 'motorcycle', vehicleCondition },
    });
    const worst = (await precise(a, body(0))).json<Estimate>();
    const best = (await precise(a, body(2))).json<Estimate>();
    // Condition 0 is the slowest in the training data.
    expect(worst.etaMinutes).toBeGreaterThan(best.etaMinutes);
  });

  it('auto prediction off: the manual times, not degraded', async () => {
    const e = (await precise(a, { storeId: 2, destination: GANGNAM })).json<Estimate>();
    expect(e).toMatchObject({
      source: 'manual',
      degraded: false,
      etaMinutes: 30,
      components: { prepMinutes: 12, travelMinutes: 18 },
    });
    expect(e.modelVersion).toBeUndefined();
  });

  it('busy mode adds its minutes until it expires by itself', async () => {
    clock = T0;
    expect((await precise(a, { storeId: 3, destination: GANGNAM })).json<Estimate>().etaMinutes).toBe(45);
    clock = new Date(T0.getTime() + 31 * 60_000);
    try {
      expect((await precise(a, { storeId: 3, destination: GANGNAM })).json<Estimate>().etaMinutes).toBe(25);
    } finally {
      clock = T0;
    }
  });

  it('clamps the model answer to the owner max and min', async () => {
    const max = (await precise(a, { storeId: 4, destination: GANGNAM })).json<Estimate>();
    expect(max).toMatchObject({ source: 'model', etaMinutes: 10, range: { high: 10 } });
    const min = (await precise(a, { storeId: 5, destination: GANGNAM })).json<Estimate>();
    expect(min).toMatchObject({ source: 'model', etaMinutes: 90, range: { low: 90 } });
  });

  it('unknown store: 404 STORE_NOT_FOUND', async () => {
    const res = await precise(a, { storeId: 424242, destination: GANGNAM });
    expect([res.statusCode, res.json<{ code: string }>().code]).toEqual([404, 'STORE_NOT_FOUND']);
  });

  it("outside Seoul by Geo's polygons (Gwangmyeong, inside the bounding box): 422", async () => {
    const res = await precise(a, { storeId: 1, destination: GWANGMYEONG });
    expect([res.statusCode, res.json<{ code: string }>().code]).toEqual([422, 'OUT_OF_SERVICE_AREA']);
    const r = await rough(a, { storeIds: [1], destination: GWANGMYEONG });
    expect(r.statusCode).toBe(422);
  });
});

describe('concurrent precise requests (coalesced calls)', () => {
  // Stores 1, 6 and 21-26 (model answers) and 2 (manual), to a spread of Seoul addresses and riders, plus
  // one Gwangmyeong address: what each request gets must not depend on who it shared a call with.
  const bodies = [1, 6, 21, 22, 23, 24, 25, 26, 2, 1].map((storeId, i) => ({
    storeId,
    destination: i === 9 ? GWANGMYEONG : { lat: 37.49 + 0.011 * i, lng: 126.91 + 0.017 * ((i * 7) % 10) },
    orderedAt: ORDERED_AT,
    rider: { vehicleType: 'motorcycle', vehicleCondition: i % 3, age: 25 + i, rating: 4.0 + i / 20 },
  }));
  let together: ServiceApp;
  let alone: ServiceApp;
  beforeAll(async () => {
    proxy.fault = { kind: 'pass' };
    [together, alone] = await Promise.all([app(), app({ DEPENDENCY_COALESCE: 'false' })]);
    // Each store read once first, so the concurrent requests below all reach Geo in the same turn.
    for (const b of bodies) await precise(together, { storeId: b.storeId, destination: GANGNAM });
  });

  it('share one Geo call and one eta-precise call, and each gets the answer it gets alone', async () => {
    const count = async (a: ServiceApp, operation: string) =>
      metric(a, 'bff_dependency_duration_seconds_count', { operation, outcome: 'ok' });
    const before = {
      pairs: await count(together, 'features-pairs'),
      single: await count(together, 'features'),
      model: await count(together, 'eta-precise'),
    };

    const concurrent = await Promise.all(bodies.map((b) => precise(together, b)));
    const oneByOne = [];
    for (const b of bodies) oneByOne.push(await precise(alone, b));

    expect(concurrent.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 422]);
    expect(concurrent.map((r) => r.json())).toEqual(oneByOne.map((r) => r.json()));
    const answers = concurrent.slice(0, 8).map((r) => r.json<Estimate>());
    expect(answers.every((e) => e.source === 'model' && !e.degraded)).toBe(true);
    // Different riders and distances: the rows were not mixed up (a shifted split would repeat answers).
    expect(new Set(answers.map((e) => e.etaMinutes)).size).toBeGreaterThan(3);

    // Ten pairs in one Geo call; the eight auto-prediction stores' rows in one infer call.
    expect(await count(together, 'features-pairs')).toBe(before.pairs + 1);
    expect(await count(together, 'features')).toBe(before.single);
    expect(await count(together, 'eta-precise')).toBe(before.model + 1);
    const shared = async (operation: string) => ({
      calls: await metric(together, 'bff_coalesced_requests_count', { operation }),
      requests: await metric(together, 'bff_coalesced_requests_sum', { operation }),
    });
    expect(
      (await shared('eta-precise')).requests - (await shared('eta-precise')).calls,
    ).toBeGreaterThanOrEqual(7);
  });

  it('a Geo without the pairs route (an older version) is asked pair by pair, once it said so', async () => {
    const oldGeo = await faultProxy(geo.url);
    oldGeo.fault = { kind: 'not-found', path: /^\/v1\/features\/pairs/ };
    try {
      const a = await app({ GEO_URL: oldGeo.url });
      for (const b of bodies) await precise(a, { storeId: b.storeId, destination: GANGNAM });
      const count = (operation: string, outcome: string) =>
        metric(a, 'bff_dependency_duration_seconds_count', { dependency: 'geo', operation, outcome });
      const singles = await count('features', 'ok');
      for (let round = 0; round < 2; round++) {
        const res = await Promise.all(bodies.slice(0, 8).map((b) => precise(a, b)));
        expect(res.map((r) => r.json<Estimate>()).every((e) => e.source === 'model' && !e.degraded)).toBe(
          true,
        );
      }
      // Refused once; every pair of both rounds then asked on its own.
      expect(await count('features-pairs', 'rejected')).toBe(1);
      expect(await count('features', 'ok')).toBe(singles + 16);
    } finally {
      await oldGeo.close();
    }
  });

  it('without coalescing, each request makes its own calls', async () => {
    const before = await metric(alone, 'bff_dependency_duration_seconds_count', { operation: 'features' });
    await Promise.all(bodies.slice(0, 4).map((b) => precise(alone, b)));
    expect(await metric(alone, 'bff_dependency_duration_seconds_count', { operation: 'features' })).toBe(
      before + 4,
    );
    expect(await metric(alone, 'bff_coalesced_requests_count', {})).toBe(0);
  });
});

describe('rough, everything up', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    proxy.fault = { kind: 'pass' };
    a = await app();
  });

  it('answers in order with unknown ids in place, from one Geo batch and one eta-rough call, then from the cache', async () => {
    const body = { destination: { lat: 37.5012, lng: 127.0396 }, storeIds: [1, 777, 2, 6, 1] };
    const first = await rough(a, body);
    expect(first.statusCode).toBe(200);
    const items = first.json<{ estimates: (Estimate | { storeId: number; error: { code: string } })[] }>()
      .estimates;
    expect(items.map((e) => e.storeId)).toEqual([1, 777, 2, 6, 1]);
    expect(items[1]).toEqual({
      storeId: 777,
      error: { code: 'STORE_NOT_FOUND', message: 'no store with id 777' },
    });
    expect(items[0]).toMatchObject({ source: 'rough', modelVersion: SERVED_MODEL_VERSION, degraded: false });
    expect(items[2]).toMatchObject({ source: 'manual', degraded: false, etaMinutes: 30 });
    expect(items[3]).toMatchObject({ source: 'rough', degraded: false });
    expect(items[4]).toEqual(items[0]);
    const calls = async () => ({
      geo: await metric(a, 'bff_dependency_duration_seconds_count', { operation: 'features-batch' }),
      ml: await metric(a, 'bff_dependency_duration_seconds_count', { operation: 'eta-rough' }),
    });
    expect(await calls()).toEqual({ geo: 1, ml: 1 });

    // Another address in the same H3 cell (resolution 8) and time bucket: answered from the cache.
    const again = await rough(a, { ...body, destination: { lat: 37.5013, lng: 127.0397 } });
    expect(again.json<{ estimates: unknown[] }>().estimates).toEqual(items);
    expect(await calls()).toEqual({ geo: 1, ml: 1 });
  });

  it('Busan: 422 before any call', async () => {
    const res = await rough(a, { storeIds: [1], destination: BUSAN });
    expect([res.statusCode, res.json<{ code: string }>().code]).toEqual([422, 'OUT_OF_SERVICE_AREA']);
  });
});

describe('Geo down', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    proxy.fault = { kind: 'pass' };
    a = await app({ GEO_URL: dead, BREAKER_FAILURES: '2', DEPENDENCY_RETRY: 'false' });
  });

  it('precise: still the model, on distance computed here, degraded', async () => {
    const e = (await precise(a, { storeId: 1, destination: GANGNAM })).json<Estimate>();
    expect(e).toMatchObject({ source: 'model', modelVersion: SERVED_MODEL_VERSION, degraded: true });
  });

  it('refuses Busan by the bounding box', async () => {
    expect((await precise(a, { storeId: 1, destination: BUSAN })).statusCode).toBe(422);
  });

  it('rough: the model, degraded, and nothing cached from the degraded answer', async () => {
    const body = { destination: { lat: 37.55, lng: 126.92 }, storeIds: [1, 6] };
    const items = (await rough(a, body)).json<{ estimates: Estimate[] }>().estimates;
    expect(items.map((e) => [e.source, e.degraded])).toEqual([
      ['rough', true],
      ['rough', true],
    ]);
    const before = await metric(a, 'bff_dependency_duration_seconds_count', { operation: 'eta-rough' });
    await rough(a, body);
    expect(await metric(a, 'bff_dependency_duration_seconds_count', { operation: 'eta-rough' })).toBe(
      before + 1,
    );
  });

  it('after two failures the breaker opens and Geo is not called any more', async () => {
    for (let i = 0; i < 3; i++) await precise(a, { storeId: 1, destination: GANGNAM });
    const failures = async (kind: string) =>
      metric(a, 'bff_dependency_failures_total', { dependency: 'geo', kind });
    expect(await failures('connect')).toBe(2);
    expect(await failures('breaker-open')).toBeGreaterThanOrEqual(3);
  });
});

describe('ML proxy failing', () => {
  it('slow eta-precise: the eta-rough model answers within the budget, degraded', async () => {
    proxy.fault = { kind: 'hang', path: /eta-precise\/infer/ };
    try {
      // eta-precise never answers: its call ends at ML_TIMEOUT_MS, and eta-rough (same timeout) then has
      // 2 s of the 10 s budget to answer, not the 150 ms it once had.
      const a = await app({ ML_TIMEOUT_MS: '2000' });
      const e = (await precise(a, { storeId: 1, destination: GANGNAM })).json<Estimate>();
      expect(e).toMatchObject({ source: 'rough', modelVersion: SERVED_MODEL_VERSION, degraded: true });
      expect(
        await metric(a, 'bff_dependency_failures_total', { operation: 'eta-precise', kind: 'timeout' }),
      ).toBe(1);
    } finally {
      proxy.fault = { kind: 'pass' };
    }
  });

  it('gone after start: manual times for precise and rough, degraded', async () => {
    proxy.fault = { kind: 'pass' };
    const a = await app();
    proxy.fault = { kind: 'refuse' };
    try {
      const e = (await precise(a, { storeId: 1, destination: GANGNAM })).json<Estimate>();
      expect(e).toMatchObject({ source: 'manual', degraded: true, etaMinutes: 25 });
      const r = (await rough(a, { destination: { lat: 37.6, lng: 127.0 }, storeIds: [1] })).json<{
        estimates: Estimate[];
      }>();
      expect(r.estimates[0]).toMatchObject({ source: 'manual', degraded: true });
    } finally {
      proxy.fault = { kind: 'pass' };
    }
  });

  it('down at start: ready and answering manual times, then the model once the proxy is back', async () => {
    proxy.fault = { kind: 'refuse' };
    try {
      const a = await app();
      const before = (await precise(a, { storeId: 1, destination: GANGNAM })).json<Estimate>();
      expect(before).toMatchObject({ source: 'manual', degraded: true });
      proxy.fault = { kind: 'pass' };
      // A request at least a second after the failed check starts a new one; answers switch once it passed.
      // Waited for as a condition (not a count of tries after a fixed sleep), with a cap no busy machine nears.
      await expect
        .poll(async () => (await precise(a, { storeId: 1, destination: GANGNAM })).json<Estimate>().source, {
          timeout: 30_000,
          interval: 100,
        })
        .toBe('model');
    } finally {
      proxy.fault = { kind: 'pass' };
    }
  });

  it('budget too small for the ML proxy: answered anyway, from the ladder', async () => {
    proxy.fault = { kind: 'hang', path: /infer/ };
    try {
      const a = await app({ ESTIMATE_BUDGET_MS: '120', ML_TIMEOUT_MS: '1000' });
      const res = await precise(a, { storeId: 1, destination: GANGNAM });
      expect(res.statusCode).toBe(200);
      expect(res.json<Estimate>()).toMatchObject({ source: 'manual', degraded: true });
    } finally {
      proxy.fault = { kind: 'pass' };
    }
  });
});

describe('a served model whose layout disagrees', () => {
  it('keeps the BFF unready and never uses that model', async () => {
    proxy.fault = { kind: 'swap-features', model: 'eta-precise' };
    try {
      const a = await app({ EXPECT_UNREADY: '1' });
      const ready = await a.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ code: 'NOT_READY', details: [{ path: 'model-layouts' }] });
      const e = (await precise(a, { storeId: 1, destination: GANGNAM })).json<Estimate>();
      expect(e).toMatchObject({ source: 'rough', degraded: true });
    } finally {
      proxy.fault = { kind: 'pass' };
    }
  });
});

describe('regression: store detail and store list disagree for an unknown rider', () => {
  // Before checkout the store detail page gives no rider and no order details. The BFF used to fill in a
  // motorcycle in good condition, and eta-precise v1 had never seen the trip facts unknown except in a few
  // odd rows: the detail said ~17 min where the list said ~34 for the same store and address. Now those
  // fields go as NaN to a model trained with them unknown, which answers for the average rider and load,
  // like eta-rough. On the 7,302 validation orders (ml/reports/evaluation.md) the mean |p50 difference|
  // between eta-precise with rider/trip/feeds unknown and eta-rough is about 1.1 min (mean signed -0.2);
  // with the old defaults on the old model it was 10.4 min (mean signed -10.4). The bound of 3 min on
  // average leaves room for integer minutes and for the list being estimated at the H3 cell centre.
  const MAX_MEAN_GAP = 3;

  // Both models take hour_of_day and day_of_week, and how far apart they are moves with them: for these
  // stores the mean signed gap was -2.5 min at 22:40 on a Monday in Seoul (the time the test ran, before,
  // decided whether it passed), and 0.26 over the week below with a mean |gap| of 1.10, as on the
  // validation orders. So the comparison covers a whole week at four hours of the day, on fixed weekdays
  // and hours before the test's clock. The old bug (a one-sided -10 min) fails it at every one of them.
  const HOURS_SEOUL = [9, 12, 18, 21];

  it('the precise estimate with no rider/order given is close to the rough estimate, store by store, over a week', async () => {
    proxy.fault = { kind: 'pass' };
    const a = await app();
    const storeIds = UNKNOWN_RIDER_STORES.map((s) => s.id);
    // Midnight in Seoul (UTC+9, no daylight saving) of the Monday 8 to 14 days before T0.
    const DAY = 86_400_000;
    const seoulMidnight = Math.floor((T0.getTime() + 9 * 3_600_000) / DAY) * DAY - 9 * 3_600_000;
    const weekdayOf = (ms: number) => (new Date(ms + 9 * 3_600_000).getUTCDay() + 6) % 7; // Monday 0
    const monday = seoulMidnight - (weekdayOf(seoulMidnight) + 7) * DAY;
    const gaps: number[] = [];
    try {
      for (let day = 0; day < 7; day++) {
        for (const hour of HOURS_SEOUL) {
          clock = new Date(monday + day * DAY + hour * 3_600_000);
          const list = (await rough(a, { destination: MAPO, storeIds })).json<{ estimates: Estimate[] }>();
          for (const item of list.estimates) {
            expect(item).toMatchObject({ source: 'rough', degraded: false });
            const res = await precise(a, { storeId: item.storeId, destination: MAPO });
            expect(res.statusCode).toBe(200);
            const detail = res.json<Estimate>();
            // The model itself answered, not the ladder's eta-rough rung (which would agree trivially).
            expect(detail).toMatchObject({
              source: 'model',
              modelVersion: SERVED_MODEL_VERSION,
              degraded: false,
            });
            gaps.push(detail.etaMinutes - item.etaMinutes);
          }
        }
      }
    } finally {
      clock = T0;
    }
    expect(gaps).toHaveLength(7 * HOURS_SEOUL.length * storeIds.length);
    const meanAbs = gaps.reduce((t, g) => t + Math.abs(g), 0) / gaps.length;
    const meanSigned = gaps.reduce((t, g) => t + g, 0) / gaps.length;
    const said = `precise - rough, mean |gap| ${meanAbs.toFixed(2)}, mean ${meanSigned.toFixed(2)}; gaps ${gaps.join(', ')}`;
    expect(meanAbs, said).toBeLessThanOrEqual(MAX_MEAN_GAP);
    // Not systematically faster (or slower): the old bug was a one-sided gap.
    expect(Math.abs(meanSigned), said).toBeLessThanOrEqual(2);
  });
});
