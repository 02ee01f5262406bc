import { ConfigError, parseEnv } from '@eta/config';
import { describe, expect, it } from 'vitest';
import { cacheEnv, fromEnv } from '../src/index.ts';

describe('cacheEnv', () => {
  it('has safe local defaults: no Redis means an L1-only cache', async () => {
    const config = parseEnv(cacheEnv, {});
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.CACHE_L2_TIMEOUT_MS).toBe(50);
    const cache = fromEnv<number>(config, { name: 'env-default', ttlMs: 5 });
    expect(await cache.get('k', () => 1)).toBe(1);
    expect(cache.stats().l2).toMatchObject({ hits: 0, misses: 0, bypassed: 0 });
    await cache.close();
  });

  it('lists every bad key at once', () => {
    const bad = {
      REDIS_URL: 'http://redis:6379',
      CACHE_TTL_JITTER: '2',
      CACHE_L1_MAX_BYTES: 'lots',
      CACHE_INVALIDATION: 'maybe',
    };
    try {
      parseEnv(cacheEnv, bad);
      expect.unreachable('parseEnv should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.key).sort()).toEqual([
        'CACHE_INVALIDATION',
        'CACHE_L1_MAX_BYTES',
        'CACHE_TTL_JITTER',
        'REDIS_URL',
      ]);
    }
  });

  it('parses a full Redis configuration', () => {
    const config = parseEnv(cacheEnv, {
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      CACHE_TTL_MS: '60000',
      CACHE_STALE_MS: '0',
      CACHE_BREAKER_FAILURES: '3',
      CACHE_INVALIDATION: 'false',
    });
    expect(config).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      CACHE_TTL_MS: 60_000,
      CACHE_STALE_MS: 0,
      CACHE_BREAKER_FAILURES: 3,
      CACHE_INVALIDATION: false,
    });
  });
});
