// The authorization matrix: every route each ROLE registers (the app's own list, from Fastify's onRoute,
// cross-checked with the served GET /openapi.json) × every identity (anonymous, the shared service token, a
// service JWT, a mesh identity, the owner of another store, the owner of the store, an operator), checked
// against the one policy table in policy.ts. A registered route missing from the table fails the suite, so
// a new route is covered the moment it exists. Real signatures, the real data layer (PGlite), inject.
import type { ServiceApp } from '@eta/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/config.ts';
import { POLICY, policyKey, type Outcome, type RoutePolicy } from './policy.ts';
import {
  buildFor,
  createProvider,
  IDENTITIES,
  identityHeaders,
  openFixture,
  routeKey,
  securityEnv,
  type Fixture,
  type Identity,
  type Provider,
} from './support.ts';

let fixture: Fixture;
let idp: Provider;
let headersOf: Record<Identity, Record<string, string>>;

beforeAll(async () => {
  [fixture, idp] = await Promise.all([openFixture(), createProvider('ES256', 'matrix-1')]);
  headersOf = await identityHeaders(idp);
}, 120_000);
afterAll(() => fixture?.close());

interface Route {
  readonly method: string;
  readonly url: string;
  readonly key: string;
}

/** Every route the app registered, each with the table key that classifies it. */
function registeredRoutes(app: ServiceApp): Route[] {
  const routes = app.registeredRoutes();
  const keys = new Set(routes.map(routeKey));
  return routes.map((r) => ({ method: r.method, url: r.url, key: policyKey(r, keys) }));
}

/** What the identity got, reduced to what the table says; `detail` keeps the rest for the failure message. */
async function attempt(
  app: ServiceApp,
  method: string,
  policy: RoutePolicy,
  identity: Identity,
): Promise<{ outcome: Outcome | string; detail: string }> {
  const { probe } = policy;
  const headers: Record<string, string> = { ...headersOf[identity] };
  if (probe.ifMatch === true) {
    // The store's current version, read by an operator: the PUT is valid, only its caller varies.
    const current = await app.inject({ method: 'GET', url: probe.url, headers: headersOf.operator });
    expect(current.statusCode).toBe(200);
    headers['if-match'] = String(current.headers['etag']);
  }
  const res = await app.inject({
    method: method as 'GET',
    url: probe.url,
    headers,
    ...(probe.payload !== undefined && method !== 'GET' && method !== 'HEAD'
      ? { payload: probe.payload }
      : {}),
  });
  const status = res.statusCode;
  // HEAD answers carry no body: the status (and the challenge header) is all there is to check.
  const json = method !== 'HEAD' && String(res.headers['content-type']).startsWith('application/json');
  const code = json ? res.json<{ code?: string }>().code : undefined;
  const withCode = (expected: string) => method === 'HEAD' || code === expected;
  if (status === probe.ok) return { outcome: 'allowed', detail: '' };
  if (status === 401 && withCode('UNAUTHENTICATED') && res.headers['www-authenticate'] === 'Bearer') {
    return { outcome: 'unauthenticated', detail: '' };
  }
  if (status === 403 && withCode('FORBIDDEN')) return { outcome: 'forbidden', detail: '' };
  if (status === 404 && withCode('STORE_NOT_FOUND')) return { outcome: 'hidden', detail: '' };
  return { outcome: `${status} ${code ?? ''}`.trim(), detail: res.body.slice(0, 200) };
}

describe.each(ROLES)('ROLE=%s: the authorization matrix', (role) => {
  let app: ServiceApp;
  beforeAll(async () => {
    app = await buildFor(fixture, securityEnv(fixture, role, idp));
  }, 60_000);
  afterAll(() => app?.close());

  it('classifies every route the app registered (a new route must be added to policy.ts)', () => {
    const routes = registeredRoutes(app);
    expect(routes.length).toBeGreaterThanOrEqual(5);
    const unclassified = routes.filter((r) => POLICY[r.key] === undefined).map(routeKey);
    expect(unclassified).toEqual([]);
  });

  it('classifies every operation GET /openapi.json documents', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, unknown>> }>();
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map(
        (m) => `${m.toUpperCase()} ${path.replace(/\{\*\}/g, '*').replace(/\{(\w+)\}/g, ':$1')}`,
      ),
    );
    expect(documented.length).toBeGreaterThanOrEqual(5);
    expect(documented.filter((key) => POLICY[key] === undefined)).toEqual([]);
  });

  it.each(IDENTITIES)('%s gets exactly what the table says on every registered route', async (identity) => {
    const seen: { route: string; expected: Outcome; got: string; detail: string }[] = [];
    for (const route of registeredRoutes(app)) {
      const policy = POLICY[route.key];
      if (policy === undefined) continue; // reported by the classification test above
      const { outcome, detail } = await attempt(app, route.method, policy, identity);
      seen.push({ route: routeKey(route), expected: policy.access[identity], got: outcome, detail });
    }
    expect(seen.length).toBeGreaterThanOrEqual(5);
    // Every mismatch at once, named by route.
    expect(seen.filter((s) => s.got !== s.expected)).toEqual([]);
  });
});

describe('the policy table itself', () => {
  it('names only routes that some role registers (no stale rows)', async () => {
    const app = await buildFor(fixture, securityEnv(fixture, 'all', idp));
    try {
      const registered = new Set(registeredRoutes(app).map((r) => r.key));
      expect(Object.keys(POLICY).filter((key) => !registered.has(key))).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('lets every identity in somewhere and keeps anonymous callers out of every API route', () => {
    for (const identity of IDENTITIES) {
      expect(Object.values(POLICY).some((p) => p.access[identity] === 'allowed')).toBe(true);
    }
    const apiRoutes = Object.keys(POLICY).filter((key) => / \/v1\//.test(key));
    expect(apiRoutes.length).toBeGreaterThanOrEqual(8);
    for (const key of apiRoutes) expect(POLICY[key]!.access.anonymous).toBe('unauthenticated');
  });
});
