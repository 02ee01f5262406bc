import { ErrorBody, FeaturesResponse } from '@eta/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { estimateRoadDistanceM, haversineM } from '../../src/domain/index.ts';
import { PLACES, testApp } from './helpers.ts';

let app: GeoApp;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

async function features(payload: unknown) {
  const res = await app.inject({ method: 'POST', url: '/v1/features', payload: payload as object });
  return { status: res.statusCode, body: res.json<unknown>() };
}

async function featuresRaw(body: string) {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/features',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: res.statusCode, body: res.json<unknown>() };
}

describe('POST /v1/features', () => {
  it('answers City Hall -> Jamsil station across the Han river with both regions', async () => {
    const o = PLACES.cityHall;
    const d = PLACES.jamsilStation;
    const { status, body } = await features({ origin: o, destination: d });
    expect(status).toBe(200);
    const f = FeaturesResponse.parse(body);
    const distanceM = haversineM(o.lat, o.lng, d.lat, d.lng);
    expect(f.distanceM).toBeCloseTo(distanceM, 6);
    expect(f.distanceM).toBeGreaterThan(12_000);
    expect(f.distanceM).toBeLessThan(12_600);
    expect(f.crossesHanRiver).toBe(true);
    expect(f.roadDistanceM).toBeCloseTo(estimateRoadDistanceM(distanceM, true), 6);
    // East-south-east.
    expect(f.bearingDeg).toBeGreaterThan(100);
    expect(f.bearingDeg).toBeLessThan(135);
    expect(f).toMatchObject({
      origin: { inServiceArea: true, gu: { name: '중구' }, dong: { name: '명동' } },
      destination: { inServiceArea: true, gu: { name: '송파구' }, dong: { name: '잠실6동' } },
      sameDong: false,
      sameGu: false,
    });
  });

  it('reads no live statistics unless asked: each live block says not-requested', async () => {
    for (const payload of [
      { origin: PLACES.cityHall, destination: PLACES.hongikStation },
      { origin: PLACES.cityHall, destination: PLACES.hongikStation, live: false },
    ]) {
      const { status, body } = await features(payload);
      expect(status).toBe(200);
      expect(FeaturesResponse.parse(body).live).toEqual({
        origin: { available: false, reason: 'not-requested' },
        destination: { available: false, reason: 'not-requested' },
      });
    }
  });

  it('answers the same geometry with and without live: true; only the live block differs', async () => {
    const pair = { origin: PLACES.cityHall, destination: PLACES.jamsilStation };
    const plain = FeaturesResponse.parse((await features(pair)).body);
    const asked = FeaturesResponse.parse((await features({ ...pair, live: true })).body);
    expect({ ...asked, live: plain.live }).toEqual(plain);
    expect(asked.live).not.toEqual(plain.live);
  });

  it('says so when live statistics are asked for and cannot exist: no Redis configured', async () => {
    const { body } = await features({
      origin: PLACES.cityHall,
      destination: PLACES.hongikStation,
      live: true,
    });
    expect(FeaturesResponse.parse(body).live).toEqual({
      origin: { available: false, reason: 'no-redis' },
      destination: { available: false, reason: 'no-redis' },
    });
  });

  it('marks two points of one dong as same dong and same gu, with no river crossing', async () => {
    const o = PLACES.cityHall;
    const { status, body } = await features({ origin: o, destination: { lat: o.lat + 0.0005, lng: o.lng } });
    expect(status).toBe(200);
    const f = FeaturesResponse.parse(body);
    expect(f).toMatchObject({ sameDong: true, sameGu: true, crossesHanRiver: false });
    expect(f.distanceM).toBeGreaterThan(50);
    expect(f.distanceM).toBeLessThan(60);
    expect(f.roadDistanceM).toBeGreaterThan(f.distanceM);
  });

  it('answers a destination outside Seoul without a region and says why it has no live block', async () => {
    const { status, body } = await features({
      origin: PLACES.cityHall,
      destination: PLACES.busanStation,
      live: true,
    });
    expect(status).toBe(200);
    const f = FeaturesResponse.parse(body);
    expect(f.destination).toEqual({ inServiceArea: false, h3: expect.any(Object) });
    expect(f.live.destination).toEqual({ available: false, reason: 'outside-service-area' });
    expect(f).toMatchObject({ sameDong: false, sameGu: false, crossesHanRiver: false });
    expect(f.distanceM).toBeGreaterThan(300_000);
  });

  it('answers a zero-length pair', async () => {
    const { status, body } = await features({ origin: PLACES.cityHall, destination: PLACES.cityHall });
    expect(status).toBe(200);
    expect(FeaturesResponse.parse(body)).toMatchObject({ distanceM: 0, sameDong: true });
  });
});

