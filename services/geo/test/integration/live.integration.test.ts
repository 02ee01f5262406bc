import { randomUUID } from 'node:crypto';
import {
  DongLiveResponse,
  FeaturesBatchResponse,
  FeaturesPairsResponse,
  FeaturesResponse,
  LIVE_DONG_TTL_MS,
  liveDongKey,
  writeLiveDongStats,
  type LiveDongStats,
} from '@eta/contracts';
import { freePort } from '@eta/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { PLACES, testApp } from '../http/helpers.ts';

const MYEONGDONG = '1114055000';
const JAMSIL6 = '1171071000';
const SEOGYO = '1144066000';

function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '') {
    throw new Error('REDIS_URL is not set: eval "$(scripts/backing-services.sh up)" first');
  }
  return url;
}

// Each run writes under its own namespace, so parallel runs and other suites on the shared Redis never
// see each other's keys.
const namespace = `test:geo:${randomUUID().slice(0, 8)}:`;
const TTL_MS = 1_000;
let redis: Redis;
let clock = Date.parse('2025-05-01T12:00:00.000Z');
const now = () => clock;
const apps: GeoApp[] = [];

async function app(env: Record<string, string> = {}): Promise<GeoApp> {
  const a = await testApp(
    {
      REDIS_URL: redisUrl(),
      GEO_LIVE_KEY_NAMESPACE: namespace,
      CACHE_TTL_MS: String(TTL_MS),
      CACHE_STALE_MS: '0',
      CACHE_TTL_JITTER: '0',
      GEO_LIVE_MAX_AGE_SECONDS: '300',
      ...env,
    },
    { now },
  );
  apps.push(a);
  return a;
}

function stats(ageMs: number, over: Partial<LiveDongStats> = {}): LiveDongStats {
  return {
    avgDeliveryMinutes20m: 27.5,
    deliveries20m: 14,
    ordersInFlight: 9,
    updatedAt: new Date(clock - ageMs).toISOString(),
    ...over,
  };
}

/** `/v1/features` asking for the live block (`live: true`); without it Geo reads none (below). */
async function features(a: GeoApp, origin: object, destination: object) {
  const res = await a.inject({
    method: 'POST',
    url: '/v1/features',
    payload: { origin, destination, live: true },
  });
  expect(res.statusCode).toBe(200);
  return FeaturesResponse.parse(res.json());
}

beforeAll(() => {
  redis = new Redis(redisUrl(), { lazyConnect: false, maxRetriesPerRequest: 1 });
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  // SCAN, never KEYS: the Redis is shared.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
});

afterAll(async () => {
  await redis.quit();
});

