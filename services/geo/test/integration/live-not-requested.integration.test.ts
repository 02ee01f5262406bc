// The default of the features routes: no `live: true`, no Redis read. Seen from both sides: Redis's own
// count of the commands it ran (a Redis of this file's own, so nobody else's reads are counted) and
// Geo's live metrics. Each test also asks once WITH the flag, to show that the same measures do see a read.
import {
  FeaturesBatchResponse,
  FeaturesPairsResponse,
  FeaturesResponse,
  writeLiveDongStats,
  type PairFeatures,
} from '@eta/contracts';
import { startPrivateRedis, type PrivateRedis } from '@eta/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { featuresOf, PLACES, testApp } from '../http/helpers.ts';

const MYEONGDONG = '1114055000';
const JAMSIL6 = '1171071000';
const NOT_REQUESTED = {
  origin: { available: false, reason: 'not-requested' },
  destination: { available: false, reason: 'not-requested' },
};

let redis: PrivateRedis;
let admin: Redis;
let app: GeoApp;

/** Read commands Redis has run since it started (the live store reads with MGET; GET for good measure). */
async function redisReads(): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const m of info.matchAll(/^cmdstat_(?:mget|get):calls=(\d+),/gm)) calls += Number(m[1]);
  return calls;
}

/** geo_live_lookups_total over every outcome, and the live cache's computes (each one is a Redis MGET). */
async function liveMetrics(): Promise<{ lookups: number; computes: number }> {
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  let lookups = 0;
  for (const m of text.matchAll(/^geo_live_lookups_total\{outcome="[^"]+"\} (\d+)$/gm))
    lookups += Number(m[1]);
  const computes = /^cache_computes_total\{cache="geo-live"\} (\d+)$/m.exec(text);
  expect(text).toMatch(/^geo_live_lookups_total\{outcome="available"\} \d+$/m);
  return { lookups, computes: computes === null ? 0 : Number(computes[1]) };
}

async function post(url: string, payload: object) {
  const res = await app.inject({ method: 'POST', url, payload });
  expect(res.statusCode).toBe(200);
  return res.json<unknown>();
}

/** Every features route once, without the flag, answering only `not-requested` blocks. */
async function everyRouteWithoutFlag(): Promise<void> {
  const single = FeaturesResponse.parse(
    await post('/v1/features', { origin: PLACES.cityHall, destination: PLACES.jamsilStation }),
  );
  const batch = FeaturesBatchResponse.parse(
    await post('/v1/features/batch', {
      origin: PLACES.cityHall,
      destinations: [PLACES.jamsilStation, PLACES.hongikStation, PLACES.busanStation],
    }),
  );
  const pairs = FeaturesPairsResponse.parse(
    await post('/v1/features/pairs', {
      live: false,
      pairs: [
        { origin: PLACES.jamsilStation, destination: PLACES.cityHall },
        { origin: PLACES.hongikStation, destination: PLACES.jamsilStation },
      ],
    }),
  );
  const blocks: PairFeatures['live'][] = [
    single.live,
    ...batch.results.map((r) => featuresOf(r).live),
    ...pairs.results.map((r) => featuresOf(r).live),
  ];
  expect(blocks).toHaveLength(6);
  for (const b of blocks) expect(b).toEqual(NOT_REQUESTED);
  // The geometry is answered as usual.
  expect(single.origin).toMatchObject({ dong: { code: MYEONGDONG } });
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  admin = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  const stats = { avgDeliveryMinutes20m: 24, deliveries20m: 6, ordersInFlight: 3 };
  const updatedAt = new Date().toISOString();
  await writeLiveDongStats(admin, MYEONGDONG, { ...stats, updatedAt });
  await writeLiveDongStats(admin, JAMSIL6, { ...stats, updatedAt });
  app = await testApp({ REDIS_URL: redis.url, CACHE_TTL_JITTER: '0' });
});

afterAll(async () => {
  await app?.close();
  admin?.disconnect();
  await redis?.stop();
});

describe('features without live: true', () => {
  it('read nothing from Redis, and the live metrics do not move; one call with the flag does read', async () => {
    const readsBefore = await redisReads();
    expect(await liveMetrics()).toEqual({ lookups: 0, computes: 0 });

    await everyRouteWithoutFlag();

    expect(await redisReads()).toBe(readsBefore);
    expect(await liveMetrics()).toEqual({ lookups: 0, computes: 0 });

    // The control: the same measures see the read a call with the flag makes (one MGET, two dongs).
    const asked = FeaturesResponse.parse(
      await post('/v1/features', { origin: PLACES.cityHall, destination: PLACES.jamsilStation, live: true }),
    );
    expect(asked.live.origin).toMatchObject({ available: true, ordersInFlight: 3 });
    expect(asked.live.destination).toMatchObject({ available: true, ordersInFlight: 3 });
    expect(await redisReads()).toBe(readsBefore + 1);
    expect(await liveMetrics()).toEqual({ lookups: 2, computes: 1 });
  });

  it('answer as usual with the live Redis stopped, where a call with the flag says redis-unavailable', async () => {
    await redis.stop();
    const before = await liveMetrics();
    await everyRouteWithoutFlag();
    expect(await liveMetrics()).toEqual(before);

    // Dongs no call has read yet, so no cached copy can answer: the flag makes Geo try Redis, and say so.
    const asked = FeaturesResponse.parse(
      await post('/v1/features', {
        origin: PLACES.hongikStation,
        destination: PLACES.hongikStation,
        live: true,
      }),
    );
    expect(asked.live.origin).toEqual({ available: false, reason: 'redis-unavailable' });
    expect((await liveMetrics()).lookups).toBe(before.lookups + 1);
  });
});
