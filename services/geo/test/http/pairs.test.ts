import { ErrorBody, FeaturesPairsResponse, GEO_MAX_BATCH, type LatLng } from '@eta/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type GeoApp } from '../../src/app.ts';
import { GeoInputError, haversineM, type GeoIndex } from '../../src/domain/index.ts';
import {
  featuresOf,
  geoIndex,
  logSink,
  PLACES,
  postJson,
  singleFeatures,
  testApp,
  testConfig,
} from './helpers.ts';

let app: GeoApp;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const pairsOn = (a: GeoApp, payload: unknown) => postJson(a, '/v1/features/pairs', payload);
const pairs = (payload: unknown) => pairsOn(app, payload);
const single = (origin: unknown, destination: unknown, live?: boolean) =>
  singleFeatures(app, origin, destination, live);

/** Pairs spread over Seoul (and a few beyond it), deterministic, every origin and destination different. */
function spreadPairs(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    origin: { lat: 37.45 + ((i * 7919) % 1000) / 4000, lng: 126.85 + ((i * 104729) % 1000) / 3000 },
    destination: { lat: 37.42 + ((i * 3571) % 1000) / 3500, lng: 126.8 + ((i * 15485863) % 1000) / 2800 },
  }));
}

describe('POST /v1/features/pairs', () => {
  it('answers each pair exactly as /v1/features does, in request order', async () => {
    const list = [
      { origin: PLACES.cityHall, destination: PLACES.jamsilStation },
      { origin: PLACES.hongikStation, destination: PLACES.cityHall },
      { origin: PLACES.jamsilStation, destination: PLACES.busanStation },
      { origin: PLACES.cityHall, destination: PLACES.cityHall },
      { origin: PLACES.busanStation, destination: PLACES.hongikStation },
    ];
    const { status, body } = await pairs({ pairs: list });
    expect(status).toBe(200);
    const res = FeaturesPairsResponse.parse(body);
    expect(res.errors).toBe(0);
    expect(res.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    for (const [i, p] of list.entries()) {
      expect(featuresOf(res.results[i])).toEqual(await single(p.origin, p.destination));
    }
    // Spot checks that the comparison above is against real answers, and that the pairs are not mixed up.
    expect(featuresOf(res.results[0])).toMatchObject({
      origin: { dong: { name: '명동' } },
      destination: { dong: { name: '잠실6동' } },
      crossesHanRiver: true,
      // Not asked for (no `live: true`): nothing read, whatever the end.
      live: {
        origin: { available: false, reason: 'not-requested' },
        destination: { available: false, reason: 'not-requested' },
      },
    });
    expect(featuresOf(res.results[1]).origin).toMatchObject({ dong: { name: '서교동' } });
    expect(featuresOf(res.results[2]).live.destination).toEqual({
      available: false,
      reason: 'not-requested',
    });
    expect(featuresOf(res.results[3])).toMatchObject({ distanceM: 0, sameDong: true });
  });

  it('with live: true, answers each pair as /v1/features with live: true does', async () => {
    const list = [
      { origin: PLACES.cityHall, destination: PLACES.jamsilStation },
      { origin: PLACES.jamsilStation, destination: PLACES.busanStation },
    ];
    const { status, body } = await pairs({ live: true, pairs: list });
    expect(status).toBe(200);
    const res = FeaturesPairsResponse.parse(body);
    for (const [i, p] of list.entries()) {
      expect(featuresOf(res.results[i])).toEqual(await single(p.origin, p.destination, true));
    }
    // No Redis here: the blocks say why they are empty, which is not `not-requested`.
    expect(featuresOf(res.results[0]).live.origin).toEqual({ available: false, reason: 'no-redis' });
    expect(featuresOf(res.results[1]).live.destination).toEqual({
      available: false,
      reason: 'outside-service-area',
    });
  });

  it('refuses a live flag that is not a boolean, for the whole call', async () => {
    const { status, body } = await pairs({
      live: 'yes',
      pairs: [{ origin: PLACES.cityHall, destination: PLACES.jamsilStation }],
    });
    expect(status).toBe(400);
    expect(ErrorBody.parse(body).details?.map((d) => d.path)).toEqual(['body.live']);
  });

  it(`answers ${GEO_MAX_BATCH} different pairs, the limit, each in its own place`, async () => {
    const list = spreadPairs(GEO_MAX_BATCH);
    const { status, body } = await pairs({ pairs: list });
    expect(status).toBe(200);
    const res = FeaturesPairsResponse.parse(body);
    expect(res.results).toHaveLength(GEO_MAX_BATCH);
    expect(res.errors).toBe(0);
    for (const [i, r] of res.results.entries()) {
      expect(r.index).toBe(i);
      const { origin: o, destination: d } = list[i]!;
      expect(featuresOf(r).distanceM).toBeCloseTo(haversineM(o.lat, o.lng, d.lat, d.lng), 6);
    }
    // A few compared in full with the single endpoint.
    for (const i of [0, 137, GEO_MAX_BATCH - 1]) {
      const { origin, destination } = list[i]!;
      expect(featuresOf(res.results[i])).toEqual(await single(origin, destination));
    }
  });

  it('answers an invalid pair in its place, names the field, and the others as usual', async () => {
    const ok = { origin: PLACES.cityHall, destination: PLACES.jamsilStation };
    const list = [
      ok,
      { origin: PLACES.hongikStation, destination: { lat: 100, lng: 127 } },
      'somewhere',
      { origin: { lat: 37.5 }, destination: PLACES.cityHall },
      { origin: PLACES.cityHall },
      null,
      { origin: PLACES.cityHall, destination: { lat: '37.5', lng: 127 } },
      [PLACES.cityHall, PLACES.jamsilStation],
      { origin: PLACES.hongikStation, destination: PLACES.cityHall },
    ];
    const { status, body } = await pairs({ pairs: list });
    expect(status).toBe(200);
    const res = FeaturesPairsResponse.parse(body);
    expect(res.results).toHaveLength(list.length);
    expect(res.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(res.errors).toBe(7);
    expect(res.results.map((r) => ('error' in r ? r.error.field : 'ok'))).toEqual([
      'ok',
      'body.pairs.1.destination.lat',
      'body.pairs.2',
      'body.pairs.3.origin.lng',
      'body.pairs.4.destination',
      'body.pairs.5',
      'body.pairs.6.destination.lat',
      'body.pairs.7',
      'ok',
    ]);
    for (const r of res.results) {
      if ('error' in r) {
        expect(r.error.code).toBe('VALIDATION_ERROR');
        expect(r.error.message).toMatch(new RegExp(`^${r.error.field.replaceAll('.', '\\.')}: `));
      }
    }
    expect(res.results[1]).toMatchObject({ error: { message: expect.stringContaining('[-90, 90]') } });
    expect(res.results[4]).toMatchObject({ error: { message: expect.stringContaining('is required') } });
    expect(featuresOf(res.results[0])).toEqual(await single(ok.origin, ok.destination));
    expect(featuresOf(res.results[8])).toEqual(await single(PLACES.hongikStation, PLACES.cityHall));
  });

  it('answers a list of only invalid pairs with an error for each', async () => {
    const { status, body } = await pairs({ pairs: [{}, 7] });
    expect(status).toBe(200);
    const res = FeaturesPairsResponse.parse(body);
    expect(res.errors).toBe(2);
    expect(res.results.map((r) => ('error' in r ? r.error.field : 'ok'))).toEqual([
      'body.pairs.0.origin',
      'body.pairs.1',
    ]);
  });
});

describe('POST /v1/features/pairs: what the domain refuses for one pair is that pair’s error', () => {
  const REFUSED: LatLng = { lat: 37.5, lng: 127.0001 };
  const BROKEN: LatLng = { lat: 37.5, lng: 127.0002 };
  let stubbed: GeoApp;
  let lines: string[];

  beforeAll(async () => {
    const real = await geoIndex();
    // The real index, except for two points: one the domain refuses as a GeoInputError (as it would if
    // the HTTP schema and the domain ever disagreed), one on which it fails unexpectedly.
    const index = Object.create(real) as GeoIndex;
    index.features = (origin, destination) => {
      if (destination.lng === REFUSED.lng) {
        throw new GeoInputError('INVALID_COORDINATES', 'destination.lng', 'destination.lng is refused');
      }
      if (origin.lng === BROKEN.lng) throw new TypeError('bug in the index');
      return real.features(origin, destination);
    };
    const sink = logSink();
    lines = sink.lines;
    stubbed = await buildApp(testConfig({ LOG_LEVEL: 'error' }), { index, logStream: sink.stream });
  });
  afterAll(async () => {
    await stubbed.close();
  });

  it('answers the code /v1/features would, in place, and the other pairs as usual', async () => {
    const ok = { origin: PLACES.cityHall, destination: PLACES.hongikStation };
    const single = await stubbed.inject({
      method: 'POST',
      url: '/v1/features',
      payload: { origin: PLACES.cityHall, destination: REFUSED },
    });
    expect(single.statusCode).toBe(400);
    const singleErr = ErrorBody.parse(single.json());

    const { status, body } = await pairsOn(stubbed, {
      pairs: [
        ok,
        { origin: PLACES.cityHall, destination: REFUSED },
        { origin: BROKEN, destination: PLACES.jamsilStation },
        ok,
      ],
    });
    expect(status).toBe(200);
    const res = FeaturesPairsResponse.parse(body);
    expect(res.errors).toBe(2);
    expect(res.results[1]).toEqual({
      index: 1,
      error: {
        code: singleErr.code,
        message: 'body.pairs.1.destination.lng: destination.lng is refused (INVALID_COORDINATES)',
        field: 'body.pairs.1.destination.lng',
      },
    });
    expect(singleErr.code).toBe('VALIDATION_ERROR');
    // Not a GeoInputError: /v1/features would answer 500 INTERNAL, so the item says INTERNAL, hides the
    // cause like the kit does, and the stack goes to the log.
    expect(res.results[2]).toEqual({
      index: 2,
      error: {
        code: 'INTERNAL',
        message: expect.not.stringContaining('bug'),
        field: 'body.pairs.2',
      },
    });
    expect(lines.some((l) => l.includes('bug in the index'))).toBe(true);
    expect(featuresOf(res.results[0])).toEqual(featuresOf(res.results[3]));
    expect(featuresOf(res.results[0]).destination).toMatchObject({ dong: { name: '서교동' } });
  });
});

describe('POST /v1/features/pairs: bad requests are a 400 naming the field', () => {
  it.each([
    [
      `${GEO_MAX_BATCH + 1} pairs`,
      { pairs: spreadPairs(GEO_MAX_BATCH + 1) },
      `body.pairs: a call holds at most ${GEO_MAX_BATCH} pairs; split it`,
    ],
    [
      'an empty list',
      { pairs: [] },
      'body.pairs: send at least one pair; an empty list has nothing to answer',
    ],
    ['no list', {}, 'body.pairs: is required'],
    [
      'a single pair instead of a list',
      { pairs: { origin: PLACES.cityHall, destination: PLACES.jamsilStation } },
      'body.pairs: expected an array of { origin, destination }',
    ],
  ])('%s', async (_case, payload, message) => {
    const { status, body } = await pairs(payload);
    expect(status).toBe(400);
    const err = ErrorBody.parse(body);
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.message).toBe(message);
    expect(err.details?.map((d) => d.path)).toEqual(['body.pairs']);
  });

  it('a body that is an array is a 400 naming the body', async () => {
    const { status, body } = await pairs([{ origin: PLACES.cityHall, destination: PLACES.cityHall }]);
    expect(status).toBe(400);
    expect(ErrorBody.parse(body)).toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});
