import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FeaturesResponse, writeLiveDongStats, type LiveDongFeatures } from '@eta/contracts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { PLACES, testApp } from '../http/helpers.ts';

// A Redis of this file's own: the only honest way to take Redis away and bring it back without
// disturbing anyone else's tests on the shared one.
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let port: number;
let server: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Refused connections while the server starts are expected; they are retried below.
  probe.on('error', () => undefined);
  try {
    for (let i = 0; ; i++) {
      try {
        if (probe.status !== 'ready') await probe.connect();
        await probe.ping();
        return;
      } catch (err) {
        if (i > 100) throw err;
        await sleep(50);
      }
    }
  } finally {
    probe.disconnect();
  }
}

async function stopRedis(): Promise<void> {
  const s = server;
  server = undefined;
  if (s === undefined || s.exitCode !== null) return;
  s.kill('SIGTERM');
  await once(s, 'exit');
}

const MYEONGDONG = '1114055000';
const TTL_MS = 1_000;
const STALE_MS = 5_000;
let clock = Date.parse('2025-05-01T12:00:00.000Z');
let app: GeoApp;

async function liveOrigin(): Promise<LiveDongFeatures> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/features',
    payload: { origin: PLACES.cityHall, destination: PLACES.cityHall },
  });
  expect(res.statusCode).toBe(200);
  return FeaturesResponse.parse(res.json()).live.origin;
}

async function writeStats(): Promise<void> {
  const writer = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
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
  port = await freePort();
  await startRedis();
  app = await testApp(
    {
      REDIS_URL: `redis://127.0.0.1:${port}`,
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
  await stopRedis();
});

describe('Redis going away and coming back', () => {
  it('serves live figures, then the last ones through the grace, then says redis-unavailable, staying ready, then recovers', async () => {
    await writeStats();
    expect(await liveOrigin()).toMatchObject({ available: true, ordersInFlight: 4 });

    await stopRedis();
    // Past the TTL but within CACHE_STALE_MS: the last value is still served while refreshes fail.
    clock += TTL_MS + 500;
    expect(await liveOrigin()).toMatchObject({ available: true, ordersInFlight: 4, ageSeconds: 1.5 });

    clock += STALE_MS;
    expect(await liveOrigin()).toEqual({ available: false, reason: 'redis-unavailable' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^geo_live_redis_up 0$/m);

    await startRedis();
    await writeStats();
    // ioredis reconnects with a capped backoff (at most 2 s between attempts); wait for it, bounded.
    let live = await liveOrigin();
    for (let i = 0; i < 100 && !live.available; i++) {
      await sleep(100);
      clock += TTL_MS + STALE_MS;
      live = await liveOrigin();
    }
    expect(live).toMatchObject({ available: true, ordersInFlight: 4 });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/^geo_live_redis_up 1$/m);
  });
});
