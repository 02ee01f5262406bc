// The store-owner admin API through inject, on the real data layer (embedded PGlite, migrated and seeded)
// and real signatures: authorization cases generated from the routes the app registered, optimistic
// concurrency, audit atomicity, validation, rate limit, preview, the admin web, and the estimate API's
// service credential. Geo and the ML proxy point at a port nothing listens on (the preview's ladder floor);
// integration/admin.integration.test.ts runs two real processes on Postgres and Redis.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { freePort } from '@eta/testing/ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheEnv, silentLogger } from '@eta/cache';
import { ConfigError, parseEnv } from '@eta/config';
import { ADMIN_ROUTES, type StoreSettingsBody, type StoreSettingsPutInput } from '@eta/contracts';
import type { ServiceApp } from '@eta/service-kit';
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
import { adminRoutesOf } from '../../src/http/admin.ts';
import {
  AUDIENCE,
  createIssuer,
  devToken,
  hmacWithPublicKey,
  ISSUER,
  swapSignature,
  unsignedToken,
  type Issuer,
} from '../auth/tokens.ts';
import { migratedPglite, silentLog } from '../db/support.ts';
import { offlineAppEnv } from '../support/app-env.ts';

const SERVICE_TOKEN = 'admin-tests-checkout-token-0123456789abcdef';

let idp: Issuer;
let stranger: Issuer;
let db: Database;
let catalog: ManagedStoreCatalog;
let dead = '';
const apps: ServiceApp[] = [];

beforeAll(async () => {
  [idp, stranger] = await Promise.all([createIssuer('ES256'), createIssuer('ES256')]);
  db = await migratedPglite();
  await seedStores(db, silentLog, { count: 6 });
  // Stores 1..6 start with busy mode off and auto prediction on, so every case below starts from known values.
  await db.query(
    'UPDATE store_settings SET busy_extra_minutes = NULL, busy_until = NULL, auto_prediction = true',
  );
  catalog = createStoreCatalog({
    source: createDbStoreSource(db),
    cache: createStoreViewCache(parseEnv(cacheEnv, {})),
    log: silentLogger,
    distributed: false,
  });
  dead = `http://127.0.0.1:${await freePort()}`;
}, 120_000);

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await catalog?.close();
  await db?.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return offlineAppEnv(dead, {
    ROLE: 'all',
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_PUBLIC_KEY: idp.publicPem,
    AUTH_ALGORITHMS: 'ES256',
    SERVICE_TOKENS: `checkout:${SERVICE_TOKEN}`,
    // Suites send many requests under one subject; the rate limit has its own suite.
    ADMIN_RATE_LIMIT_BURST: '100000',
    ...extra,
  });
}

async function app(extra: Record<string, string> = {}): Promise<ServiceApp> {
  const a = await buildApp(parseEnv(configSchema, env(extra)), { catalog, db });
  apps.push(a);
  await a.ready();
  return a;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const owner = (stores: number[], sub = `owner-${stores.join('-')}`) =>
  idp.sign({ role: 'owner', stores }, { sub });
const operator = () => idp.sign({ role: 'operator' }, { sub: 'operator-1' });

const validPut = (over: Partial<StoreSettingsPutInput> = {}): StoreSettingsPutInput => ({
  autoPrediction: true,
  manualPrepMinutes: 12,
  manualDeliveryMinutes: 18,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
  ...over,
});

async function getSettings(a: ServiceApp, id: number, token: string) {
  const res = await a.inject({ method: 'GET', url: `/v1/stores/${id}/settings`, headers: bearer(token) });
  expect(res.statusCode).toBe(200);
  return { etag: String(res.headers['etag']), body: res.json<StoreSettingsBody>() };
}

async function auditCount(storeId: number): Promise<number> {
  const { rows } = await db.query<{ n: number | string }>(
    'SELECT count(*) AS n FROM settings_audit WHERE store_id = $1',
    [storeId],
  );
  return Number(rows[0]?.n ?? 0);
}

async function storedVersion(storeId: number): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    'SELECT version FROM store_settings WHERE store_id = $1',
    [storeId],
  );
  return rows[0]!.version;
}

// ---------------------------------------------------------------------------------------------------

