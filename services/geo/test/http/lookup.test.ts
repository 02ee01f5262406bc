import { ErrorBody, LookupResponse } from '@eta/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { PLACES, testApp } from './helpers.ts';

let app: GeoApp;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

async function lookup(query: string) {
  const res = await app.inject({ method: 'GET', url: `/v1/regions/lookup?${query}` });
  return { status: res.statusCode, body: res.json<unknown>() };
}

describe('GET /v1/regions/lookup: known places', () => {
  it.each([
    ['Seoul City Hall', PLACES.cityHall, { code: '11140', name: '중구' }, '1114055000', '명동'],
    ['Hongik Univ. station', PLACES.hongikStation, { code: '11440', name: '마포구' }, '1144066000', '서교동'],
    ['Jamsil station', PLACES.jamsilStation, { code: '11710', name: '송파구' }, '1171071000', '잠실6동'],
  ])('puts %s in its gu and dong', async (_name, p, gu, dongCode, dongName) => {
    const { status, body } = await lookup(`lat=${p.lat}&lng=${p.lng}`);
    expect(status).toBe(200);
    const region = LookupResponse.parse(body);
    expect(region).toMatchObject({ inServiceArea: true, gu, dong: { code: dongCode, name: dongName } });
    if (!region.inServiceArea) throw new Error('unreachable');
    expect(['metropolitan', 'urban', 'semi-urban']).toContain(region.dong.regionClass);
    expect(region.h3.r9).toMatch(/^89[0-9a-f]{13}$/);
  });

  it('answers Busan as outside the service area, with H3 cells but no gu or dong', async () => {
    const { status, body } = await lookup(`lat=${PLACES.busanStation.lat}&lng=${PLACES.busanStation.lng}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      inServiceArea: false,
      h3: { r7: expect.any(String), r8: expect.any(String), r9: expect.any(String) },
    });
  });

  it('accepts the edges of the coordinate ranges', async () => {
    for (const q of ['lat=90&lng=180', 'lat=-90&lng=-180', 'lat=0&lng=0', 'lat=%2B37.5&lng=1.27e2']) {
      const { status } = await lookup(q);
      expect(status, q).toBe(200);
    }
  });
});

describe('GET /v1/regions/lookup: bad input is a 400 naming the field', () => {
  it.each([
    ['lat missing', 'lng=126.97', 'querystring.lat'],
    ['lng missing', 'lat=37.56', 'querystring.lng'],
    ['nothing at all', '', 'querystring.lat'],
    ['lat empty (not 0)', 'lat=&lng=126.97', 'querystring.lat'],
    ['lat a word', 'lat=north&lng=126.97', 'querystring.lat'],
    ['lat NaN', 'lat=NaN&lng=126.97', 'querystring.lat'],
    ['lat Infinity', 'lat=Infinity&lng=126.97', 'querystring.lat'],
    ['lat overflowing to Infinity', 'lat=1e400&lng=126.97', 'querystring.lat'],
    ['lat hex', 'lat=0x25&lng=126.97', 'querystring.lat'],
    ['lat with spaces', 'lat=%2037.5&lng=126.97', 'querystring.lat'],
    ['lat above 90', 'lat=90.0001&lng=126.97', 'querystring.lat'],
    ['lat below -90', 'lat=-91&lng=126.97', 'querystring.lat'],
    ['lng above 180', 'lat=37.56&lng=180.5', 'querystring.lng'],
    ['lng below -180', 'lat=37.56&lng=-181', 'querystring.lng'],
    ['lat and lng swapped', 'lat=126.97&lng=37.56', 'querystring.lat'],
    ['lat given twice', 'lat=37.5&lat=37.6&lng=126.97', 'querystring.lat'],
  ])('%s', async (_case, query, field) => {
    const { status, body } = await lookup(query);
    expect(status).toBe(400);
    const err = ErrorBody.parse(body);
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details?.map((d) => d.path)).toContain(field);
    expect(err.message).toContain(field);
  });
});
