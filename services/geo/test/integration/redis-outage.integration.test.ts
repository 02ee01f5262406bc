import { setTimeout as sleep } from 'node:timers/promises';
import { FeaturesResponse, writeLiveDongStats, type LiveDongFeatures } from '@eta/contracts';
import { startPrivateRedis, type PrivateRedis } from '@eta/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { PLACES, testApp } from '../http/helpers.ts';

// A Redis of this file's own: the only honest way to take Redis away and bring it back without
// disturbing anyone else's tests on the shared one.
let redis: PrivateRedis;

const MYEONGDONG = '1114055000';
const TTL_MS = 1_000;
const STALE_MS = 5_000;
let clock = Date.parse('2025-05-01T12:00:00.000Z');
let app: GeoApp;

async function liveOrigin(): Promise<LiveDongFeatures> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/features',
    payload: { origin: PLACES.cityHall, destination: PLACES.cityHall, live: true },
  });
  expect(res.statusCode).toBe(200);
  return FeaturesResponse.parse(res.json()).live.origin;
}

async function writeStats(): Promise<void> {
  const writer = new Redis(redis.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    await writeLiveDongStats(writer, MYEONGDONG, {
      avgDeliveryMinutes20m: 31,
      deliveries20m: 8,
      ordersInFlight: 4,
      updatedAt: new Date(clock).toISOString(),
    });
  } finally {
    await writer.quit();
  }
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  app = await testApp(
    {
      REDIS_URL: redis.url,
      CACHE_TTL_MS: String(TTL_MS),
      CACHE_STALE_MS: String(STALE_MS),
      CACHE_TTL_JITTER: '0',
      // One failed read opens the breaker for a moment only, so the recovery below is not held back.
      CACHE_BREAKER_FAILURES: '1',
      CACHE_BREAKER_RESET_MS: '100',
    },
    { now: () => clock },
  );
});

afterAll(async () => {
  await app?.close();
  await redis?.stop();
});

describe('Redis going away and coming back', () => {
  it('serves live figures, then the last ones through the grace, then says redis-unavailable, staying ready, then recovers', async () => {
    await writeStats();
    expect(await liveOrigin()).toMatchObject({ available: true, ordersInFlight: 4 });

    await redis.stop();
    // Past the TTL but within CACHE_STALE_MS: the last value is still served while refreshes fail.
    clock += TTL_MS + 500;
    expect(await liveOrigin()).toMatchObject({ available: true, ordersInFlight: 4, ageSeconds: 1.5 });

    clock += STALE_MS;
    expect(await liveOrigin()).toEqual({ available: false, reason: 'redis-unavailable' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^geo_live_redis_up 0$/m);

    await redis.start();
    await writeStats();
    // ioredis reconnects with a capped backoff (at most 2 s between attempts); wait for it, bounded by
    // time (30 s, far above the backoff on any machine), not by a count of tries.
    let live = await liveOrigin();
    const giveUpAt = Date.now() + 30_000;
    while (!live.available && Date.now() < giveUpAt) {
      await sleep(100);
      clock += TTL_MS + STALE_MS;
      live = await liveOrigin();
    }
    expect(live).toMatchObject({ available: true, ordersInFlight: 4 });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^geo_live_redis_up 1$/m);
  });
});
