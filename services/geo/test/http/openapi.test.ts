// Geo's OpenAPI document (GET /openapi.json, from the service kit): valid OpenAPI 3.1, every registered
// route in it with its method, the suite's error body on every error status, and what the routes answer
// (to an empty call and to a good one) is a status and media type the document lists.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import type { GeoApp } from '../../src/app.ts';
import { PLACES, testApp } from './helpers.ts';

interface Response {
  readonly description: string;
  readonly content?: Record<string, { schema: Record<string, unknown> }>;
}
interface Operation {
  readonly responses: Record<string, Response>;
  readonly parameters?: readonly { in: string; name: string; required?: boolean }[];
  readonly requestBody?: { content: Record<string, unknown> };
}
interface Document {
  readonly openapi: string;
  readonly info: { title: string; version: string };
  readonly paths: Record<string, Record<string, Operation>>;
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*/g, '{*}');

describe('GET /openapi.json', () => {
  let app: GeoApp;
  let doc: Document;

  beforeAll(async () => {
    app = await testApp();
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    doc = res.json<Document>();
  }, 60_000);
  afterAll(() => app.close());

  it('is valid OpenAPI 3.1 with the service version', async () => {
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'geo', version: pkg.version });
  });

  it('has every registered route with its method, and nothing else', () => {
    const routes = app.registeredRoutes();
    // Fastify adds a HEAD twin to every GET route.
    const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
    const expected = routes
      .filter((r) => !(r.method === 'HEAD' && gets.has(r.url)))
      .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`);
    expect(expected).toEqual(
      expect.arrayContaining([
        'get /v1/regions/lookup',
        'get /v1/regions/dongs/{code}/live',
        'post /v1/features',
        'post /v1/features/batch',
        'post /v1/features/pairs',
      ]),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(documented.sort()).toEqual(expected.sort());
  });

  it("documents the suite's error body on every error status, and the lookup's query", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          expect(response.content?.['application/json']?.schema, `${method} ${path} ${status}`).toMatchObject(
            {
              properties: { code: { type: 'string' }, message: { type: 'string' } },
              required: ['code', 'message'],
            },
          );
        }
      }
    }
    const lookup = doc.paths['/v1/regions/lookup']!['get']!;
    expect(lookup.parameters?.map((p) => [p.in, p.name, p.required])).toEqual([
      ['query', 'lat', true],
      ['query', 'lng', true],
    ]);
    const features = doc.paths['/v1/features']!['post']!;
    expect(Object.keys(features.responses).sort()).toEqual(['200', '400', '413', '415', '500', '503', '504']);
    expect(features.requestBody?.content['application/json']).toBeDefined();
    const dongLive = doc.paths['/v1/regions/dongs/{code}/live']!['get']!;
    expect(dongLive.parameters?.map((p) => [p.in, p.name, p.required])).toEqual([['path', 'code', true]]);
    expect(Object.keys(dongLive.responses)).toEqual(expect.arrayContaining(['200', '400', '404']));
  });

  it('documents the optional live flag of every features body, a boolean off by default', () => {
    for (const path of ['/v1/features', '/v1/features/batch', '/v1/features/pairs']) {
      const schema = doc.paths[path]!['post']!.requestBody!.content['application/json'] as {
        schema: { properties: Record<string, { type?: string; description?: string }>; required?: string[] };
      };
      expect(schema.schema.properties['live'], path).toMatchObject({
        type: 'boolean',
        description: expect.stringContaining('not-requested'),
      });
      expect(schema.schema.required ?? [], path).not.toContain('live');
    }
  });

  it('answers empty and good calls with a status and media type it documents', async () => {
    const calls = [
      ...Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((method) => ({
          method: method.toUpperCase(),
          path,
          url: path,
          payload: undefined,
        })),
      ),
      {
        method: 'GET',
        path: '/v1/regions/lookup',
        url: `/v1/regions/lookup?lat=${PLACES.cityHall.lat}&lng=${PLACES.cityHall.lng}`,
        payload: undefined,
        status: 200,
      },
      {
        method: 'POST',
        path: '/v1/features',
        url: '/v1/features',
        payload: { origin: PLACES.hongikStation, destination: PLACES.cityHall },
        status: 200,
      },
      {
        method: 'GET',
        path: '/v1/regions/dongs/{code}/live',
        url: '/v1/regions/dongs/1114055000/live',
        payload: undefined,
        status: 200,
      },
      {
        method: 'GET',
        path: '/v1/regions/dongs/{code}/live',
        url: '/v1/regions/dongs/1199999999/live',
        payload: undefined,
        status: 404,
      },
      {
        method: 'POST',
        path: '/v1/features',
        url: '/v1/features',
        payload: { origin: PLACES.hongikStation, destination: PLACES.cityHall, live: true },
        status: 200,
      },
      {
        method: 'POST',
        path: '/v1/features/pairs',
        url: '/v1/features/pairs',
        payload: { pairs: [{ origin: PLACES.hongikStation, destination: PLACES.jamsilStation }] },
        status: 200,
      },
    ];
    for (const call of calls) {
      const res = await app.inject({
        method: call.method as 'GET',
        url: call.url,
        ...(call.payload !== undefined ? { payload: call.payload } : {}),
      });
      const where = `${call.method} ${call.url} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
      if ('status' in call) expect(res.statusCode, where).toBe(call.status);
      const documented = doc.paths[call.path]![call.method.toLowerCase()]!.responses[String(res.statusCode)];
      expect(documented, where).toBeDefined();
      const media = String(res.headers['content-type']).split(';')[0]!;
      expect(Object.keys(documented!.content ?? {}), where).toContain(media);
    }
  });
});