describe('live region features from Redis', () => {
  it('shows statistics written with the writer, with their age, and says so where there are none', async () => {
    await writeLiveDongStats(redis, MYEONGDONG, stats(42_000), { namespace });
    const f = await features(await app(), PLACES.cityHall, PLACES.jamsilStation);
    expect(f.live.origin).toEqual({
      available: true,
      avgDeliveryMinutes20m: 27.5,
      deliveries20m: 14,
      ordersInFlight: 9,
      updatedAt: new Date(clock - 42_000).toISOString(),
      ageSeconds: 42,
    });
    expect(f.live.destination).toEqual({ available: false, reason: 'no-data' });
  });

  it('keeps a null mean (no delivery finished in the window) as null', async () => {
    await writeLiveDongStats(
      redis,
      JAMSIL6,
      stats(1_000, { avgDeliveryMinutes20m: null, deliveries20m: 0 }),
      {
        namespace,
      },
    );
    const f = await features(await app(), PLACES.cityHall, PLACES.jamsilStation);
    expect(f.live.destination).toMatchObject({
      available: true,
      avgDeliveryMinutes20m: null,
      deliveries20m: 0,
    });
  });

  it('picks up a value written after a miss once the short cache TTL has passed', async () => {
    const a = await app();
    expect((await features(a, PLACES.cityHall, PLACES.cityHall)).live.origin).toEqual({
      available: false,
      reason: 'no-data',
    });
    await writeLiveDongStats(redis, MYEONGDONG, stats(0), { namespace });
    // Within the TTL the cached answer stands: that is what spares Redis a read per request.
    expect((await features(a, PLACES.cityHall, PLACES.cityHall)).live.origin).toMatchObject({
      available: false,
    });
    clock += TTL_MS + 1;
    expect((await features(a, PLACES.cityHall, PLACES.cityHall)).live.origin).toMatchObject({
      available: true,
      // Ages are given to a tenth of a second.
      ageSeconds: 1,
    });
  });

  it('answers a value older than GEO_LIVE_MAX_AGE_SECONDS as stale, with its age', async () => {
    await writeLiveDongStats(redis, SEOGYO, stats(310_000), { namespace });
    const f = await features(await app(), PLACES.hongikStation, PLACES.cityHall);
    expect(f.live.origin).toEqual({ available: false, reason: 'stale', ageSeconds: 310 });
  });

  it('answers a value that does not match the contract as no-data, never as an error', async () => {
    await redis.set(liveDongKey(MYEONGDONG, namespace), '{"ordersInFlight":"lots"}', 'PX', 60_000);
    await redis.set(liveDongKey(JAMSIL6, namespace), 'not json at all', 'PX', 60_000);
    const f = await features(await app(), PLACES.cityHall, PLACES.jamsilStation);
    expect(f.live).toEqual({
      origin: { available: false, reason: 'no-data' },
      destination: { available: false, reason: 'no-data' },
    });
  });

  it('reads every dong of a 500-point batch in one Redis call', async () => {
    await writeLiveDongStats(redis, MYEONGDONG, stats(5_000), { namespace });
    await writeLiveDongStats(redis, SEOGYO, stats(5_000, { ordersInFlight: 3 }), { namespace });
    const a = await app();
    const destinations = Array.from({ length: 500 }, (_, i) =>
      i % 50 === 0
        ? PLACES.hongikStation
        : { lat: 37.45 + ((i * 7919) % 1000) / 4000, lng: 126.85 + ((i * 104729) % 1000) / 3000 },
    );
    const res = await a.inject({
      method: 'POST',
      url: '/v1/features/batch',
      payload: { origin: PLACES.cityHall, destinations, live: true },
    });
    expect(res.statusCode).toBe(200);
    const body = FeaturesBatchResponse.parse(res.json());
    const dongs = new Set<string>();
    for (const r of body.results) {
      if (!('features' in r)) throw new Error('unexpected item error');
      expect(r.features.live.origin).toMatchObject({ available: true, ageSeconds: 5 });
      const d = r.features.destination;
      if (d.inServiceArea) dongs.add(d.dong.code);
      if (d.inServiceArea && d.dong.code === SEOGYO) {
        expect(r.features.live.destination).toMatchObject({ available: true, ordersInFlight: 3 });
      }
    }
    expect(dongs.size).toBeGreaterThan(50);
    const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^cache_computes_total\{cache="geo-live"\} 1$/m);
    expect(metrics).toMatch(/^geo_live_redis_up 1$/m);
  });
});

describe('live region features of /v1/features/pairs', () => {
  it('answers every pair with /v1/features’s live blocks, reading all dongs of the call in one Redis call', async () => {
    await writeLiveDongStats(redis, MYEONGDONG, stats(5_000), { namespace });
    await writeLiveDongStats(redis, SEOGYO, stats(5_000, { ordersInFlight: 3 }), { namespace });
    await writeLiveDongStats(redis, JAMSIL6, stats(310_000), { namespace });
    const a = await app();
    // Different stores and customers, as the BFF sends them; every tenth pair is one of the written dongs.
    const list = Array.from({ length: 200 }, (_, i) =>
      i % 10 === 0
        ? { origin: PLACES.hongikStation, destination: i % 20 === 0 ? PLACES.cityHall : PLACES.jamsilStation }
        : {
            origin: { lat: 37.45 + ((i * 7919) % 1000) / 4000, lng: 126.85 + ((i * 104729) % 1000) / 3000 },
            destination: {
              lat: 37.45 + ((i * 3571) % 1000) / 4000,
              lng: 126.85 + ((i * 9973) % 1000) / 3000,
            },
          },
    );
    const res = await a.inject({
      method: 'POST',
      url: '/v1/features/pairs',
      payload: { pairs: list, live: true },
    });
    expect(res.statusCode).toBe(200);
    const body = FeaturesPairsResponse.parse(res.json());
    expect(body.errors).toBe(0);
    const dongs = new Set<string>();
    for (const r of body.results) {
      if (!('features' in r)) throw new Error('unexpected item error');
      for (const end of [r.features.origin, r.features.destination])
        if (end.inServiceArea) dongs.add(end.dong.code);
    }
    expect(dongs.size).toBeGreaterThan(50);
    const first = body.results[0];
    const second = body.results[10];
    if (first === undefined || !('features' in first) || second === undefined || !('features' in second)) {
      throw new Error('unexpected item error');
    }
    expect(first.features.live).toEqual({
      origin: expect.objectContaining({ available: true, ordersInFlight: 3, ageSeconds: 5 }),
      destination: expect.objectContaining({ available: true, ordersInFlight: 9, ageSeconds: 5 }),
    });
    expect(second.features.live.destination).toEqual({ available: false, reason: 'stale', ageSeconds: 310 });
    const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^cache_computes_total\{cache="geo-live"\} 1$/m);
    // Within the cache TTL, so /v1/features answers from the values the pairs call read.
    for (const i of [0, 10, 37]) {
      const p = list[i]!;
      const r = body.results[i];
      expect(r && 'features' in r ? r.features : r).toEqual(await features(a, p.origin, p.destination));
    }
  });
});

