// What schemathesis (scripts/fuzz) found in the BFF's OpenAPI document, held here against the real admin
// API (embedded PGlite, migrated and seeded; tokens signed with the committed dev key, trusted through
// AUTH_DEV_KEYS as in the run command): the document says what a request needs to succeed.
import { cacheEnv, silentLogger } from '@eta/cache';
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { freePort } from '@eta/testing/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDbStoreSource,
  createStoreViewCache,
  seedStores,
  type Database,
} from '../../src/adapters/db/index.ts';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { createStoreCatalog, type ManagedStoreCatalog } from '../../src/domain/catalog.ts';
import { devToken } from '../auth/tokens.ts';
import { migratedPglite, silentLog } from '../db/support.ts';
import { offlineAppEnv } from '../support/app-env.ts';

interface Parameter {
  readonly in: string;
  readonly name: string;
  readonly required?: boolean;
  readonly schema: { pattern?: string };
}
interface Document {
  readonly paths: Record<string, Record<string, { parameters?: readonly Parameter[] }>>;
}

let db: Database;
let catalog: ManagedStoreCatalog;
let app: ServiceApp;
let token = '';

beforeAll(async () => {
  db = await migratedPglite();
  await seedStores(db, silentLog, { count: 2 });
  catalog = createStoreCatalog({
    source: createDbStoreSource(db),
    cache: createStoreViewCache(parseEnv(cacheEnv, {})),
    log: silentLogger,
    distributed: false,
  });
  const dead = `http://127.0.0.1:${await freePort()}`;
  const config = parseEnv(
    configSchema,
    offlineAppEnv(dead, { ROLE: 'admin', AUTH_DEV_KEYS: 'true', ADMIN_RATE_LIMIT_BURST: '100000' }),
  );
  app = await buildApp(config, { catalog, db });
  await app.ready();
  token = await devToken({ role: 'owner', stores: [1] }, 'owner-of-1');
}, 120_000);

afterAll(async () => {
  await app?.close();
  await catalog?.close();
  await db?.close();
});

describe('regression: PUT /v1/stores/{id}/settings documented If-Match as optional; every PUT without it was a 428', () => {
  // schemathesis: a PUT with a valid body and no If-Match fitted the document and was refused with 428
  // PRECONDITION_REQUIRED. The document now marks the header required, in the strong-ETag form the GET
  // answers; the route still answers 428 (not a validation 400) to a PUT without it.
  const body = {
    autoPrediction: true,
    manualPrepMinutes: 12,
    manualDeliveryMinutes: 18,
    minShownMinutes: null,
    maxShownMinutes: null,
    busy: null,
  };
  const put = (headers: Record<string, string>) =>
    app.inject({
      method: 'PUT',
      url: '/v1/stores/1/settings',
      headers: { authorization: `Bearer ${token}`, ...headers },
      payload: body,
    });
  const currentEtag = async () =>
    String(
      (
        await app.inject({
          url: '/v1/stores/1/settings',
          headers: { authorization: `Bearer ${token}` },
        })
      ).headers['etag'],
    );

  it('the document requires If-Match, and a PUT with the ETag in its documented form succeeds', async () => {
    const doc = (await app.inject('/openapi.json')).json<Document>();
    const ifMatch = doc.paths['/v1/stores/{id}/settings']!['put']!.parameters!.find(
      (p) => p.in === 'header' && p.name === 'if-match',
    );
    expect(ifMatch?.required).toBe(true);
    const pattern = new RegExp(ifMatch!.schema.pattern!, 'u');

    const etag = await currentEtag();
    expect(etag).toMatch(pattern);
    expect((await put({ 'if-match': etag })).statusCode).toBe(200);

    const missing = await put({});
    expect(missing.statusCode).toBe(428);
    expect(missing.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED' });
    // Documented form, another version: the precondition is false.
    expect((await put({ 'if-match': etag })).statusCode).toBe(412);
    // Outside the documented form: not readable as a version.
    for (const value of ['W/"1"', '*', '"1", "2"', '"0"']) {
      expect(value).not.toMatch(pattern);
      const res = await put({ 'if-match': value });
      expect({ value, status: res.statusCode }).toEqual({ value, status: 400 });
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    }
  });
});
