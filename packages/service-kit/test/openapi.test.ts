// The OpenAPI document every service serves at GET /openapi.json: valid OpenAPI 3.1 (checked by a real
// validator), every registered route in it with its method, the kit's error statuses on every operation in
// the error format of the route's scope, responses per media type, security schemes, info.version.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setErrorFormat, type ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

interface Operation {
  readonly responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  readonly parameters?: readonly { in: string; name: string; required?: boolean }[];
  readonly requestBody?: { content: Record<string, unknown> };
  readonly security?: readonly Record<string, readonly string[]>[];
}
interface Document {
  readonly openapi: string;
  readonly info: { title: string; version: string; description?: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { securitySchemes?: Record<string, unknown> };
}

/** `/v2/models/:name` -> `/v2/models/{name}`, `/admin/*` -> `/admin/{*}`, as OpenAPI paths are written. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*/g, '{*}');

const V2Error = z.object({ error: z.string(), code: z.string() });
const v2Format = {
  schema: V2Error,
  format: (b: { code: string; message: string }) => ({ error: b.message, code: b.code }),
};

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function documentOf(a: ServiceApp): Promise<Document> {
  const res = await a.inject({ url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json<Document>();
}

async function expectValid(doc: Document): Promise<void> {
  // The validator adds to the object it reads; it gets a copy.
  const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
}

/** A service with the kinds of routes the services have: body, params, query, per-media answers, a V2 scope. */
async function sampleService(): Promise<ServiceApp> {
  const { app: a } = await testService({
    version: '7.8.9',
    openapi: {
      description: 'A sample.',
      securitySchemes: { callerBearer: { type: 'http', scheme: 'bearer' } },
    },
  });
  a.post(
    '/v1/things/:id',
    {
      schema: {
        security: [{ callerBearer: [] }],
        params: z.object({ id: z.string().regex(/^\d+$/) }),
        body: z.object({ size: z.number().int().min(1) }),
        response: {
          200: z.object({ id: z.string(), size: z.number() }),
          404: z.object({ code: z.string() }),
        },
      },
    },
    async (request) => ({ id: request.params.id, size: request.body.size }),
  );
  a.get(
    '/v1/things',
    { schema: { querystring: z.object({ limit: z.coerce.number().int().max(50).optional() }) } },
    async () => ({ things: [] }),
  );
  a.get(
    '/v1/report',
    {
      schema: {
        response: {
          200: {
            description: 'The report, as CSV.',
            content: { 'text/csv': { schema: z.string() } },
          },
        },
      },
    },
    async (_request, reply) => reply.type('text/csv').send('a,b\n1,2\n'),
  );
  await a.register(
    async (scope) => {
      setErrorFormat(scope, v2Format);
      scope.get(
        '/models/:name',
        {
          schema: {
            params: z.object({ name: z.string() }),
            response: { 200: z.object({ name: z.string() }) },
          },
        },
        async (request) => ({ name: (request.params as { name: string }).name }),
      );
    },
    { prefix: '/v2' },
  );
  return a;
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document of every registered route, with the service version', async () => {
    app = await sampleService();
    const doc = await documentOf(app);
    await expectValid(doc);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'test-svc', version: '7.8.9' });
    expect(doc.info.description).toContain('A sample.');

    const routes = app.registeredRoutes();
    // Fastify adds a HEAD twin to every GET route (under a prefix, `/` gets it at `/prefix/`).
    const gets = new Set(routes.filter((r) => r.method === 'GET').flatMap((r) => [r.url, `${r.url}/`]));
    const expected = routes.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
    expect(expected.length).toBeGreaterThanOrEqual(8);
    for (const r of expected) {
      expect(doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()], `${r.method} ${r.url}`).toBeDefined();
    }
    // The check has teeth: the same document with one response lacking its description is refused.
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, Operation>> };
    delete (broken.paths['/livez']!['get']!.responses['200'] as { description?: string }).description;
    expect((await new Validator().validate(broken as unknown as Record<string, unknown>)).valid).toBe(false);

    // And nothing else: the document is exactly the routes.
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(documented.sort()).toEqual(
      expected.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`).sort(),
    );
  });

  it("lists the kit's error statuses on every operation, in the error format of the route's scope", async () => {
    app = await sampleService();
    const doc = await documentOf(app);
    const errorSchema = (op: Operation, status: string) =>
      op.responses[status]?.content?.['application/json']?.schema;

    const post = doc.paths['/v1/things/{id}']!['post']!;
    // A body (413, 415) and a path parameter (414); the route's own 404 stays as it declared it.
    expect(Object.keys(post.responses).sort()).toEqual([
      '200',
      '400',
      '404',
      '413',
      '414',
      '415',
      '500',
      '503',
      '504',
    ]);
    expect(errorSchema(post, '503')).toMatchObject({ required: ['code', 'message'] });
    expect(errorSchema(post, '404')).toMatchObject({ required: ['code'] });
    expect(post.requestBody?.content['application/json']).toBeDefined();
    expect(post.parameters).toEqual([expect.objectContaining({ in: 'path', name: 'id', required: true })]);
    expect(post.security).toEqual([{ callerBearer: [] }]);
    expect(doc.components.securitySchemes).toEqual({ callerBearer: { type: 'http', scheme: 'bearer' } });

    const list = doc.paths['/v1/things']!['get']!;
    expect(Object.keys(list.responses).sort()).toEqual(['400', '500', '503', '504']);
    expect(list.parameters).toEqual([expect.objectContaining({ in: 'query', name: 'limit' })]);

    const v2 = doc.paths['/v2/models/{name}']!['get']!;
    for (const status of ['400', '414', '500', '503', '504']) {
      expect(errorSchema(v2, status), status).toMatchObject({ required: ['error', 'code'] });
    }

    const probe = doc.paths['/livez']!['get']!;
    expect(Object.keys(probe.responses).sort()).toEqual(['200', '400', '500', '503', '504']);
    expect(probe.security).toBeUndefined();
  });

  it('documents answers given per media type as such (metrics text, CSV)', async () => {
    app = await sampleService();
    const doc = await documentOf(app);
    expect(doc.paths['/metrics']!['get']!.responses['200']).toEqual({
      description: 'Prometheus text exposition format.',
      content: { 'text/plain': { schema: { type: 'string' } } },
    });
    expect(doc.paths['/v1/report']!['get']!.responses['200']).toEqual({
      description: 'The report, as CSV.',
      content: { 'text/csv': { schema: { type: 'string' } } },
    });
    // The route still answers as it did: a per-media schema does not serialize a string.
    const csv = await app.inject({ url: '/v1/report' });
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toBe('a,b\n1,2\n');
  });

  it('is built once: later requests get the same bytes, and it is public', async () => {
    app = await sampleService();
    const first = await app.inject({ url: '/openapi.json' });
    const second = await app.inject({ url: '/openapi.json', headers: { authorization: 'Bearer nonsense' } });
    expect(second.statusCode).toBe(200);
    expect(second.body).toBe(first.body);
  });

  it('is off with openapi: false', async () => {
    ({ app } = await testService({ openapi: false }));
    expect((await app.inject({ url: '/openapi.json' })).statusCode).toBe(404);
  });
});
