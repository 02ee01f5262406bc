// The prediction log through the HTTP routes (inject), on the in-process bus the app is given: each
// answered precise and rough request is one `predictions` event matching the answer; refused requests are
// not logged; `orderId` is validated and documented; PREDICTION_LOG=off opens nothing. Geo and the ML proxy
// are unreachable here, so answers come from the ladder's lower rungs (the integration test runs the real
// chain and broker).
import { parseEnv } from '@eta/config';
import {
  ORDER_ID_MAX_LENGTH,
  PREDICTION_JOIN_HEADER,
  PREDICTIONS_TOPIC,
  type PredictionEvent,
} from '@eta/contracts';
import { createEventBus, type EventBus } from '@eta/events';
import type { ServiceApp } from '@eta/service-kit';
import { freePort } from '@eta/testing/ports';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { CITY_HALL, GANGNAM, MemoryCatalog, view } from '../domain/estimate-fixtures.ts';
import { offlineAppEnv } from '../support/app-env.ts';
import { metricValue, scrapeMetrics } from '../support/metrics.ts';

const SERVICE_TOKEN = 'prediction-tests-shared-token-0123456789';
const NOW = new Date('2026-11-27T03:30:00Z');

let dead = '';
beforeAll(async () => {
  dead = `http://127.0.0.1:${await freePort()}`;
});

const catalog = new MemoryCatalog([
  view(1),
  view(2, { autoPrediction: false, manualPrepMinutes: 12, manualDeliveryMinutes: 18 }),
]);

async function appWith(bus: EventBus, extra: Record<string, string> = {}): Promise<ServiceApp> {
  const config = parseEnv(
    configSchema,
    offlineAppEnv(dead, {
      ROLE: 'all',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      AUTH_DEV_KEYS: 'true',
      ...extra,
    }),
  );
  return buildApp(config, { catalog, eventBus: bus, now: () => NOW });
}

function post(app: ServiceApp, url: string, payload: unknown, requestId?: string) {
  return app.inject({
    method: 'POST',
    url,
    headers: {
      authorization: `Bearer ${SERVICE_TOKEN}`,
      ...(requestId !== undefined ? { 'x-request-id': requestId } : {}),
    },
    payload: payload as Record<string, unknown>,
  });
}

/** The message headers each tapped event came with. */
const headersOf = new WeakMap<PredictionEvent, Readonly<Record<string, string>>>();

/** Every prediction event the bus delivers, in order. */
async function tap(bus: EventBus): Promise<PredictionEvent[]> {
  const got: PredictionEvent[] = [];
  const sub = bus.subscriber({ groupId: `tap-${Math.random()}` });
  sub.subscribe(PREDICTIONS_TOPIC, (e) => {
    headersOf.set(e.value, e.headers);
    got.push(e.value);
  });
  await sub.start();
  return got;
}

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 15_000, interval: 10 });

