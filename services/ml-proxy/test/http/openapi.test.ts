// The ML proxy's OpenAPI document (GET /openapi.json, from the service kit): valid OpenAPI 3.1, every
// registered route in it with its method, V2 errors documented as `{ error, code }` on every /v2 operation,
// and what each operation answers to an empty call is a status and media type it documents.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlProxyApp } from '../../src/app.ts';
import { startApp } from '../helpers.ts';

interface Response {
  readonly description: string;
  readonly content?: Record<string, { schema: Record<string, unknown> }>;
}
interface Operation {
  readonly responses: Record<string, Response>;
  readonly requestBody?: { content: Record<string, unknown> };
}
interface Document {
  readonly openapi: string;
  readonly info: { title: string; version: string };
  readonly paths: Record<string, Record<string, Operation>>;
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*/g, '{*}');

describe('GET /openapi.json', { timeout: 30_000 }, () => {
  let app: MlProxyApp;
  let doc: Document;

  beforeAll(async () => {
    app = await startApp();
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
    const v2 = (await app.inject('/v2')).json<{ version: string }>();
    expect(doc.info).toMatchObject({ title: 'ml-proxy', version: v2.version });
  });

  it('has every registered route with its method, and nothing else', () => {
    const routes = app.registeredRoutes();
    // Fastify adds a HEAD twin to every GET route (under a prefix, `/` gets it at `/prefix/`).
    const gets = new Set(routes.filter((r) => r.method === 'GET').flatMap((r) => [r.url, `${r.url}/`]));
    const expected = routes
      .filter((r) => !(r.method === 'HEAD' && gets.has(r.url)))
      .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`);
    expect(expected).toEqual(
      expect.arrayContaining([
        'post /v2/models/{name}/infer',
        'get /v2/models/{name}/versions/{version}/ready',
      ]),
    );
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(documented.sort()).toEqual(expected.sort());
  });

  it('documents every /v2 error as { error, code }, and the infer answer as JSON or binary tensor data', () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v2')) continue;
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          expect(response.content?.['application/json']?.schema, `${method} ${path} ${status}`).toMatchObject(
            {
              properties: { error: { type: 'string' }, code: { type: 'string' } },
              required: ['error', 'code'],
            },
          );
        }
      }
    }
    const infer = doc.paths['/v2/models/{name}/infer']!['post']!;
    expect(Object.keys(infer.responses).sort()).toEqual(
      ['200', '400', '404', '413', '414', '415', '500', '503', '504'].sort(),
    );
    expect(Object.keys(infer.responses['200']!.content ?? {}).sort()).toEqual([
      'application/json',
      'application/octet-stream',
    ]);
    expect(infer.requestBody?.content['application/json']).toBeDefined();
  });

  it('answers each operation, called with nothing, with a status and media type it documents', async () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace(/\{[^}]+\}/g, 'unknown');
        const res = await app.inject({ method: method.toUpperCase() as 'GET', url });
        const where = `${method} ${url} -> ${res.statusCode}`;
        const documented = op.responses[String(res.statusCode)];
        expect(documented, where).toBeDefined();
        const media = String(res.headers['content-type']).split(';')[0]!;
        expect(Object.keys(documented!.content ?? {}), where).toContain(media);
      }
    }
  });
});
