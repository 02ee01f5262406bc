// What schemathesis (scripts/fuzz) found in Geo's OpenAPI document, held here: a request the document
// calls valid is one the service accepts, and one it calls invalid is refused. Each case is judged by the
// document as served (its own schemas, read by a small evaluator of the keywords they use), so a document
// that drifts from the routes fails here, whichever of the two changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GeoApp } from '../../src/app.ts';
import { PLACES, testApp } from './helpers.ts';

type Schema = Record<string, unknown>;
interface Operation {
  readonly parameters?: readonly { in: string; name: string; required?: boolean; schema: Schema }[];
  readonly requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
}

/**
 * Whether `value` satisfies `schema`, for the keywords Geo's request schemas use (type, minimum, maximum,
 * pattern, maxLength, properties, required, oneOf). A query value is text: `type: number` admits the text of a JSON
 * number, as a client serializing the parameter would write it.
 */
function admits(schema: Schema, value: unknown, query = false): boolean {
  const type = schema['type'];
  let v = value;
  if (query && type === 'number') {
    if (typeof value !== 'string' || !/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(value))
      return false;
    v = Number(value);
  }
  if (type === 'number' && (typeof v !== 'number' || !Number.isFinite(v))) return false;
  if (type === 'string' && typeof v !== 'string') return false;
  if (type === 'boolean' && typeof v !== 'boolean') return false;
  if (type === 'object' && (typeof v !== 'object' || v === null || Array.isArray(v))) return false;
  if (type === 'array' && !Array.isArray(v)) return false;
  if (typeof v === 'number') {
    if (typeof schema['minimum'] === 'number' && v < schema['minimum']) return false;
    if (typeof schema['maximum'] === 'number' && v > schema['maximum']) return false;
  }
  if (typeof v === 'string' && typeof schema['pattern'] === 'string') {
    if (!new RegExp(schema['pattern'], 'u').test(v)) return false;
  }
  if (typeof v === 'string' && typeof schema['maxLength'] === 'number') {
    if ([...v].length > schema['maxLength']) return false;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const object = v as Record<string, unknown>;
    for (const key of (schema['required'] as string[] | undefined) ?? []) if (!(key in object)) return false;
    const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [key, sub] of Object.entries(properties)) {
      if (key in object && !admits(sub, object[key])) return false;
    }
  }
  const oneOf = schema['oneOf'] as Schema[] | undefined;
  if (oneOf !== undefined && oneOf.filter((s) => admits(s, v)).length !== 1) return false;
  return true;
}