describe('POST /v1/features: bad input is a 400 naming the field', () => {
  const ok = PLACES.cityHall;
  it.each([
    ['origin.lat a string', { origin: { lat: '37.5', lng: ok.lng }, destination: ok }, 'body.origin.lat'],
    ['origin.lat null', { origin: { lat: null, lng: ok.lng }, destination: ok }, 'body.origin.lat'],
    ['origin.lng missing', { origin: { lat: ok.lat }, destination: ok }, 'body.origin.lng'],
    ['destination missing', { origin: ok }, 'body.destination'],
    ['origin a string', { origin: '37.5,126.9', destination: ok }, 'body.origin'],
    ['origin an array', { origin: [37.5, 126.9], destination: ok }, 'body.origin'],
    [
      'destination.lat above 90',
      { origin: ok, destination: { lat: 90.5, lng: 127 } },
      'body.destination.lat',
    ],
    [
      'destination.lat below -90',
      { origin: ok, destination: { lat: -95, lng: 127 } },
      'body.destination.lat',
    ],
    ['destination.lng above 180', { origin: ok, destination: { lat: 37, lng: 181 } }, 'body.destination.lng'],
    [
      'destination.lng below -180',
      { origin: ok, destination: { lat: 37, lng: -200 } },
      'body.destination.lng',
    ],
    ['swapped coordinates', { origin: { lat: 126.97, lng: 37.56 }, destination: ok }, 'body.origin.lat'],
    ['a body that is an array', [ok, ok], 'body'],
    ['live a string', { origin: ok, destination: ok, live: 'true' }, 'body.live'],
    ['live a number', { origin: ok, destination: ok, live: 1 }, 'body.live'],
    ['live null', { origin: ok, destination: ok, live: null }, 'body.live'],
  ])('%s', async (_case, payload, field) => {
    const { status, body } = await features(payload);
    expect(status).toBe(400);
    const err = ErrorBody.parse(body);
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details?.map((d) => d.path)).toContain(field);
  });

  it.each([
    [
      'NaN (not JSON, so a parse error)',
      '{"origin":{"lat":NaN,"lng":126.9},"destination":{"lat":37.5,"lng":127}}',
    ],
    ['a truncated body', '{"origin":{"lat":37.5,'],
    ['an empty body', ''],
  ])('%s is a 400 BAD_REQUEST', async (_case, raw) => {
    const { status, body } = await featuresRaw(raw);
    expect(status).toBe(400);
    expect(ErrorBody.parse(body).code).toBe('BAD_REQUEST');
  });

  it('a number that overflows to Infinity is a 400 naming it', async () => {
    const { status, body } = await featuresRaw(
      '{"origin":{"lat":1e400,"lng":126.9},"destination":{"lat":37.5,"lng":127}}',
    );
    expect(status).toBe(400);
    expect(ErrorBody.parse(body).details?.map((d) => d.path)).toEqual(['body.origin.lat']);
  });

  it('lists every bad field at once', async () => {
    const { status, body } = await features({ origin: { lat: 'x', lng: 500 }, destination: {} });
    expect(status).toBe(400);
    expect(
      ErrorBody.parse(body)
        .details?.map((d) => d.path)
        .sort(),
    ).toEqual(['body.destination.lat', 'body.destination.lng', 'body.origin.lat', 'body.origin.lng']);
  });
});
