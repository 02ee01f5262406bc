// What the prediction log records of an answer: the estimate service says which model made it, with the
// row it was sent and its raw quantiles, for every rung of the ladder and for rough answers from the cache;
// the builder turns that into `predictions` events the contract accepts. Geo, the models and the cache are
// in-memory stand-ins here; the integration test checks the same against the real chain and broker.
import { readFileSync } from 'node:fs';
import { PrecisePrediction, RoughPrediction, type PredictionEvent, type RoughEstimate } from '@eta/contracts';
import { cellToLatLng, getResolution } from 'h3-js';
import { describe, expect, it } from 'vitest';
import {
  EstimateService,
  type CachedRough,
  type EstimateDeps,
  type ModelAnswer,
  type PairInfo,
} from '../../src/domain/estimate.ts';
import { DependencyFailure, haversineKm } from '../../src/domain/fallback.ts';
import type { FeatureRow, ModelName } from '../../src/domain/features.ts';
import { PredictionLog, precisePrediction, roughPrediction } from '../../src/domain/predictions.ts';
import { CITY_HALL, GANGNAM, MemoryCatalog, view } from './estimate-fixtures.ts';
import { MODEL_REPOSITORY, shippedVersions } from '../model-versions.ts';

const NOW = new Date('2026-11-27T03:30:00Z'); // 12:30 in Seoul, a Friday
const Q = { p10: 18.4, p50: 23.6, p90: 31.2 } as const;
const ID = '0190f5a3-7b1c-7d2e-8f00-0123456789ab';

/** Feature names as the shipped models' own metadata lists them: a source independent of features.ts. */
function metadataNames(model: ModelName): string[] {
  const v = shippedVersions(model).at(-1)!;
  const meta = JSON.parse(readFileSync(new URL(`${model}/${v}/metadata.json`, MODEL_REPOSITORY), 'utf8')) as {
    features: { name: string }[];
  };
  return meta.features.map((f) => f.name);
}

const pair: PairInfo = {
  distanceKm: 2.5,
  roadKm: 3.4,
  origin: { inServiceArea: true, regionClass: 'metropolitan' },
  destination: { inServiceArea: true, regionClass: 'urban' },
};

function setup(opts: { failing?: ModelName[]; catalog?: MemoryCatalog } = {}) {
  const sent: { model: ModelName; rows: FeatureRow[] }[] = [];
  const cache = new Map<string, CachedRough>();
  const deps: EstimateDeps = {
    catalog:
      opts.catalog ??
      new MemoryCatalog([
        view(1),
        view(2, { autoPrediction: false, manualPrepMinutes: 12, manualDeliveryMinutes: 18 }),
      ]),
    geo: {
      features: async () => pair,
      featuresFrom: async (_o, destinations) => destinations.map(() => pair),
    },
    ml: {
      infer: async (model, rows): Promise<ModelAnswer> => {
        sent.push({ model, rows: [...rows] });
        if (opts.failing?.includes(model)) throw new DependencyFailure('ml-proxy', 'connect', 'down');
        return { version: model === 'eta-precise' ? '2' : '1', rows: rows.map(() => Q) };
      },
    },
    roughCache: {
      async getMany(keys, compute) {
        const missing = keys.filter((k) => !cache.has(k));
        if (missing.length > 0) for (const [k, v] of await compute(missing)) cache.set(k, v);
        return new Map(keys.filter((k) => cache.has(k)).map((k) => [k, cache.get(k)!]));
      },
    },
    settings: { budgetMs: 10_000, reserveMs: 0, roughResolution: 8, roughBucketMinutes: 15 },
    log: { warn: () => undefined },
    now: () => NOW,
  };
  return { service: new EstimateService(deps), sent, cache };
}

const precise = (orderId?: string) => ({
  storeId: 1,
  destination: GANGNAM,
  ...(orderId !== undefined ? { orderId } : {}),
});