describe('Geo as its OpenAPI document describes it', () => {
  let app: GeoApp;
  let doc: Document;

  beforeAll(async () => {
    app = await testApp();
    doc = (await app.inject('/openapi.json')).json<Document>();
  }, 60_000);
  afterAll(() => app.close());

  describe('regression: /v1/regions/lookup documented any decimal text as lat/lng, and answered 400 to most', () => {
    // schemathesis: `lat=.230288E-9&lng=%2B5829313406097` matched the documented pattern and was refused
    // (longitude out of range). The document now says what is accepted: a number within the range.
    const values = [
      '0',
      '90',
      '-90',
      '37.5572',
      '1e1',
      '9e1',
      '90.0001',
      '-90.5',
      '1e2',
      '+5829313406097',
      'abc',
    ];

    it.each(['lat', 'lng'])('%s: the document admits exactly what the route accepts', async (name) => {
      const param = doc.paths['/v1/regions/lookup']!['get']!.parameters!.find((p) => p.name === name)!;
      expect(param.required).toBe(true);
      const other = name === 'lat' ? `lng=${PLACES.cityHall.lng}` : `lat=${PLACES.cityHall.lat}`;
      for (const value of values) {
        const res = await app.inject(`/v1/regions/lookup?${name}=${encodeURIComponent(value)}&${other}`);
        const documented = admits(param.schema, value, true);
        expect({ value, status: res.statusCode }).toEqual({ value, status: documented ? 200 : 400 });
      }
    });
  });

  describe('regression: /v1/features/batch documented neither shape rule, so half its documented bodies were a 400', () => {
    // schemathesis: `{ origin, destination, origins: [], destinations: [{}] }` fitted the document (every
    // field optional) and was refused: exactly one of the two shapes is taken.
    const { cityHall: a, hongikStation: b } = PLACES;
    const bodies = [
      { origin: a, destinations: [b] },
      { destination: b, origins: [a, {}] },
      { origin: a, destination: b, origins: [], destinations: [{}] },
      { origin: a, destinations: [b], origins: [a] },
      { origin: a },
      { destinations: [b] },
      {},
    ];

    it('the document admits exactly the bodies the route answers', async () => {
      const schema =
        doc.paths['/v1/features/batch']!['post']!.requestBody!.content['application/json']!.schema;
      for (const body of bodies) {
        const res = await app.inject({ method: 'POST', url: '/v1/features/batch', payload: body });
        expect({ body, status: res.statusCode }).toEqual({ body, status: admits(schema, body) ? 200 : 400 });
      }
    });
  });

  describe('the live flag of the features bodies', () => {
    const pair = { origin: PLACES.cityHall, destination: PLACES.hongikStation };
    const flags = [true, false, undefined, 'true', 1, 0, null, {}, []];
    const cases = [
      { path: '/v1/features', body: (live: unknown) => ({ ...pair, live }) },
      {
        path: '/v1/features/batch',
        body: (live: unknown) => ({ origin: pair.origin, destinations: [pair.destination], live }),
      },
      { path: '/v1/features/pairs', body: (live: unknown) => ({ pairs: [pair], live }) },
    ];

    it.each(cases)(
      '$path: the document admits exactly the flags the route accepts',
      async ({ path, body }) => {
        const schema = doc.paths[path]!['post']!.requestBody!.content['application/json']!.schema;
        for (const live of flags) {
          const payload = live === undefined ? JSON.parse(JSON.stringify(body(live))) : body(live);
          const res = await app.inject({ method: 'POST', url: path, payload });
          const documented = admits(schema, payload);
          expect({ live, status: res.statusCode }).toEqual({ live, status: documented ? 200 : 400 });
        }
      },
    );
  });

  describe('the dong code of /v1/regions/dongs/{code}/live', () => {
    it('the document admits exactly the codes the route takes (a code of no dong is a 404, not a 400)', async () => {
      const param = doc.paths['/v1/regions/dongs/{code}/live']!['get']!.parameters!.find(
        (p) => p.name === 'code',
      )!;
      expect(param).toMatchObject({ in: 'path', required: true });
      const codes = [
        '1114055000',
        '1199999999',
        '0000000000',
        '11140',
        '11140550001',
        'abcdefghij',
        '１１１４０５５０００',
      ];
      for (const code of codes) {
        const res = await app.inject(`/v1/regions/dongs/${encodeURIComponent(code)}/live`);
        const documented = admits(param.schema, code);
        expect({ code, documented, status: res.statusCode }).toEqual({
          code,
          documented,
          status: documented ? (code === '1114055000' ? 200 : 404) : 400,
        });
      }
    });
  });

  describe('what the fuzz step accepts as designed (scripts/fuzz/README.md)', () => {
    it('a QUERY without Content-Type is a 400 BAD_REQUEST before routing; with one, a 405 with Allow', async () => {
      const bare = await app.inject({ method: 'QUERY' as 'GET', url: '/v1/regions/lookup' });
      expect(bare.statusCode).toBe(400);
      expect(bare.json()).toMatchObject({ code: 'BAD_REQUEST' });
      const typed = await app.inject({
        method: 'QUERY' as 'GET',
        url: '/v1/features',
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(typed.statusCode).toBe(405);
      expect(typed.headers['allow']).toBe('POST');
      expect(typed.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    });

    it('a body with a __proto__ key is a 400 BAD_REQUEST, however well it fits the schema', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/features',
        headers: { 'content-type': 'application/json' },
        payload: `{"origin":{"lat":37.5663,"lng":126.9779,"__proto__":{}},"destination":{"lat":37.5572,"lng":126.9245}}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST' });
    });
  });
});