describe('GET /v1/regions/dongs/:code/live (operators)', () => {
  async function dongLive(a: GeoApp, code: string) {
    const res = await a.inject({ method: 'GET', url: `/v1/regions/dongs/${code}/live` });
    expect(res.statusCode).toBe(200);
    return DongLiveResponse.parse(res.json());
  }

  it('answers the written statistics with their age, no-data and stale, as a features call with live: true does', async () => {
    await writeLiveDongStats(redis, MYEONGDONG, stats(42_000), { namespace });
    await writeLiveDongStats(redis, SEOGYO, stats(310_000), { namespace });
    const a = await app();
    const myeongdong = await dongLive(a, MYEONGDONG);
    expect(myeongdong).toMatchObject({ dong: { code: MYEONGDONG, name: '명동' }, gu: { name: '중구' } });
    expect(myeongdong.live).toEqual({
      available: true,
      avgDeliveryMinutes20m: 27.5,
      deliveries20m: 14,
      ordersInFlight: 9,
      updatedAt: new Date(clock - 42_000).toISOString(),
      ageSeconds: 42,
    });
    expect((await dongLive(a, JAMSIL6)).live).toEqual({ available: false, reason: 'no-data' });
    expect((await dongLive(a, SEOGYO)).live).toEqual({ available: false, reason: 'stale', ageSeconds: 310 });
    // The same read as the features routes: a features call asking for the block answers it alike.
    expect((await features(a, PLACES.cityHall, PLACES.hongikStation)).live).toEqual({
      origin: myeongdong.live,
      destination: { available: false, reason: 'stale', ageSeconds: 310 },
    });
  });
});

describe('writeLiveDongStats', () => {
  it('stores the contract JSON under the contract key with an expiry', async () => {
    await writeLiveDongStats(redis, MYEONGDONG, stats(0), { namespace });
    const key = `${namespace}geo:live:dong:${MYEONGDONG}`;
    expect(JSON.parse((await redis.get(key)) ?? 'null')).toEqual(stats(0));
    const pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(LIVE_DONG_TTL_MS);
  });

  it('refuses values Geo could not read, before writing anything', async () => {
    await expect(
      writeLiveDongStats(redis, MYEONGDONG, stats(0, { ordersInFlight: -1 }), { namespace }),
    ).rejects.toThrow(/ordersInFlight/);
    await expect(
      writeLiveDongStats(redis, MYEONGDONG, { ...stats(0), updatedAt: 'yesterday' }, { namespace }),
    ).rejects.toThrow(/updatedAt/);
    await expect(writeLiveDongStats(redis, '11140', stats(0), { namespace })).rejects.toThrow(/10 digits/);
    expect(await redis.exists(liveDongKey(MYEONGDONG, namespace))).toBe(0);
  });
});

describe('Redis outage', () => {
  it('stays ready and answers without live features, saying why', async () => {
    const a = await app({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const ready = await a.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const f = await features(a, PLACES.cityHall, PLACES.jamsilStation);
    expect(f.live).toEqual({
      origin: { available: false, reason: 'redis-unavailable' },
      destination: { available: false, reason: 'redis-unavailable' },
    });
    expect(f.origin).toMatchObject({ dong: { name: '명동' } });
    const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^geo_live_redis_up 0$/m);
  });
});
