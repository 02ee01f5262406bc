import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseEnv } from '@eta/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type GeoApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { DEFAULT_DATA_DIR, DONGS_FILE, FOOD_DENSITY_FILE, GeoDataError } from '../../src/domain/index.ts';
import { logSink, testApp, testConfig } from './helpers.ts';

describe('probes and metrics', () => {
  let app: GeoApp;
  beforeAll(async () => {
    app = await testApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('is ready with geodata and without Redis', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { geodata: 'ok' } });
  });

  it('exposes request durations by route, and no live-Redis gauge when there is no Redis', async () => {
    await app.inject({ method: 'GET', url: '/v1/regions/lookup?lat=37.5&lng=127' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('route="/v1/regions/lookup"');
    expect(res.body).not.toContain('geo_live_redis_up');
  });

  it('answers an unknown route in the error form', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('config', () => {
  it('has safe local defaults', () => {
    const config = testConfig();
    expect(config).toMatchObject({ PORT: 8081, GEO_DATA_DIR: DEFAULT_DATA_DIR, GEO_LIVE_KEY_NAMESPACE: '' });
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.CACHE_TTL_MS).toBeLessThanOrEqual(5_000);
  });

  it('lists every bad key at once', () => {
    const bad = {
      PORT: 'eighty',
      REDIS_URL: 'http://127.0.0.1:6379',
      CACHE_TTL_MS: '0',
      GEO_LIVE_MAX_AGE_SECONDS: '-1',
    };
    let caught: unknown;
    try {
      parseEnv(configSchema, bad);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((i) => i.key).sort()).toEqual(
      ['CACHE_TTL_MS', 'GEO_LIVE_MAX_AGE_SECONDS', 'PORT', 'REDIS_URL'].sort(),
    );
  });
});

describe('geodata at start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'geo-data-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses to build without the data files, so the process never turns ready', async () => {
    const config = testConfig({ GEO_DATA_DIR: dir });
    await expect(buildApp(config, { logStream: logSink().stream })).rejects.toBeInstanceOf(GeoDataError);
  });

  it('refuses corrupt data files', async () => {
    await writeFile(join(dir, DONGS_FILE), '{"format":"something else"}');
    await writeFile(join(dir, FOOD_DENSITY_FILE), '{}');
    const config = testConfig({ GEO_DATA_DIR: dir });
    await expect(buildApp(config, { logStream: logSink().stream })).rejects.toBeInstanceOf(GeoDataError);
  });

  it('loads the committed data from GEO_DATA_DIR', async () => {
    const app = await buildApp(testConfig({ GEO_DATA_DIR: DEFAULT_DATA_DIR }), {
      logStream: logSink().stream,
    });
    try {
      expect(app.geoIndex.stats().dongs).toBe(425);
    } finally {
      await app.close();
    }
  });
});
