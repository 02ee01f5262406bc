// What schemathesis (scripts/fuzz) found in the ML proxy's OpenAPI document, held here: a path parameter
// the document calls valid reaches its route, the document stays readable by OpenAPI tools, and its
// inference example is answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlProxyApp } from '../../src/app.ts';
import { startApp } from '../helpers.ts';

type Schema = Record<string, unknown>;
interface Operation {
  readonly parameters?: readonly { in: string; name: string; schema: Schema; example?: unknown }[];
  readonly requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
}
interface Document {
  readonly paths: Record<string, Record<string, Operation>>;
}

/** A body the infer routes' schema takes, so an unknown model is what the route answers (404). */
const INFER_BODY = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 1], data: [0] }] };

describe('the ML proxy as its OpenAPI document describes it', { timeout: 30_000 }, () => {
  let app: MlProxyApp;
  let doc: Document;

  beforeAll(async () => {
    app = await startApp();
    doc = (await app.inject('/openapi.json')).json<Document>();
  }, 60_000);
  afterAll(() => app.close());

  describe('regression: model names of 101-256 characters were documented and answered 414', () => {
    // schemathesis: the document said `name` up to 256 characters (`version` 64), while the router refuses
    // any path parameter over 100 with 414 URI_TOO_LONG before the route runs. The kit now documents every
    // path parameter at most that long.
    it('a path parameter as long as documented reaches the route; one character more is refused', async () => {
      let checked = 0;
      for (const [path, operations] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(operations)) {
          for (const param of op.parameters?.filter((p) => p.in === 'path') ?? []) {
            const max = param.schema['maxLength'];
            expect(max, `${method} ${path} ${param.name}`).toBeTypeOf('number');
            const url = (length: number) =>
              path.replace(/\{(\w+)\}/g, (_, name: string) =>
                name === param.name ? 'a'.repeat(length) : 'x',
              );
            const send = (length: number) =>
              method === 'post'
                ? app.inject({ method: 'POST', url: url(length), payload: INFER_BODY })
                : app.inject({ method: 'GET', url: url(length) });
            const longest = await send(max as number);
            expect(longest.statusCode, `${method} ${path} ${param.name}`).toBe(404);
            // Longer than documented: refused, by the router (414) or the route's schema (400).
            const over = await send((max as number) + 1);
            expect([400, 414], `${method} ${path} ${param.name}`).toContain(over.statusCode);
            checked++;
          }
        }
      }
      expect(checked).toBeGreaterThanOrEqual(9);
    });
  });

  describe('regression: a feature range was a prefixItems tuple, which schemathesis could not read', () => {
    // schemathesis 4.32 turned `prefixItems` into draft-7 `items: [...]` and then rejected its own result
    // as an invalid 2020-12 schema, so no model metadata answer was checked. [min, max] is documented as
    // an array of exactly two numbers, which every tool reads.
    it('the document has no prefixItems, and the metadata still answers [min, max]', async () => {
      expect(JSON.stringify(doc)).not.toContain('prefixItems');
      const meta = (await app.inject('/v2/models/eta-rough')).json<{
        parameters: { features: { name: string; range?: number[] }[] };
      }>();
      const distance = meta.parameters.features.find((f) => f.name === 'distance_km');
      expect(distance?.range).toEqual([0, 30]);
    });
  });

  it("the document's inference example is answered, as the fuzz step's examples phase sends it", async () => {
    const op = doc.paths['/v2/models/{name}/infer']!['post']!;
    // @fastify/swagger writes a schema's `examples` as the parameter's and the media type's `example`.
    const name = op.parameters!.find((p) => p.name === 'name')!.example;
    const body = op.requestBody!.content['application/json']!.example;
    expect(name).toBe('eta-rough');
    expect(body).toBeTypeOf('object');
    const res = await app.inject({
      method: 'POST',
      url: `/v2/models/${String(name)}/infer`,
      payload: body as object,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ model_name: name, outputs: expect.any(Array) });
  });
});
