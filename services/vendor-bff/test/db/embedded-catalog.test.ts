// The store catalogue on embedded PGlite: this process is the database's only writer, so the catalogue is
// not re-read on CACHE_TTL_MS (each refresh is WASM work on the thread that answers), and a settings write
// through the admin API still reaches the next estimate at once.
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { freePort } from '@eta/testing/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { devToken } from '../auth/tokens.ts';
import { CITY_HALL } from '../domain/estimate-fixtures.ts';
import { offlineAppEnv } from '../support/app-env.ts';
import { metricValue } from '../support/metrics.ts';

const SERVICE_TOKEN = 'embedded-catalog-tests-token-0123456789';
const service = { authorization: `Bearer ${SERVICE_TOKEN}` };

let app: ServiceApp;

beforeAll(async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const config = parseEnv(
    configSchema,
    offlineAppEnv(dead, {
      ROLE: 'all',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      AUTH_DEV_KEYS: 'true',
      SEED_STORES: '20',
      // Every other cache entry would be stale a millisecond after it was written.
      CACHE_TTL_MS: '1',
    }),
  );
  app = await buildApp(config);
  await app.ready();
}, 120_000);

afterAll(async () => {
  await app?.close();
});

/** The store catalogue cache's first `name` series (of a per-tier counter: tier l1); 0 when absent. */
const metric = async (name: string): Promise<number> =>
  (await metricValue(app, name, { cache: 'stores' })) ?? 0;

const estimate = async (storeId: number) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/estimates/precise',
    headers: service,
    payload: { storeId, destination: CITY_HALL },
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ source: string; etaMinutes: number }>();
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('store catalogue on embedded PGlite', () => {
  it('is not read again from the database when CACHE_TTL_MS passes', async () => {
    await estimate(3);
    await estimate(4);
    const computes = await metric('cache_computes_total');
    const stale = await metric('cache_stale_total');
    for (let i = 0; i < 5; i++) {
      await sleep(5); // five times CACHE_TTL_MS: with that TTL every read below would be a stale hit
      await estimate(3);
      await estimate(4);
    }
    expect(await metric('cache_stale_total')).toBe(stale);
    expect(await metric('cache_computes_total')).toBe(computes);
  });

  it('still answers a settings write at once (the write invalidates)', async () => {
    const operator = { authorization: `Bearer ${await devToken({ role: 'operator' })}` };
    const put = async (manualDeliveryMinutes: number) => {
      const current = await app.inject({ method: 'GET', url: '/v1/stores/5/settings', headers: operator });
      expect(current.statusCode).toBe(200);
      const res = await app.inject({
        method: 'PUT',
        url: '/v1/stores/5/settings',
        headers: { ...operator, 'if-match': String(current.headers['etag']) },
        payload: {
          autoPrediction: false,
          manualPrepMinutes: 10,
          manualDeliveryMinutes,
          minShownMinutes: null,
          maxShownMinutes: null,
          busy: null,
        },
      });
      expect(res.statusCode).toBe(200);
      return estimate(5);
    };
    const short = await put(15);
    const long = await put(45);
    expect([short.source, long.source]).toEqual(['manual', 'manual']);
    expect(long.etaMinutes).toBeGreaterThan(short.etaMinutes);
  });
});
