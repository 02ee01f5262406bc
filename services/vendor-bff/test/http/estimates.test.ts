// HTTP behaviour of the estimate routes through inject: bad input is a 400 naming the field, coded 404
// and 422, role composition, and answers with every dependency unreachable (the ladder's floor). Geo and
// the ML proxy point at ports nothing listens on; the integration tests run them for real.
import { freePort } from '@eta/testing/ports';
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { configSchema, type Role } from '../../src/config.ts';
import { BUSAN, CITY_HALL, GANGNAM, MemoryCatalog, view } from '../domain/estimate-fixtures.ts';
import { offlineAppEnv } from '../support/app-env.ts';

/** The estimate API needs a service credential (auth/service-credential.ts); admin.test.ts covers its absence. */
const SERVICE_TOKEN = 'estimate-tests-shared-token-0123456789';
const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };

let deadUrl = '';
beforeAll(async () => {
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});

function config(role: Role, extra: Record<string, string> = {}) {
  return parseEnv(
    configSchema,
    offlineAppEnv(deadUrl, {
      ROLE: role,
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      // ROLE=admin refuses to start without a token issuer; the committed dev key is enough here.
      AUTH_DEV_KEYS: 'true',
      ...extra,
    }),
  );
}

const catalog = new MemoryCatalog([
  view(1),
  view(2, { autoPrediction: false, manualPrepMinutes: 12, manualDeliveryMinutes: 18 }),
]);

async function app(role: Role = 'all', cat: MemoryCatalog = catalog): Promise<ServiceApp> {
  return buildApp(config(role), { catalog: cat });
}

const post = (a: ServiceApp, url: string, payload: unknown) =>
  a.inject({ method: 'POST', url, headers: auth, payload: payload as Record<string, unknown> });

describe('precise: bad input is a 400 that names the field', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    a = await app();
  });
  afterAll(() => a.close());

  it.each([
    [{ destination: CITY_HALL }, 'body.storeId'],
    [{ storeId: 'one', destination: CITY_HALL }, 'body.storeId'],
    [{ storeId: 1.5, destination: CITY_HALL }, 'body.storeId'],
    [{ storeId: -3, destination: CITY_HALL }, 'body.storeId'],
    [{ storeId: 1 }, 'body.destination'],
    [{ storeId: 1, destination: { lat: 'x', lng: 127 } }, 'body.destination.lat'],
    [{ storeId: 1, destination: { lat: 37.5, lng: 200 } }, 'body.destination.lng'],
    [{ storeId: 1, destination: CITY_HALL, orderedAt: 'yesterday' }, 'body.orderedAt'],
    [{ storeId: 1, destination: CITY_HALL, order: { type: 'pizza' } }, 'body.order.type'],
    [
      { storeId: 1, destination: CITY_HALL, order: { multipleDeliveries: 9 } },
      'body.order.multipleDeliveries',
    ],
    [
      { storeId: 1, destination: CITY_HALL, rider: { vehicleType: 'car', vehicleCondition: 1 } },
      'body.rider.vehicleType',
    ],
    [
      { storeId: 1, destination: CITY_HALL, rider: { vehicleType: 'scooter' } },
      'body.rider.vehicleCondition',
    ],
    [
      { storeId: 1, destination: CITY_HALL, rider: { vehicleType: 'scooter', vehicleCondition: 1, age: 12 } },
      'body.rider.age',
    ],
  ])('%j -> %s', async (payload, path) => {
    const res = await post(a, '/v1/estimates/precise', payload);
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; details: { path: string }[] }>();
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.details.map((d) => d.path)).toContain(path);
  });

  it('refuses unknown keys, so a misspelt field is not silently ignored', async () => {
    const res = await post(a, '/v1/estimates/precise', { storeId: 1, destination: CITY_HALL, ridr: {} });
    expect(res.statusCode).toBe(400);
  });

  it('answers malformed JSON with 400 BAD_REQUEST', async () => {
    const res = await a.inject({
      method: 'POST',
      url: '/v1/estimates/precise',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"storeId": 1,',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<{ code: string }>().code).toBe('BAD_REQUEST');
  });
});

describe('regression: orderedAt in 1970 or 9999 was accepted (issue 12, defect 6)', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    a = await app();
  });
  afterAll(() => a.close());

  // A day of margin on each side of the bounds (30 days back, 7 ahead), so a slow run cannot cross one.
  const DAY = 86_400_000;
  const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

  it.each([
    ['the epoch', '1970-01-01T00:00:00Z'],
    ['year 9999', '9999-12-31T23:59:59+09:00'],
    ['31 days ago', at(-31 * DAY)],
    ['8 days ahead', at(8 * DAY)],
  ])('%s (%s): 400 VALIDATION_ERROR on body.orderedAt', async (_what, orderedAt) => {
    const res = await post(a, '/v1/estimates/precise', { storeId: 1, destination: CITY_HALL, orderedAt });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ code: string; details: { path: string; message: string }[] }>();
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.details).toContainEqual({
      path: 'body.orderedAt',
      message: 'must be within 30 days before and 7 days after now',
    });
  });

  it.each([
    ['now', at(0)],
    ['29 days ago', at(-29 * DAY)],
    [
      '6 days ahead, in Seoul time',
      new Date(Date.now() + 6 * DAY + 9 * 3_600_000).toISOString().replace('Z', '+09:00'),
    ],
  ])('%s (%s) is answered', async (_what, orderedAt) => {
    const res = await post(a, '/v1/estimates/precise', { storeId: 1, destination: CITY_HALL, orderedAt });
    expect(res.statusCode).toBe(200);
  });
});

