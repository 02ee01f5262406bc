// The BFF's OpenAPI document (GET /openapi.json, from the service kit) in every role: valid OpenAPI 3.1,
// exactly the routes that role registered (each with its method), the credential each route takes as a
// security requirement, the suite's error body on every error status, and what the routes answer to an
// empty call (and an unauthenticated or empty-bodied one) is a status and media type the document lists.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { freePort } from '@eta/testing/ports';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/adapters/db/index.ts';
import { buildApp } from '../../src/app.ts';
import { configSchema, type Role } from '../../src/config.ts';
import { migratedPglite } from '../db/support.ts';
import { MemoryCatalog, view } from '../domain/estimate-fixtures.ts';
import { offlineAppEnv } from '../support/app-env.ts';

interface Response {
  readonly description: string;
  readonly content?: Record<string, { schema: Record<string, unknown> }>;
}
interface Operation {
  readonly responses: Record<string, Response>;
  readonly security?: readonly Record<string, readonly string[]>[];
}
interface Document {
  readonly openapi: string;
  readonly info: { title: string; version: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { securitySchemes?: Record<string, { type: string; scheme?: string; name?: string }> };
}

const SERVICE_TOKEN = 'openapi-tests-shared-token-0123456789';
const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*/g, '{*}');

let db: Database;
let dead = '';
let emptyDir = '';
beforeAll(async () => {
  db = await migratedPglite();
  dead = `http://127.0.0.1:${await freePort()}`;
  // No admin web build here: /admin/* answers its documented 503 ADMIN_WEB_NOT_BUILT.
  emptyDir = await mkdtemp(join(tmpdir(), 'bff-openapi-'));
}, 120_000);
afterAll(async () => {
  await db?.close();
  if (emptyDir !== '') await rm(emptyDir, { recursive: true, force: true });
});

async function appFor(role: Role, extra: Record<string, string> = {}): Promise<ServiceApp> {
  const config = parseEnv(
    configSchema,
    offlineAppEnv(dead, {
      ROLE: role,
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      AUTH_DEV_KEYS: 'true',
      ADMIN_WEB_DIR: emptyDir,
      ...extra,
    }),
  );
  return buildApp(config, { catalog: new MemoryCatalog([view(1)]), db });
}

async function documentOf(app: ServiceApp): Promise<Document> {
  const res = await app.inject('/openapi.json');
  expect(res.statusCode).toBe(200);
  return res.json<Document>();
}

const ESTIMATES = ['post /v1/estimates/precise', 'post /v1/estimates/rough'];
const ADMIN = [
  'get /v1/me',
  'get /v1/stores/{id}',
  'get /v1/stores/{id}/settings',
  'put /v1/stores/{id}/settings',
  'get /v1/stores/{id}/settings/history',
  'get /v1/stores/{id}/preview',
  'get /v1/stores/{id}/accuracy',
  'get /v1/accuracy',
  'get /admin',
  'get /admin/{*}',
];
const EVENTS = ['post /v1/events/orders'];
const KIT = ['get /livez', 'get /readyz', 'get /metrics', 'get /openapi.json'];

describe.each([
  ['precise', [ESTIMATES[0]!]],
  ['rough', [ESTIMATES[1]!]],
  ['admin', ADMIN],
  ['events', EVENTS],
  ['all', [...ESTIMATES, ...ADMIN, ...EVENTS]],
] as const)('ROLE=%s: GET /openapi.json', (role, own) => {
  let app: ServiceApp;
  let doc: Document;
  beforeAll(async () => {
    app = await appFor(role);
    doc = await documentOf(app);
  }, 60_000);
  afterAll(() => app.close());

  it('is valid OpenAPI 3.1 with the service version', async () => {
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'vendor-bff', version: pkg.version });
  });

  it("has exactly the role's registered routes, each with its method", () => {
    const routes = app.registeredRoutes();
    // Fastify adds a HEAD twin to every GET route.
    const gets = new Set(routes.filter((r) => r.method === 'GET').map((r) => r.url));
    const registered = routes
      .filter((r) => !(r.method === 'HEAD' && gets.has(r.url)))
      .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(documented.sort()).toEqual(registered.sort());
    expect(registered.sort()).toEqual([...KIT, ...own].sort());
  });

  it('names the credential of every authenticated route, and no other', () => {
    expect(Object.keys(doc.components.securitySchemes ?? {}).sort()).toEqual([
      'ownerBearer',
      'serviceBearer',
    ]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const key = `${method} ${path}`;
        if (ESTIMATES.includes(key) || EVENTS.includes(key)) {
          expect(op.security, key).toEqual([{ serviceBearer: [] }]);
        } else if (key.startsWith('get /admin')) expect(op.security, key).toBeUndefined();
        else if (ADMIN.includes(key)) expect(op.security, key).toEqual([{ ownerBearer: [] }]);
        else expect(op.security, key).toBeUndefined();
      }
    }
  });

  it("documents the suite's error body on every JSON error status", () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          expect(response.content?.['application/json']?.schema, `${method} ${path} ${status}`).toMatchObject(
            {
              properties: { code: { type: 'string' }, message: { type: 'string' } },
              required: expect.arrayContaining(['code', 'message']),
            },
          );
        }
      }
    }
  });

  it('answers empty, unauthenticated and empty-bodied calls with a status and media type it documents', async () => {
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const url = path.replace('{id}', '1').replace('{*}', 'stores/1');
        const tries = [{}, { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' }];
        for (const headers of tries) {
          const res = await app.inject({
            method: method.toUpperCase() as 'GET',
            url,
            headers,
            ...(method === 'post' || method === 'put' ? { payload: headers.authorization ? '{}' : '' } : {}),
          });
          const where = `${method} ${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`;
          const documented = op.responses[String(res.statusCode)];
          expect(documented, where).toBeDefined();
          if (documented!.content === undefined) {
            expect(res.body, where).toBe('');
          } else {
            const media = String(res.headers['content-type']).split(';')[0]!;
            const listed = Object.keys(documented!.content);
            expect(listed.includes(media) || listed.includes('*/*'), where).toBe(true);
          }
        }
      }
    }
  });
});

describe('with TRUST_MESH_IDENTITY_HEADER', () => {
  it('documents the mesh identity header as the alternative credential of the estimate routes', async () => {
    const app = await appFor('precise', { TRUST_MESH_IDENTITY_HEADER: 'x-forwarded-client-cert' });
    try {
      const doc = await documentOf(app);
      expect(doc.components.securitySchemes?.['meshIdentity']).toMatchObject({
        type: 'apiKey',
        in: 'header',
        name: 'x-forwarded-client-cert',
      });
      expect(doc.paths['/v1/estimates/precise']!['post']!.security).toEqual([
        { serviceBearer: [] },
        { meshIdentity: [] },
      ]);
      const result = await new Validator().validate(
        structuredClone(doc) as unknown as Record<string, unknown>,
      );
      expect(result.valid).toBe(true);
    } finally {
      await app.close();
    }
  });
});