describe('the prediction log on the in-process bus', () => {
  let bus: EventBus;
  let app: ServiceApp;
  let got: PredictionEvent[];
  beforeAll(async () => {
    bus = createEventBus();
    got = await tap(bus);
    app = await appWith(bus);
  });
  afterAll(async () => {
    await app.close();
    await bus.close();
  });

  it('logs a precise answer with its order id and request id, every field as answered', async () => {
    const res = await post(
      app,
      '/v1/estimates/precise',
      { storeId: 1, destination: GANGNAM, orderId: 'ord-2026-11-27:42' },
      'req-precise-1',
    );
    expect(res.statusCode, res.body).toBe(200);
    const answer = res.json<{
      storeId: number;
      etaMinutes: number;
      range: { low: number; high: number };
      source: string;
      degraded: boolean;
    }>();
    await waitFor(() => expect(got).toHaveLength(1));
    const e = got[0]!;
    expect(e.kind).toBe('precise');
    if (e.kind !== 'precise') return;
    expect(e).toMatchObject({
      schemaVersion: 1,
      type: 'prediction',
      occurredAt: NOW.toISOString(),
      requestId: 'req-precise-1',
      orderId: 'ord-2026-11-27:42',
      storeId: answer.storeId,
      shownMinutes: answer.etaMinutes,
      shownRange: answer.range,
      source: answer.source,
      degraded: answer.degraded,
    });
    // No model answered (both unreachable): the owner's manual times, and nothing of a model logged.
    expect(answer.source).toBe('manual');
    expect([e.model, e.features, e.quantiles]).toEqual([null, null, null]);
    expect(res.headers['x-request-id']).toBe('req-precise-1');
    // An order to join: no header that would let the live-accuracy consumer pass it over.
    expect(headersOf.get(e)).toEqual({});
  });

  it('logs one rough event per request, its answered stores as items in request order', async () => {
    got.length = 0;
    const res = await post(app, '/v1/estimates/rough', { destination: CITY_HALL, storeIds: [2, 404, 1] });
    expect(res.statusCode, res.body).toBe(200);
    const { estimates } = res.json<{ estimates: { storeId: number; etaMinutes?: number }[] }>();
    await waitFor(() => expect(got).toHaveLength(1));
    const e = got[0]!;
    expect(e.kind).toBe('rough');
    if (e.kind !== 'rough') return;
    expect(e.requestId).toBe(res.headers['x-request-id']);
    expect(e.items.map((i) => [i.storeId, i.shownMinutes])).toEqual(
      estimates.filter((a) => a.etaMinutes !== undefined).map((a) => [a.storeId, a.etaMinutes]),
    );
    expect(e.items.map((i) => i.storeId)).toEqual([2, 1]);
    expect(headersOf.get(e)).toEqual({ [PREDICTION_JOIN_HEADER]: 'none' });
  });

  it('logs nothing for a refused request (400, 404), only what was answered', async () => {
    got.length = 0;
    const bad = await post(app, '/v1/estimates/precise', {
      storeId: 1,
      destination: GANGNAM,
      orderId: 'no spaces',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ details: { path: string }[] }>().details.map((d) => d.path)).toContain('body.orderId');
    const tooLong = { storeId: 1, destination: GANGNAM, orderId: 'x'.repeat(ORDER_ID_MAX_LENGTH + 1) };
    expect((await post(app, '/v1/estimates/precise', tooLong)).statusCode).toBe(400);
    expect(
      (await post(app, '/v1/estimates/precise', { storeId: 404, destination: GANGNAM })).statusCode,
    ).toBe(404);
    // The events keep the order of the answers: once this one is in, anything logged before it would be too.
    const ok = await post(app, '/v1/estimates/precise', { storeId: 2, destination: GANGNAM }, 'req-sentinel');
    expect(ok.statusCode).toBe(200);
    await waitFor(() => expect(got.length).toBeGreaterThan(0));
    expect(got.map((e) => e.requestId)).toEqual(['req-sentinel']);
    expect(got[0]!.kind === 'precise' && got[0]!.orderId).toBeNull();
    expect(headersOf.get(got[0]!)).toEqual({ [PREDICTION_JOIN_HEADER]: 'none' });
  });

  it('counts what it published on /metrics, and nothing dropped', async () => {
    await waitFor(async () => expect(await metricValue(app, 'events_buffered')).toBe(0));
    const published = await metricValue(app, 'events_published_total', { topic: 'predictions' });
    expect(published).toBeGreaterThanOrEqual(3);
    expect(
      await metricValue(app, 'events_dropped_total', { topic: 'predictions', reason: 'buffer-full' }),
    ).toBe(0);
  });

  it('documents orderId in the precise request of /openapi.json', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    }>();
    const schema = doc.paths['/v1/estimates/precise']!.post.requestBody.content['application/json']!
      .schema as {
      properties: Record<string, { type: string; maxLength: number; minLength: number; pattern: string }>;
      required: string[];
    };
    expect(schema.properties['orderId']).toMatchObject({ type: 'string', minLength: 1, maxLength: 64 });
    expect(schema.properties['orderId']!.pattern).toBeTypeOf('string');
    expect(schema.required).not.toContain('orderId');
  });
});

describe('PREDICTION_LOG=off', () => {
  it('publishes nothing and has no publisher at all (no events_* metrics)', async () => {
    const bus = createEventBus();
    const got = await tap(bus);
    const app = await appWith(bus, { PREDICTION_LOG: 'off' });
    try {
      const res = await post(app, '/v1/estimates/precise', {
        storeId: 2,
        destination: GANGNAM,
        orderId: 'o-1',
      });
      expect(res.statusCode).toBe(200);
      expect(await scrapeMetrics(app)).not.toMatch(/^events_/m);
      await bus.idle();
      expect(got).toEqual([]);
    } finally {
      await app.close();
      await bus.close();
    }
  });

  it('answers exactly what it answers with the log on', async () => {
    const bodies: string[] = [];
    for (const log of ['on', 'off']) {
      const bus = createEventBus();
      const app = await appWith(bus, { PREDICTION_LOG: log });
      try {
        const precise = await post(app, '/v1/estimates/precise', {
          storeId: 1,
          destination: GANGNAM,
          orderId: 'o-1',
        });
        const rough = await post(app, '/v1/estimates/rough', {
          destination: CITY_HALL,
          storeIds: [1, 2, 404],
        });
        bodies.push(`${precise.statusCode} ${precise.body} ${rough.statusCode} ${rough.body}`);
      } finally {
        await app.close();
        await bus.close();
      }
    }
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[0]).toMatch(/^200 .* 200 /);
  });
});
