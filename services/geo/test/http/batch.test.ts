import { ErrorBody, FeaturesBatchResponse, GEO_MAX_BATCH } from '@eta/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { featuresOf, PLACES, postJson, singleFeatures, testApp } from './helpers.ts';

let app: GeoApp;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const batch = (payload: unknown) => postJson(app, '/v1/features/batch', payload);
const single = (origin: unknown, destination: unknown, live?: boolean) =>
  singleFeatures(app, origin, destination, live);

/** Points spread over Seoul, deterministic. */
function seoulPoints(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    lat: 37.45 + ((i * 7919) % 1000) / 4000,
    lng: 126.85 + ((i * 104729) % 1000) / 3000,
  }));
}

describe('POST /v1/features/batch', () => {
  it('answers a store and its customers in request order, each as /v1/features would', async () => {
    const destinations = [PLACES.hongikStation, PLACES.jamsilStation, PLACES.busanStation];
    const { status, body } = await batch({ origin: PLACES.cityHall, destinations });
    expect(status).toBe(200);
    const res = FeaturesBatchResponse.parse(body);
    expect(res.sharedEnd).toBe('origin');
    expect(res.errors).toBe(0);
    expect(res.results.map((r) => r.index)).toEqual([0, 1, 2]);
    for (const [i, d] of destinations.entries()) {
      expect(featuresOf(res.results[i])).toEqual(await single(PLACES.cityHall, d));
    }
    expect(featuresOf(res.results[1]).destination).toMatchObject({ dong: { name: '잠실6동' } });
  });

  it('reads no live statistics unless asked; with live: true, answers each point as /v1/features does', async () => {
    const destinations = [PLACES.hongikStation, PLACES.busanStation];
    const plain = FeaturesBatchResponse.parse((await batch({ origin: PLACES.cityHall, destinations })).body);
    for (const r of plain.results) {
      expect(featuresOf(r).live).toEqual({
        origin: { available: false, reason: 'not-requested' },
        destination: { available: false, reason: 'not-requested' },
      });
    }
    const { status, body } = await batch({ origin: PLACES.cityHall, destinations, live: true });
    expect(status).toBe(200);
    const asked = FeaturesBatchResponse.parse(body);
    for (const [i, d] of destinations.entries()) {
      expect(featuresOf(asked.results[i])).toEqual(await single(PLACES.cityHall, d, true));
    }
    expect(featuresOf(asked.results[0]).live.origin).toEqual({ available: false, reason: 'no-redis' });
    expect(featuresOf(asked.results[1]).live.destination).toEqual({
      available: false,
      reason: 'outside-service-area',
    });
  });

  it('turns the pairs around for a customer and a list of stores', async () => {
    const origins = [PLACES.hongikStation, PLACES.jamsilStation];
    const { status, body } = await batch({ destination: PLACES.cityHall, origins });
    expect(status).toBe(200);
    const res = FeaturesBatchResponse.parse(body);
    expect(res.sharedEnd).toBe('destination');
    const first = featuresOf(res.results[0]);
    expect(first.origin).toMatchObject({ dong: { name: '서교동' } });
    expect(first.destination).toMatchObject({ dong: { name: '명동' } });
    expect(first).toEqual(await single(PLACES.hongikStation, PLACES.cityHall));
  });

  it('answers an invalid item in its place and the others as usual', async () => {
    const destinations = [
      PLACES.hongikStation,
      { lat: 100, lng: 127 },
      'somewhere',
      { lat: 37.5 },
      { lat: 37.5, lng: Number.MAX_VALUE * 10 },
      null,
      PLACES.jamsilStation,
    ];
    const { status, body } = await batch({ origin: PLACES.cityHall, destinations });
    expect(status).toBe(200);
    const res = FeaturesBatchResponse.parse(body);
    expect(res.results).toHaveLength(destinations.length);
    expect(res.errors).toBe(5);
    expect(res.results.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const fields = res.results.map((r) => ('error' in r ? r.error.field : 'ok'));
    expect(fields).toEqual([
      'ok',
      'body.destinations.1.lat',
      'body.destinations.2',
      'body.destinations.3.lng',
      // JSON.stringify writes Infinity as null, so the value arrives as null.
      'body.destinations.4.lng',
      'body.destinations.5',
      'ok',
    ]);
    for (const r of res.results) {
      if ('error' in r) {
        expect(r.error.code).toBe('VALIDATION_ERROR');
        expect(r.error.message).toContain(r.error.field);
      }
    }
    expect(featuresOf(res.results[6]).destination).toMatchObject({ dong: { name: '잠실6동' } });
  });

  it(`answers ${GEO_MAX_BATCH} points, the limit, in one response`, async () => {
    const destinations = seoulPoints(GEO_MAX_BATCH);
    const { status, body } = await batch({ origin: PLACES.cityHall, destinations });
    expect(status).toBe(200);
    const res = FeaturesBatchResponse.parse(body);
    expect(res.results).toHaveLength(GEO_MAX_BATCH);
    expect(res.errors).toBe(0);
    expect(res.results.every((r, i) => r.index === i)).toBe(true);
  });

  it('answers an empty list with no results', async () => {
    const { status, body } = await batch({ origin: PLACES.cityHall, destinations: [] });
    expect(status).toBe(200);
    expect(FeaturesBatchResponse.parse(body)).toEqual({ sharedEnd: 'origin', results: [], errors: 0 });
  });
});

describe('POST /v1/features/batch: bad requests are a 400 naming the field', () => {
  it.each([
    [
      `${GEO_MAX_BATCH + 1} points`,
      { origin: PLACES.cityHall, destinations: seoulPoints(GEO_MAX_BATCH + 1) },
      'body.destinations',
    ],
    ['a shared point out of range', { origin: { lat: 91, lng: 127 }, destinations: [] }, 'body.origin.lat'],
    ['a shared point as a string', { destination: 'City Hall', origins: [] }, 'body.destination'],
    ['no list', { origin: PLACES.cityHall }, 'body.destinations'],
    ['the list for the wrong end', { origin: PLACES.cityHall, origins: [] }, 'body.destinations'],
    [
      'both shapes at once',
      { origin: PLACES.cityHall, destinations: [], destination: PLACES.cityHall, origins: [] },
      'body.destinations',
    ],
    ['nothing', {}, 'body'],
    [
      'a list that is not an array',
      { origin: PLACES.cityHall, destinations: { lat: 37.5, lng: 127 } },
      'body.destinations',
    ],
    ['live a string', { origin: PLACES.cityHall, destinations: [], live: 'true' }, 'body.live'],
  ])('%s', async (_case, payload, field) => {
    const { status, body } = await batch(payload);
    expect(status).toBe(400);
    const err = ErrorBody.parse(body);
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details?.map((d) => d.path)).toContain(field);
  });

  it('refuses a body far beyond any batch with 413', async () => {
    const destinations = Array.from({ length: 20_000 }, () => PLACES.cityHall);
    const { status, body } = await batch({ origin: PLACES.cityHall, destinations });
    expect(status).toBe(413);
    expect(ErrorBody.parse(body).code).toBe('PAYLOAD_TOO_LARGE');
  });
});