describe('authorization, generated from every admin route the app registered', () => {
  let a: ServiceApp;
  const now = () => Math.floor(Date.now() / 1000);
  beforeAll(async () => {
    a = await app();
  });

  it('registers every route of the contract (so the cases below cover them all)', () => {
    const urls = new Set(adminRoutesOf(a).map((r) => r.url));
    for (const url of Object.values(ADMIN_ROUTES)) expect(urls).toContain(url);
    expect(adminRoutesOf(a).length).toBeGreaterThanOrEqual(6);
  });

  /** A request that would succeed for the right caller: store 1, a valid body and If-Match for the PUT. */
  async function requestFor(route: { method: string; url: string }, headers: Record<string, string>) {
    const url = route.url.replace(':id', '1');
    if (route.method !== 'PUT') return a.inject({ method: 'GET', url, headers });
    const { etag } = await getSettings(a, 1, await operator());
    return a.inject({
      method: 'PUT',
      url,
      headers: { ...headers, 'if-match': etag },
      payload: validPut({ manualPrepMinutes: 10 + (now() % 7) }),
    });
  }

  const forged: [string, () => Promise<Record<string, string>>][] = [
    ['no token', async () => ({})],
    ['a non-bearer scheme', async () => ({ authorization: `Basic ${btoa('a:b')}` })],
    ['garbage', async () => bearer('not-a-jwt')],
    [
      'a bad signature',
      async () => bearer(swapSignature(await owner([1]), await stranger.sign({ stores: [1] }))),
    ],
    ['another issuer’s key', async () => bearer(await stranger.sign({ role: 'operator' }))],
    ['alg none', async () => bearer(unsignedToken({ role: 'operator' }))],
    [
      'HS256 keyed with the public key',
      async () => bearer(await hmacWithPublicKey(idp.publicPem, { role: 'operator' })),
    ],
    [
      'a wrong issuer',
      async () => bearer(await idp.sign({ role: 'operator' }, { iss: 'https://evil.example/' })),
    ],
    ['a wrong audience', async () => bearer(await idp.sign({ role: 'operator' }, { aud: 'another-api' }))],
    ['an expired token', async () => bearer(await idp.sign({ role: 'operator' }, { exp: now() - 120 }))],
    ['a dev-key token while AUTH_DEV_KEYS is off', async () => bearer(await devToken({ role: 'operator' }))],
  ];

  it('answers 401 UNAUTHENTICATED to every forged or missing credential on every route', async () => {
    const routes = adminRoutesOf(a);
    for (const route of routes) {
      for (const [name, headers] of forged) {
        const res = await requestFor(route, await headers());
        expect({ route, name, status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({
          route,
          name,
          status: 401,
          code: 'UNAUTHENTICATED',
        });
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    }
  });

  it('tolerates a little clock skew on expiry (30 s by default)', async () => {
    const res = await a.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(await idp.sign({ role: 'operator' }, { exp: now() - 5 })),
    });
    expect(res.statusCode).toBe(200);
  });

  it('answers another owner’s store exactly like a store that does not exist, on every store route', async () => {
    const mine = await owner([2, 999_999]);
    for (const route of adminRoutesOf(a).filter((r) => r.url.includes(':id'))) {
      const other = await requestFor(route, bearer(mine));
      // 999999 is in the token but does not exist: the same answer must come back for both.
      const missingUrl = route.url.replace(':id', '999999');
      const missing =
        route.method === 'PUT'
          ? await a.inject({
              method: 'PUT',
              url: missingUrl,
              headers: { ...bearer(mine), 'if-match': '"1"' },
              payload: validPut(),
            })
          : await a.inject({ method: 'GET', url: missingUrl, headers: bearer(mine) });
      expect({ route, status: other.statusCode }).toEqual({ route, status: 404 });
      expect(other.json<{ code: string }>().code).toBe('STORE_NOT_FOUND');
      expect(missing.statusCode).toBe(404);
      const strip = (b: { code: string; message: string }) => ({
        code: b.code,
        message: b.message.replace(/\d+/, 'N'),
      });
      expect(strip(other.json())).toEqual(strip(missing.json()));
    }
  });

  it('lets an operator read and write every store, and an owner their own', async () => {
    for (const [who, token] of [
      ['operator', await operator()],
      ['owner', await owner([1])],
    ] as const) {
      for (const route of adminRoutesOf(a)) {
        const res = await requestFor(route, bearer(token));
        // Every store's accuracy at once is the one route for operators only.
        const status = who === 'owner' && route.url === ADMIN_ROUTES.accuracyOverview ? 403 : 200;
        expect({ route, who, status: res.statusCode }).toEqual({ route, who, status });
      }
    }
  });

  it('refuses a service credential on the admin API with 403', async () => {
    const res = await a.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(await idp.sign({ role: 'service' }, { sub: 'checkout' })),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ code: string }>().code).toBe('FORBIDDEN');
  });

  it('GET /v1/me says who the token is', async () => {
    const me = await a.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(await owner([3, 1, 3], 'kim')),
    });
    expect(me.json()).toEqual({ subject: 'kim', role: 'owner', storeIds: [1, 3] });
    const op = await a.inject({ method: 'GET', url: '/v1/me', headers: bearer(await operator()) });
    expect(op.json()).toEqual({ subject: 'operator-1', role: 'operator', storeIds: [] });
  });
});

