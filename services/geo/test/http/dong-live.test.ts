import { DongLiveResponse, ErrorBody } from '@eta/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { testApp } from './helpers.ts';

// The operator route without Redis; with Redis (values, no-data, the same read as the features routes):
// test/integration/live.integration.test.ts.
let app: GeoApp;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

const get = async (code: string) => {
  const res = await app.inject({ method: 'GET', url: `/v1/regions/dongs/${code}/live` });
  return { status: res.statusCode, body: res.json<unknown>() };
};

describe('GET /v1/regions/dongs/:code/live', () => {
  it('answers the dong, its gu and its live block, which says why it is empty without Redis', async () => {
    const { status, body } = await get('1114055000');
    expect(status).toBe(200);
    expect(DongLiveResponse.parse(body)).toEqual({
      dong: {
        code: '1114055000',
        name: '명동',
        regionClass: 'metropolitan',
        foodDensity: expect.any(Number),
      },
      gu: { code: '11140', name: '중구' },
      live: { available: false, reason: 'no-redis' },
    });
  });

  it('answers every dong of the geodata under its own code', async () => {
    const dongs = app.geoIndex.dongs();
    expect(dongs).toHaveLength(425);
    for (const { dong, gu } of dongs) {
      const { status, body } = await get(dong.code);
      expect({ code: dong.code, status }).toEqual({ code: dong.code, status: 200 });
      expect(DongLiveResponse.parse(body)).toMatchObject({ dong, gu });
    }
  });

  it('answers a well-formed code that is no dong of Seoul with 404 DONG_NOT_FOUND', async () => {
    const { status, body } = await get('1199999999');
    expect(status).toBe(404);
    expect(ErrorBody.parse(body)).toMatchObject({
      code: 'DONG_NOT_FOUND',
      message: expect.stringContaining('1199999999'),
    });
  });

  it.each([
    ['a gu code (5 digits)', '11140'],
    ['11 digits', '11140550001'],
    ['letters', 'myeongdong'],
    ['digits with a sign', '+114055000'],
  ])('refuses %s as a 400 naming the parameter', async (_case, code) => {
    const { status, body } = await get(code);
    expect(status).toBe(400);
    const err = ErrorBody.parse(body);
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.details?.map((d) => d.path)).toEqual(['params.code']);
  });
});