describe('precise answers: the model that made each one', () => {
  it('eta-precise: its version, the row it was sent and its raw quantiles', async () => {
    const { service, sent } = setup();
    const served = await service.preciseServed(precise(), undefined);
    expect(served.answer.source).toBe('model');
    expect(served.at).toEqual(NOW);
    expect(served.model).toEqual({ model: 'eta-precise', version: '2', row: sent[0]!.rows[0], quantiles: Q });

    const event = precisePrediction({
      eventId: ID,
      requestId: 'req-1',
      orderId: 'ord-77',
      destination: GANGNAM,
      served,
    });
    expect(PrecisePrediction.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      type: 'prediction',
      schemaVersion: 1,
      kind: 'precise',
      occurredAt: NOW.toISOString(),
      requestId: 'req-1',
      orderId: 'ord-77',
      storeId: 1,
      model: { name: 'eta-precise', version: '2' },
      quantiles: Q,
      shownMinutes: served.answer.etaMinutes,
      shownRange: served.answer.range,
      source: 'model',
      degraded: false,
    });
    // Names from the model's metadata, values as sent: 2.5 km, 12 h and Friday (4) in Seoul, urban (1),
    // a meal (1); weather, traffic and every rider and order fact unknown (null, sent as NaN).
    expect(Object.keys(event.features!)).toEqual(metadataNames('eta-precise'));
    expect(Object.values(event.features!)).toEqual([
      2.5,
      12,
      4,
      1,
      1,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
    // The destination's cell: resolution 9, its centre within a cell's reach of the address.
    expect(getResolution(event.destinationCell)).toBe(9);
    const [lat, lng] = cellToLatLng(event.destinationCell);
    expect(haversineKm({ lat, lng }, GANGNAM)).toBeLessThan(0.25);
  });

  it('eta-rough standing in for a failed eta-precise: its own row and version', async () => {
    const { service, sent } = setup({ failing: ['eta-precise'] });
    const served = await service.preciseServed(precise(), undefined);
    expect(served.answer).toMatchObject({ source: 'rough', degraded: true, modelVersion: '1' });
    const roughRow = sent.find((s) => s.model === 'eta-rough')!.rows[0]!;
    expect(served.model).toEqual({ model: 'eta-rough', version: '1', row: roughRow, quantiles: Q });
    const event = precisePrediction({
      eventId: ID,
      requestId: 'r',
      orderId: null,
      destination: GANGNAM,
      served,
    });
    expect(Object.keys(event.features!)).toEqual(metadataNames('eta-rough'));
  });

  it.each([
    ['both models failed', { failing: ['eta-precise', 'eta-rough'] as ModelName[] }, 1, 'manual'],
    ['auto prediction off', {}, 2, 'manual'],
  ])('%s: no model, no features, no quantiles', async (_what, opts, storeId, source) => {
    const { service } = setup(opts);
    const served = await service.preciseServed({ storeId, destination: GANGNAM }, undefined);
    expect(served.answer.source).toBe(source);
    expect(served.model).toBeNull();
    const event = precisePrediction({
      eventId: ID,
      requestId: 'r',
      orderId: null,
      destination: GANGNAM,
      served,
    });
    expect(event).toMatchObject({ model: null, features: null, quantiles: null, source });
    expect(event.shownMinutes).toBe(served.answer.etaMinutes);
  });

  it('precise() answers exactly what preciseServed() answers', async () => {
    const a = await setup().service.precise(precise(), undefined);
    const b = (await setup().service.preciseServed(precise(), undefined)).answer;
    expect(a).toEqual(b);
  });
});

describe('rough answers: one event per request, its answered stores as items', () => {
  const req = { destination: CITY_HALL, storeIds: [1, 99, 2, 1] };

  it('a cache miss and then a hit both carry the row eta-rough was sent', async () => {
    const { service, sent } = setup();
    const first = await service.roughServed(req, undefined);
    expect(sent).toHaveLength(1);
    const second = await service.roughServed(req, undefined);
    expect(sent).toHaveLength(1); // the hit asked no model
    for (const served of [first, second]) {
      // The cache entry itself stands for the quantiles (it holds more): only p10/p50/p90 are read.
      expect(served.models[0]).toEqual({
        model: 'eta-rough',
        version: '1',
        row: sent[0]!.rows[0],
        quantiles: expect.objectContaining(Q),
      });
      expect(served.models[1]).toBeNull(); // unknown store
      expect(served.models[2]).toBeNull(); // manual
    }
    const event = roughPrediction({ eventId: ID, requestId: 'r', destination: CITY_HALL, served: second })!;
    expect(RoughPrediction.parse(event)).toEqual(event);
    // The unknown store is left out; the duplicate is logged as it was answered, twice.
    expect(event.items.map((i) => [i.storeId, i.source, i.model?.name ?? null])).toEqual([
      [1, 'rough', 'eta-rough'],
      [2, 'manual', null],
      [1, 'rough', 'eta-rough'],
    ]);
    const answered = second.items.filter((i): i is RoughEstimate => 'source' in i);
    expect(event.items.map((i) => [i.shownMinutes, i.shownRange, i.degraded])).toEqual(
      answered.map((a) => [a.etaMinutes, a.range, a.degraded]),
    );
    expect(Object.keys(event.items[0]!.features!)).toEqual(metadataNames('eta-rough'));
  });

  it('an entry cached by an older BFF (no row) is logged with its model and quantiles, features null', async () => {
    const { service, cache } = setup();
    await service.roughServed({ destination: CITY_HALL, storeIds: [1] }, undefined);
    for (const [k, v] of cache) {
      const { f: _row, ...old } = v;
      cache.set(k, old);
    }
    const served = await service.roughServed({ destination: CITY_HALL, storeIds: [1] }, undefined);
    const event = roughPrediction({ eventId: ID, requestId: 'r', destination: CITY_HALL, served })!;
    expect(event.items[0]).toMatchObject({
      model: { name: 'eta-rough', version: '1' },
      features: null,
      quantiles: Q,
    });
  });

  it('no event when no store of the request was answered', async () => {
    const { service } = setup();
    const served = await service.roughServed({ destination: CITY_HALL, storeIds: [98, 99] }, undefined);
    expect(roughPrediction({ eventId: ID, requestId: 'r', destination: CITY_HALL, served })).toBeNull();
  });
});

describe('PredictionLog', () => {
  it('offers one event per answer with a fresh id each, and never throws at its caller', async () => {
    const offered: PredictionEvent[] = [];
    const warnings: string[] = [];
    let n = 0;
    const log = new PredictionLog({
      sink: { offer: (e) => offered.push(e) },
      newId: () => `0190f5a3-7b1c-7d2e-8f00-00000000000${n++}`,
      log: { warn: (_o, msg) => warnings.push(msg) },
    });
    const { service } = setup();
    const served = await service.preciseServed(precise('ord-1'), undefined);
    log.precise('req-1', 'ord-1', GANGNAM, served);
    log.precise('req-2', undefined, GANGNAM, served);
    log.rough(
      'req-3',
      CITY_HALL,
      await service.roughServed({ destination: CITY_HALL, storeIds: [98] }, undefined),
    );
    expect(
      offered.map((e) => [e.eventId.slice(-1), e.requestId, e.kind === 'precise' ? e.orderId : '-']),
    ).toEqual([
      ['0', 'req-1', 'ord-1'],
      ['1', 'req-2', null],
    ]);
    // A destination no cell can hold (a bug upstream): logged, not thrown.
    expect(() => log.precise('req-4', undefined, { lat: Number.NaN, lng: 0 }, served)).not.toThrow();
    expect(warnings).toEqual(['prediction log: could not build the precise event']);
  });
});