describe('settings: optimistic concurrency and the audit trail', () => {
  let a: ServiceApp;
  let token: string;
  beforeAll(async () => {
    a = await app();
    token = await owner([4], 'owner-of-4');
  });

  const put = (body: unknown, headers: Record<string, string>) =>
    a.inject({
      method: 'PUT',
      url: '/v1/stores/4/settings',
      headers: { ...bearer(token), ...headers },
      payload: body as Record<string, unknown>,
    });

  it('GET answers the stored version as a strong ETag', async () => {
    const { etag, body } = await getSettings(a, 4, token);
    expect(etag).toBe(`"${body.version}"`);
    expect(body.version).toBe(await storedVersion(4));
  });

  it('a PUT without If-Match is 428 and changes nothing', async () => {
    const [v, n] = [await storedVersion(4), await auditCount(4)];
    const res = await put(validPut({ manualPrepMinutes: 30 }), {});
    expect(res.statusCode).toBe(428);
    expect(res.json<{ code: string }>().code).toBe('PRECONDITION_REQUIRED');
    expect([await storedVersion(4), await auditCount(4)]).toEqual([v, n]);
  });

  it('a PUT with a stale If-Match is 412 with the current settings, and changes nothing', async () => {
    const { etag, body } = await getSettings(a, 4, token);
    expect((await put(validPut({ manualPrepMinutes: 21 }), { 'if-match': etag })).statusCode).toBe(200);
    const n = await auditCount(4);
    const stale = await put(validPut({ manualPrepMinutes: 40 }), { 'if-match': etag });
    expect(stale.statusCode).toBe(412);
    const answer = stale.json<{ code: string; current: StoreSettingsBody }>();
    expect(answer.code).toBe('PRECONDITION_FAILED');
    expect(answer.current.version).toBe(body.version + 1);
    expect(answer.current.manualPrepMinutes).toBe(21);
    expect(stale.headers['etag']).toBe(`"${body.version + 1}"`);
    expect(await auditCount(4)).toBe(n);
    expect((await getSettings(a, 4, token)).body.manualPrepMinutes).toBe(21);
  });

  it('two PUTs with the same If-Match at once: exactly one wins, one audit row', async () => {
    const { etag } = await getSettings(a, 4, token);
    const n = await auditCount(4);
    const results = await Promise.all([
      put(validPut({ manualPrepMinutes: 11 }), { 'if-match': etag }),
      put(validPut({ manualPrepMinutes: 22 }), { 'if-match': etag }),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 412]);
    expect(await auditCount(4)).toBe(n + 1);
    const winner = results.find((r) => r.statusCode === 200)!.json<StoreSettingsBody>();
    expect((await getSettings(a, 4, token)).body.manualPrepMinutes).toBe(winner.manualPrepMinutes);
  });

  it('a successful PUT replaces every field, bumps the ETag and writes who/when/before/after', async () => {
    const { etag, body: before } = await getSettings(a, 4, token);
    const until = new Date(Date.now() + 30 * 60_000).toISOString();
    const res = await put(
      validPut({
        autoPrediction: false,
        minShownMinutes: 15,
        maxShownMinutes: 50,
        busy: { extraMinutes: 10, until },
      }),
      { 'if-match': etag },
    );
    expect(res.statusCode).toBe(200);
    const after = res.json<StoreSettingsBody>();
    expect(res.headers['etag']).toBe(`"${before.version + 1}"`);
    expect(after).toMatchObject({ autoPrediction: false, minShownMinutes: 15, maxShownMinutes: 50 });
    expect(after.busy?.extraMinutes).toBe(10);
    expect(res.headers['cache-control']).toBe('no-store');

    const history = await a.inject({
      method: 'GET',
      url: '/v1/stores/4/settings/history',
      headers: bearer(token),
    });
    expect(history.statusCode).toBe(200);
    const top = history.json<{
      items: { actor: string; at: string; before: StoreSettingsBody; after: StoreSettingsBody }[];
    }>().items[0]!;
    expect(top.actor).toBe('owner-of-4');
    expect(top.before.version).toBe(before.version);
    expect(top.after).toEqual(after);
    expect(Math.abs(Date.parse(top.at) - Date.now())).toBeLessThan(60_000);
  });

  it.each<[string, unknown, string]>([
    ['minimum above maximum', validPut({ minShownMinutes: 40, maxShownMinutes: 30 }), 'body.minShownMinutes'],
    ['negative minutes', validPut({ manualPrepMinutes: -1 }), 'body.manualPrepMinutes'],
    [
      'busy mode ending in the past',
      validPut({ busy: { extraMinutes: 5, until: '2020-01-01T00:00:00Z' } }),
      'body.busy.until',
    ],
    [
      'busy mode longer than 12 h',
      validPut({ busy: { extraMinutes: 5, until: new Date(Date.now() + 13 * 3_600_000).toISOString() } }),
      'body.busy.until',
    ],
    ['a missing field (PUT replaces everything)', { autoPrediction: true }, 'body'],
    ['an unknown field', { ...validPut(), ridr: 1 }, 'body'],
  ])('400 VALIDATION_ERROR for %s, naming the field, with nothing written', async (_name, body, path) => {
    const { etag } = await getSettings(a, 4, token);
    const [v, n] = [await storedVersion(4), await auditCount(4)];
    const res = await put(body, { 'if-match': etag });
    expect(res.statusCode).toBe(400);
    const answer = res.json<{ code: string; details: { path: string }[] }>();
    expect(answer.code).toBe('VALIDATION_ERROR');
    expect(answer.details.some((d) => d.path.startsWith(path))).toBe(true);
    expect([await storedVersion(4), await auditCount(4)]).toEqual([v, n]);
  });

  it.each(['W/"3"', '*', '"1", "2"', 'version-3'])(
    '400 for an If-Match it cannot read: %s',
    async (ifMatch) => {
      const res = await put(validPut(), { 'if-match': ifMatch });
      expect(res.statusCode).toBe(400);
      expect(res.json<{ details: { path: string }[] }>().details[0]?.path).toBe('headers.if-match');
    },
  );

  it('busy mode that has ended reads as off, so a form does not send an end in the past back', async () => {
    await db.query(
      "UPDATE store_settings SET busy_extra_minutes = 5, busy_until = now() - interval '1 minute' WHERE store_id = 4",
    );
    const { etag, body } = await getSettings(a, 4, token);
    expect(body.busy).toBeNull();
    const { busy: _busy, storeId: _s, updatedAt: _u, version: _v, ...rest } = body;
    const res = await put({ ...rest, busy: null }, { 'if-match': etag });
    expect(res.statusCode).toBe(200);
  });
});