describe('rough: bad input', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    a = await app();
  });
  afterAll(() => a.close());

  it.each([
    [{ destination: CITY_HALL }, 'body.storeIds'],
    [{ destination: CITY_HALL, storeIds: [] }, 'body.storeIds'],
    [{ destination: CITY_HALL, storeIds: Array.from({ length: 201 }, (_, i) => i + 1) }, 'body.storeIds'],
    [{ destination: CITY_HALL, storeIds: [1, 'two'] }, 'body.storeIds.1'],
    [{ storeIds: [1] }, 'body.destination'],
  ])('%#: -> %s', async (payload, path) => {
    const res = await post(a, '/v1/estimates/rough', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ details: { path: string }[] }>().details.map((d) => d.path)).toContain(path);
  });

  it('accepts exactly 200 stores', async () => {
    const res = await post(a, '/v1/estimates/rough', {
      destination: CITY_HALL,
      storeIds: Array.from({ length: 200 }, (_, i) => i + 1),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ estimates: unknown[] }>().estimates).toHaveLength(200);
  });
});

describe('coded errors', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    a = await app();
  });
  afterAll(() => a.close());

  it('unknown store: 404 STORE_NOT_FOUND naming storeId', async () => {
    const res = await post(a, '/v1/estimates/precise', { storeId: 999, destination: CITY_HALL });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'STORE_NOT_FOUND', details: [{ path: 'body.storeId' }] });
  });

  it('Busan with Geo down: 422 OUT_OF_SERVICE_AREA from the bounding box, on both routes', async () => {
    const precise = await post(a, '/v1/estimates/precise', { storeId: 1, destination: BUSAN });
    expect(precise.statusCode).toBe(422);
    expect(precise.json()).toMatchObject({
      code: 'OUT_OF_SERVICE_AREA',
      details: [{ path: 'body.destination' }],
    });
    const rough = await post(a, '/v1/estimates/rough', { storeIds: [1], destination: BUSAN });
    expect(rough.statusCode).toBe(422);
  });
});

describe('every dependency down: the caller still gets an answer', () => {
  let a: ServiceApp;
  const failing = new MemoryCatalog([view(1)]);
  beforeAll(async () => {
    a = await app('all', failing);
  });
  afterAll(() => a.close());

  it('precise: the owner manual time, degraded', async () => {
    const res = await post(a, '/v1/estimates/precise', { storeId: 1, destination: GANGNAM });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ storeId: 1, etaMinutes: 25, source: 'manual', degraded: true });
  });

  it('rough: manual times in order, unknown ids in their place', async () => {
    const res = await post(a, '/v1/estimates/rough', { storeIds: [7, 1], destination: GANGNAM });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      estimates: [
        { storeId: 7, error: { code: 'STORE_NOT_FOUND', message: 'no store with id 7' } },
        { storeId: 1, etaMinutes: 25, range: { low: 21, high: 32 }, source: 'manual', degraded: true },
      ],
    });
  });

  it('with the catalogue failing too: a region default, source fallback', async () => {
    failing.failing = true;
    try {
      const precise = await post(a, '/v1/estimates/precise', { storeId: 1, destination: GANGNAM });
      expect(precise.statusCode).toBe(200);
      expect(precise.json()).toMatchObject({ source: 'fallback', degraded: true, etaMinutes: 35 });
      const rough = await post(a, '/v1/estimates/rough', { storeIds: [1, 2], destination: GANGNAM });
      expect(rough.json<{ estimates: { source: string }[] }>().estimates.map((e) => e.source)).toEqual([
        'fallback',
        'fallback',
      ]);
    } finally {
      failing.failing = false;
    }
  });

  it('counts the answers by role, source and degraded', async () => {
    const res = await a.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(
      /bff_estimates_total\{role="all",kind="precise",source="manual",degraded="true"\} [1-9]/,
    );
    expect(res.body).toMatch(
      /bff_dependency_failures_total\{dependency="geo",operation="features",kind="connect"\} [1-9]/,
    );
  });

  it('an unreachable ML proxy does not hold readiness: the ladder serves without it', async () => {
    const res = await a.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
  });
});

describe('roles: each process serves only its own routes', () => {
  const routes = async (role: Role) => {
    const a = await app(role);
    try {
      const precise = await post(a, '/v1/estimates/precise', { storeId: 2, destination: CITY_HALL });
      const rough = await post(a, '/v1/estimates/rough', { storeIds: [2], destination: CITY_HALL });
      const live = await a.inject({ method: 'GET', url: '/livez' });
      return { precise: precise.statusCode, rough: rough.statusCode, livez: live.statusCode };
    } finally {
      await a.close();
    }
  };

  it.each([
    ['precise', { precise: 200, rough: 404, livez: 200 }],
    ['rough', { precise: 404, rough: 200, livez: 200 }],
    ['admin', { precise: 404, rough: 404, livez: 200 }],
    ['all', { precise: 200, rough: 200, livez: 200 }],
  ] as const)('%s', async (role, expected) => {
    expect(await routes(role)).toEqual(expected);
  });

  it('an admin process checks no estimate dependency for readiness', async () => {
    const a = await app('admin');
    try {
      const res = await a.inject({ method: 'GET', url: '/readyz' });
      expect(res.json()).toEqual({ status: 'ok', checks: {} });
    } finally {
      await a.close();
    }
  });
});