describe('rate limit per token subject', () => {
  it('429 RATE_LIMITED with Retry-After past the burst; other subjects unaffected', async () => {
    const a = await app({ ADMIN_RATE_LIMIT_BURST: '3', ADMIN_RATE_LIMIT_PER_MINUTE: '6' });
    const busy = bearer(await owner([1], 'script'));
    const codes: number[] = [];
    for (let i = 0; i < 4; i++)
      codes.push((await a.inject({ method: 'GET', url: '/v1/me', headers: busy })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await a.inject({ method: 'GET', url: '/v1/me', headers: busy });
    expect(limited.json<{ code: string }>().code).toBe('RATE_LIMITED');
    // 6 per minute: one request every 10 s.
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    const calm = await a.inject({
      method: 'GET',
      url: '/v1/me',
      headers: bearer(await owner([1], 'person')),
    });
    expect(calm.statusCode).toBe(200);
  });
});

describe('preview', () => {
  let a: ServiceApp;
  let token: string;
  beforeAll(async () => {
    a = await app();
    token = await owner([5]);
  });

  it('answers 24 hourly points for a typical destination ~1.5 km away, with the range', async () => {
    const res = await a.inject({ method: 'GET', url: '/v1/stores/5/preview', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      storeId: number;
      destination: { lat: number; lng: number };
      points: { hour: number; etaMinutes: number; low: number; high: number; source: string }[];
    }>();
    expect(body.points.map((p) => p.hour)).toEqual(Array.from({ length: 24 }, (_, h) => h));
    for (const p of body.points) {
      expect(p.low).toBeLessThanOrEqual(p.etaMinutes);
      expect(p.etaMinutes).toBeLessThanOrEqual(p.high);
    }
    const store = (await a.inject({ method: 'GET', url: '/v1/stores/5', headers: bearer(token) })).json<{
      location: { lat: number; lng: number };
    }>();
    const km = Math.hypot(
      (body.destination.lat - store.location.lat) * 111.32,
      (body.destination.lng - store.location.lng) * 111.32 * Math.cos((store.location.lat * Math.PI) / 180),
    );
    expect(km).toBeCloseTo(1.5, 1);
  });

  it('shows the owner’s manual times and clamps once auto prediction is off (what customers would see)', async () => {
    const { etag } = await getSettings(a, 5, token);
    const saved = await a.inject({
      method: 'PUT',
      url: '/v1/stores/5/settings',
      headers: { ...bearer(token), 'if-match': etag },
      payload: validPut({ autoPrediction: false, manualPrepMinutes: 20, manualDeliveryMinutes: 25 }),
    });
    expect(saved.statusCode).toBe(200);
    const res = await a.inject({
      method: 'GET',
      url: '/v1/stores/5/preview?lat=37.5665&lng=126.978',
      headers: bearer(token),
    });
    const body = res.json<{ destination: unknown; points: { etaMinutes: number; source: string }[] }>();
    expect(body.destination).toEqual({ lat: 37.5665, lng: 126.978 });
    expect(new Set(body.points.map((p) => `${p.source}:${p.etaMinutes}`))).toEqual(new Set(['manual:45']));
  });

  it('400 when only one of lat and lng is given; 422 outside Seoul', async () => {
    const one = await a.inject({
      method: 'GET',
      url: '/v1/stores/5/preview?lat=37.5',
      headers: bearer(token),
    });
    expect(one.statusCode).toBe(400);
    const busan = await a.inject({
      method: 'GET',
      url: '/v1/stores/5/preview?lat=35.18&lng=129.08',
      headers: bearer(token),
    });
    expect(busan.statusCode).toBe(422);
    expect(busan.json<{ code: string }>().code).toBe('OUT_OF_SERVICE_AREA');
  });
});

describe('the estimate API requires a service credential', () => {
  let a: ServiceApp;
  beforeAll(async () => {
    a = await app({ TRUST_MESH_IDENTITY_HEADER: 'x-forwarded-client-cert' });
  });
  const body = { storeId: 1, destination: { lat: 37.5665, lng: 126.978 } };
  const precise = (headers: Record<string, string>) =>
    a.inject({ method: 'POST', url: '/v1/estimates/precise', headers, payload: body });
  const rough = (headers: Record<string, string>) =>
    a.inject({
      method: 'POST',
      url: '/v1/estimates/rough',
      headers,
      payload: { storeIds: [1], destination: body.destination },
    });

  it.each<[string, () => Promise<Record<string, string>>]>([
    ['no credential', async () => ({})],
    ['an unknown shared token', async () => bearer('checkout-token-that-nobody-configured-0000')],
    ['a store owner’s JWT', async () => bearer(await owner([1]))],
    ['an operator’s JWT', async () => bearer(await operator())],
    ['a service JWT from another key', async () => bearer(await stranger.sign({ role: 'service' }))],
  ])('401 UNAUTHENTICATED with %s', async (_name, headers) => {
    for (const res of [await precise(await headers()), await rough(await headers())]) {
      expect(res.statusCode).toBe(401);
      expect(res.json<{ code: string }>().code).toBe('UNAUTHENTICATED');
    }
  });

  it.each<[string, () => Promise<Record<string, string>>]>([
    ['the shared token', async () => bearer(SERVICE_TOKEN)],
    ['a service JWT', async () => bearer(await idp.sign({ role: 'service' }, { sub: 'search' }))],
    [
      'a mesh identity',
      async () => ({
        'x-forwarded-client-cert': 'By=spiffe://c/ns/b;URI=spiffe://cluster.local/ns/shop/sa/checkout',
      }),
    ],
  ])('200 with %s', async (_name, headers) => {
    expect((await precise(await headers())).statusCode).toBe(200);
    expect((await rough(await headers())).statusCode).toBe(200);
  });
});

describe('development keys', () => {
  it('are accepted only with AUTH_DEV_KEYS=true', async () => {
    const token = await devToken({ role: 'owner', stores: [1] }, 'dev-owner');
    const off = await app();
    expect((await off.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(401);
    const on = await app({ AUTH_DEV_KEYS: 'true' });
    const res = await on.inject({ method: 'GET', url: '/v1/stores/1', headers: bearer(token) });
    expect(res.statusCode).toBe(200);
    // The configured issuer still works next to it.
    expect(
      (await on.inject({ method: 'GET', url: '/v1/me', headers: bearer(await operator()) })).statusCode,
    ).toBe(200);
  });
});

describe('config refuses unsafe or incomplete auth settings at start', () => {
  const problems = (extra: Record<string, string | undefined>) => {
    try {
      parseEnv(configSchema, { ...env(), ...extra });
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.issues.map((i) => i.key.split('.')[0]);
    }
  };

  it.each<[string, Record<string, string | undefined>, string]>([
    ['HS256 in the allow-list', { AUTH_ALGORITHMS: 'ES256,HS256' }, 'AUTH_ALGORITHMS'],
    ['alg none', { AUTH_ALGORITHMS: 'none' }, 'AUTH_ALGORITHMS'],
    [
      'a private key as the public key',
      { AUTH_PUBLIC_KEY: '{"kty":"oct","k":"c2VjcmV0"}' },
      'AUTH_PUBLIC_KEY',
    ],
    ['both a JWKS URL and a key', { AUTH_JWKS_URL: 'https://id.example/jwks' }, 'AUTH_JWKS_URL'],
    ['an issuer without an audience', { AUTH_AUDIENCE: undefined }, 'AUTH_AUDIENCE'],
    ['a short service token', { SERVICE_TOKENS: 'checkout:short' }, 'SERVICE_TOKENS'],
    [
      'ROLE=admin without any issuer',
      { ROLE: 'admin', AUTH_ISSUER: undefined, AUTH_AUDIENCE: undefined, AUTH_PUBLIC_KEY: undefined },
      'AUTH_ISSUER',
    ],
    [
      'ROLE=precise without any service credential',
      {
        ROLE: 'precise',
        AUTH_ISSUER: undefined,
        AUTH_AUDIENCE: undefined,
        AUTH_PUBLIC_KEY: undefined,
        SERVICE_TOKENS: undefined,
      },
      'SERVICE_TOKENS',
    ],
  ])('%s', (_name, extra, key) => {
    expect(problems(extra)).toContain(key);
  });

  it('accepts the test configuration itself', () => {
    expect(problems({})).toEqual([]);
  });
});

describe('the admin web at /admin/', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'admin-web-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>admin</title>');
    await writeFile(join(dir, 'assets', 'app-1a2b.js'), 'console.log(1)');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves the build, falls back to index.html for client routes, and never leaves the folder', async () => {
    const a = await app({ ADMIN_WEB_DIR: dir });
    const index = await a.inject({ method: 'GET', url: '/admin/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    const route = await a.inject({ method: 'GET', url: '/admin/stores/12/history' });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain('<title>admin</title>');
    const asset = await a.inject({ method: 'GET', url: '/admin/assets/app-1a2b.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect(asset.headers['cache-control']).toMatch(/immutable/);
    expect((await a.inject({ method: 'GET', url: '/admin/assets/old-9z9z.js' })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: '/admin' })).headers['location']).toBe('/admin/');
    for (const url of [
      '/admin/../package.json',
      '/admin/%2e%2e/%2e%2e/package.json',
      '/admin/..%2fpackage.json',
    ]) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.body).not.toContain('"name"');
    }
  });

  it('answers a clear 503 saying how to build it when the folder is missing', async () => {
    const a = await app({ ADMIN_WEB_DIR: join(dir, 'nope') });
    const res = await a.inject({ method: 'GET', url: '/admin/' });
    expect(res.statusCode).toBe(503);
    const body = res.json<{ code: string; message: string }>();
    expect(body.code).toBe('ADMIN_WEB_NOT_BUILT');
    expect(body.message).toContain('pnpm --filter admin-web build');
  });
});
