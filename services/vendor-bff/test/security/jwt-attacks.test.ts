// JWT attacks on every route that takes a bearer JWT (the admin API and the estimate API, both taken from
// the policy table), with the provider's key given inline (AUTH_PUBLIC_KEY, ES256) and as a JWKS served by
// a real HTTP server (AUTH_JWKS_URL, RS256 with a kid): every forgery, misuse and malformed token is a 401
// UNAUTHENTICATED (403 FORBIDDEN for a service JWT on the admin API, 404 STORE_NOT_FOUND for another
// owner's store), never a 5xx. The verified-token cache is part of the threat model: a token that was valid,
// and was remembered, is refused once it has expired.
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceApp } from '@eta/service-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authEnv } from '../../src/auth/config.ts';
import { AuthFailure, createTokenVerifier, DEV_ISSUER } from '../../src/auth/jwt.ts';
import { jwtRoutes, POLICY } from './policy.ts';
import {
  AUDIENCE,
  buildFor,
  createProvider,
  hmacToken,
  ISSUER,
  nowSeconds,
  openFixture,
  OTHER_STORE,
  OWN_STORE,
  rawToken,
  registeredClaims,
  securityEnv,
  serveJwks,
  signRaw,
  type Fixture,
  type JwksServer,
  type Provider,
} from './support.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await openFixture();
}, 120_000);
afterAll(() => fixture?.close());

type Family = 'admin' | 'service';

/** What the family's legitimate caller claims: the strongest admin role, or a service. */
const CLAIMS: Record<Family, Record<string, unknown>> = {
  admin: { role: 'operator' },
  service: { role: 'service' },
};

interface Expected {
  readonly status: number;
  readonly code: string;
}
const UNAUTHENTICATED: Expected = { status: 401, code: 'UNAUTHENTICATED' };

interface Attack {
  readonly name: string;
  /** The Authorization header value to send, for a route of `family`. */
  readonly header: (family: Family) => Promise<string>;
  /** Default: 401 UNAUTHENTICATED on both families. */
  readonly expected?: Partial<Record<Family, Expected>>;
  /** Only on routes with a store id (the other-store attack). */
  readonly storeRoutesOnly?: boolean;
  /** Only on this family's routes. */
  readonly family?: Family;
}

interface Setup {
  readonly idp: Provider;
  /** Another key of the same type, and one of the other type, both claiming the provider's kid. */
  readonly attacker: Provider;
  readonly otherType: Provider;
  /** The attacker's own JWKS (for a `jku` header pointing at it). */
  readonly attackerJwks: JwksServer;
  /** The leeway the app is configured with. */
  readonly tolerance: number;
}

function attacks(s: Setup): Attack[] {
  const bearer = (t: string) => `Bearer ${t}`;
  const { idp, attacker, otherType, tolerance } = s;
  const claims = (f: Family) => CLAIMS[f];
  const signed = (f: Family, opts: Parameters<Provider['sign']>[1] = {}) =>
    idp.sign(claims(f), opts).then(bearer);
  return [
    // Unsigned, and signed with a key that is not the provider's.
    ...['none', 'None', 'NONE'].map((alg): Attack => ({
      name: `alg: ${alg}`,
      header: async (f) => bearer(rawToken({ alg, typ: 'JWT' }, registeredClaims(claims(f)))),
    })),
    {
      name: 'alg: none with a real signature left on',
      header: async (f) => {
        const real = (await idp.sign(claims(f))).split('.')[2];
        return bearer(rawToken({ alg: 'none', typ: 'JWT' }, registeredClaims(claims(f)), real));
      },
    },
    {
      name: 'a wrong key of the same type under the right kid',
      header: (f) => signed(f, { key: attacker.privateKey }),
    },
    {
      name: 'a key of another type under the right kid',
      header: async (f) => bearer(await otherType.sign(claims(f), { header: { kid: idp.kid } })),
    },
    {
      name: 'an unknown kid (the JWKS is fetched again, then refused)',
      header: async (f) => bearer(await attacker.sign(claims(f), { header: { kid: 'no-such-key' } })),
    },
    {
      name: 'HS256 keyed with the public key PEM (algorithm confusion)',
      header: async (f) => bearer(await hmacToken(idp.publicPem, registeredClaims(claims(f)), idp.kid)),
    },
    {
      name: 'HS256 keyed with the public JWK as JSON (algorithm confusion)',
      header: async (f) =>
        bearer(await hmacToken(JSON.stringify(idp.publicJwk), registeredClaims(claims(f)), idp.kid)),
    },
    {
      name: 'the attacker’s key embedded in the header (jwk)',
      header: async (f) =>
        bearer(await attacker.sign(claims(f), { header: { kid: undefined, jwk: attacker.publicJwk } })),
    },
    {
      name: 'a jku header pointing at the attacker’s JWKS',
      header: async (f) =>
        bearer(await attacker.sign(claims(f), { header: { kid: attacker.kid, jku: s.attackerJwks.url } })),
    },
    // Right key, wrong claims.
    { name: 'a wrong issuer', header: (f) => signed(f, { iss: 'https://evil.example/' }) },
    { name: 'the dev issuer while AUTH_DEV_KEYS is off', header: (f) => signed(f, { iss: DEV_ISSUER }) },
    { name: 'a wrong audience', header: (f) => signed(f, { aud: 'another-api' }) },
    {
      name: 'expired beyond the leeway',
      header: (f) => signed(f, { iat: nowSeconds() - 7200, exp: nowSeconds() - tolerance - 60 }),
    },
    {
      name: 'not yet valid (nbf beyond the leeway)',
      header: (f) => signed(f, { nbf: nowSeconds() + tolerance + 60 }),
    },
    {
      name: 'issued in the future (iat beyond the leeway)',
      header: (f) => signed(f, { iat: nowSeconds() + tolerance + 600, exp: nowSeconds() + 7200 }),
    },
    { name: 'no exp', header: (f) => signed(f, { exp: null }) },
    { name: 'no sub', header: (f) => signed(f, { sub: null }) },
    {
      name: 'an unknown critical header extension',
      header: async (f) =>
        bearer(signRaw(idp, { crit: ['x-eta-ext'], 'x-eta-ext': 1 }, registeredClaims(claims(f)))),
    },
    {
      name: 'an unknown role',
      header: async () => bearer(await idp.sign({ role: 'superuser' })),
    },
    {
      name: 'store ids of the wrong type',
      header: async () => bearer(signRaw(idp, {}, registeredClaims({ role: 'owner', stores: ['1'] }))),
    },
    {
      name: 'exp of the wrong type',
      header: async (f) => bearer(signRaw(idp, {}, registeredClaims({ ...claims(f), exp: 'never' }))),
    },
    // A real token, changed.
    {
      name: 'a tampered payload (an owner of store 2 made operator/service)',
      header: async (f) => {
        const [h, , sig] = (await idp.sign({ role: 'owner', stores: [OTHER_STORE] })).split('.');
        return bearer(`${h}.${rawToken({}, registeredClaims(claims(f))).split('.')[1]}.${sig}`);
      },
    },
    {
      name: 'the signature stripped',
      header: async (f) => bearer((await idp.sign(claims(f))).split('.').slice(0, 2).join('.') + '.'),
    },
    {
      name: 'an oversized, correctly signed token (over 8 KiB)',
      header: async (f) => bearer(await idp.sign({ ...claims(f), pad: 'x'.repeat(9_000) })),
    },
    // Garbage.
    ...[
      'Bearer not-a-jwt',
      'Bearer a.b.c',
      'Bearer ...',
      'Bearer e30.e30.',
      'Bearer W10.W10.W10',
      'Bearer bnVsbA.bnVsbA.bnVsbA',
      `Bearer ${'A'.repeat(8_000)}.${'A'.repeat(100)}.${'A'.repeat(100)}`,
      'Bearer',
      'Bearer ',
      'Basic b3duZXI6cGFzc3dvcmQ=',
      'Bearer \u00ff\u00fe.\u00fd.\u00fc',
    ].map((raw): Attack => ({
      name: `garbage: ${JSON.stringify(raw.slice(0, 40))}`,
      header: async () => raw,
    })),
    // Right token, wrong place.
    {
      name: 'a service JWT on the admin API',
      family: 'admin',
      header: async () => bearer(await idp.sign({ role: 'service' }, { sub: 'checkout' })),
      expected: { admin: { status: 403, code: 'FORBIDDEN' } },
    },
    {
      name: 'an owner JWT on the estimate API',
      family: 'service',
      header: async () => bearer(await idp.sign({ role: 'owner', stores: [OWN_STORE] })),
    },
    {
      name: 'an operator JWT on the estimate API',
      family: 'service',
      header: async () => bearer(await idp.sign({ role: 'operator' })),
    },
    {
      name: 'an owner token for another store on a store route',
      family: 'admin',
      storeRoutesOnly: true,
      header: async () => bearer(await idp.sign({ role: 'owner', stores: [OTHER_STORE] })),
      expected: { admin: { status: 404, code: 'STORE_NOT_FOUND' } },
    },
  ];
}

/** The route's probe request with this Authorization header (a PUT gets the store's current If-Match). */
async function send(app: ServiceApp, key: string, authorization: string, operator: string) {
  const [method, ,] = key.split(' ') as [string, string];
  const { probe } = POLICY[key]!;
  const headers: Record<string, string> = { authorization };
  if (probe.ifMatch === true) {
    const current = await app.inject({ method: 'GET', url: probe.url, headers: { authorization: operator } });
    headers['if-match'] = String(current.headers['etag']);
  }
  return app.inject({
    method: method as 'GET',
    url: probe.url,
    headers,
    ...(probe.payload !== undefined ? { payload: probe.payload } : {}),
  });
}

const TRUSTS = [
  { name: 'AUTH_PUBLIC_KEY (ES256)', alg: 'ES256', otherAlg: 'RS256', jwks: false },
  { name: 'AUTH_JWKS_URL (RS256, kid)', alg: 'RS256', otherAlg: 'ES256', jwks: true },
] as const;

describe.each(TRUSTS)('JWT attacks, keys from $name', (trust) => {
  const tolerance = 30;
  let app: ServiceApp;
  let setup: Setup;
  let jwks: JwksServer | undefined;
  let operator = '';
  beforeAll(async () => {
    const [idp, attacker, otherType] = await Promise.all([
      createProvider(trust.alg, 'idp-key-1'),
      createProvider(trust.alg, 'attacker-key-1'),
      createProvider(trust.otherAlg, 'attacker-key-2'),
    ]);
    const attackerJwks = await serveJwks([attacker.publicJwk]);
    setup = { idp, attacker, otherType, attackerJwks, tolerance };
    if (trust.jwks) jwks = await serveJwks([idp.publicJwk]);
    app = await buildFor(
      fixture,
      securityEnv(
        fixture,
        'all',
        jwks !== undefined ? { jwksUrl: jwks.url, algorithms: 'RS256,ES256' } : { publicPem: idp.publicPem },
        { AUTH_CLOCK_TOLERANCE_SECONDS: String(tolerance) },
      ),
    );
    operator = `Bearer ${await idp.sign({ role: 'operator' })}`;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await Promise.all([setup?.attackerJwks.close(), jwks?.close()]);
  });

  it('the legitimate token of each family is let in on every one of its routes (the baseline)', async () => {
    for (const family of ['admin', 'service'] as const) {
      for (const key of jwtRoutes(family)) {
        const res = await send(app, key, `Bearer ${await setup.idp.sign(CLAIMS[family])}`, operator);
        expect({ key, status: res.statusCode }).toEqual({ key, status: POLICY[key]!.probe.ok });
      }
    }
  });

  it('answers every attack on every JWT route with its 4xx and stable code, never a 5xx', async () => {
    const wrong: unknown[] = [];
    let sent = 0;
    for (const attack of attacks(setup)) {
      for (const family of ['admin', 'service'] as const) {
        if (attack.family !== undefined && attack.family !== family) continue;
        const expected = attack.expected?.[family] ?? UNAUTHENTICATED;
        for (const key of jwtRoutes(family)) {
          if (attack.storeRoutesOnly === true && !key.includes(':id')) continue;
          const res = await send(app, key, await attack.header(family), operator);
          sent += 1;
          const body = res.json<{ code?: string; message?: string }>();
          const got = { status: res.statusCode, code: body.code };
          const challenge = expected.status !== 401 || res.headers['www-authenticate'] === 'Bearer';
          if (got.status !== expected.status || got.code !== expected.code || !challenge) {
            wrong.push({ attack: attack.name, route: key, expected, got, message: body.message });
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(200);
    expect(wrong).toEqual([]);
    // The jku header is never followed.
    expect(setup.attackerJwks.requests()).toBe(0);
  });

  it('never tells the caller why a token failed (the reason is for the log)', async () => {
    const answers = new Set<string>();
    for (const attack of attacks(setup).filter((a) => a.expected === undefined && a.family === undefined)) {
      const res = await send(app, 'GET /v1/me', await attack.header('admin'), operator);
      answers.add(res.body);
    }
    expect([...answers].map((b) => JSON.parse(b) as unknown)).toEqual([
      { code: 'UNAUTHENTICATED', message: 'missing or invalid bearer token' },
    ]);
  });

  it('accepts a little clock skew and no more: exp and nbf within the leeway pass', async () => {
    for (const opts of [{ exp: nowSeconds() - 5 }, { nbf: nowSeconds() + 5 }, { iat: nowSeconds() + 5 }]) {
      const res = await send(
        app,
        'GET /v1/me',
        `Bearer ${await setup.idp.sign(CLAIMS.admin, opts)}`,
        operator,
      );
      expect({ opts, status: res.statusCode }).toEqual({ opts, status: 200 });
    }
  });
});

describe('a JWKS that cannot be fetched', () => {
  it('is a 503 UPSTREAM_ERROR (the token may be fine), not a 401 or a 500', async () => {
    const idp = await createProvider('RS256', 'idp-key-1');
    const jwks = await serveJwks([idp.publicJwk]);
    const url = jwks.url;
    await jwks.close();
    const app = await buildFor(fixture, securityEnv(fixture, 'all', { jwksUrl: url, algorithms: 'RS256' }));
    try {
      for (const [key, claims] of [
        ['GET /v1/me', CLAIMS.admin],
        ['POST /v1/estimates/precise', CLAIMS.service],
      ] as const) {
        const res = await send(app, key, `Bearer ${await idp.sign(claims)}`, '');
        expect({ key, status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({
          key,
          status: 503,
          code: 'UPSTREAM_ERROR',
        });
      }
    } finally {
      await app.close();
    }
  });
});

describe('oversized tokens on a real socket', () => {
  let app: ServiceApp;
  let port = 0;
  let idp: Provider;
  beforeAll(async () => {
    idp = await createProvider('ES256', 'idp-key-1');
    app = await buildFor(fixture, securityEnv(fixture, 'all', idp));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  }, 60_000);
  afterAll(() => app?.close());

  function get(path: string, authorization: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { authorization } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('a signed token over 8 KiB but within the header limit is a 401', async () => {
    const token = await idp.sign({ role: 'operator', pad: 'x'.repeat(10_000) });
    expect(token.length).toBeGreaterThan(8_192);
    const res = await get('/v1/me', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('a token beyond the 16 KiB header limit is a 431 HEADERS_TOO_LARGE, on the admin and estimate API', async () => {
    const token = await idp.sign({ role: 'operator', pad: 'x'.repeat(20_000) });
    for (const path of ['/v1/me', '/v1/estimates/precise']) {
      const res = await get(path, `Bearer ${token}`);
      expect({ path, status: res.status }).toEqual({ path, status: 431 });
      expect(JSON.parse(res.body)).toMatchObject({ code: 'HEADERS_TOO_LARGE' });
    }
  });
});

describe('the verified-token cache (AUTH_VERIFIED_CACHE_ENTRIES) in the threat model', () => {
  it('a remembered token is refused once it has expired (the verifier, with a moved clock)', async () => {
    const idp = await createProvider('ES256', 'idp-key-1');
    let at = Date.now();
    const verifier = createTokenVerifier(
      authEnv.parse({
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_PUBLIC_KEY: idp.publicPem,
        AUTH_CLOCK_TOLERANCE_SECONDS: '30',
      }),
      { now: () => new Date(at) },
    );
    const exp = Math.floor(at / 1000) + 60;
    const token = await idp.sign({ role: 'operator' }, { exp });
    await verifier.verify(token);
    await verifier.verify(token);
    // Remembered: the second check was answered from the cache.
    expect(verifier.stats()).toEqual({ signatureChecks: 1, cacheHits: 1 });
    // Past exp + the leeway, the cached entry must not answer, and the full check refuses it.
    at = (exp + 31) * 1000;
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthFailure);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthFailure);
    expect(verifier.stats().cacheHits).toBe(1);
  });

  it.each([
    ['on (the default)', {}],
    ['off', { AUTH_VERIFIED_CACHE_ENTRIES: '0' }],
  ])(
    'the app refuses a token it let in once it has expired, cache %s',
    async (_name, extra) => {
      const idp = await createProvider('ES256', 'idp-key-1');
      const app = await buildFor(
        fixture,
        securityEnv(fixture, 'all', idp, { AUTH_CLOCK_TOLERANCE_SECONDS: '0', ...extra }),
      );
      try {
        const exp = nowSeconds() + 3;
        const tokens = {
          admin: `Bearer ${await idp.sign({ role: 'operator' }, { exp })}`,
          service: `Bearer ${await idp.sign({ role: 'service' }, { exp })}`,
        };
        const routes = { admin: 'GET /v1/me', service: 'POST /v1/estimates/precise' } as const;
        for (const family of ['admin', 'service'] as const) {
          for (let i = 0; i < 2; i++) {
            expect((await send(app, routes[family], tokens[family], '')).statusCode).toBe(200);
          }
        }
        // Wait for the condition (the token's expiry on this clock), not for a guessed time.
        await expect
          .poll(() => Date.now() >= (exp + 1) * 1000, { timeout: 10_000, interval: 100 })
          .toBe(true);
        for (const family of ['admin', 'service'] as const) {
          const res = await send(app, routes[family], tokens[family], '');
          expect({ family, status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({
            family,
            status: 401,
            code: 'UNAUTHENTICATED',
          });
        }
      } finally {
        await app.close();
      }
    },
    20_000,
  );
});

describe('regression: a token issued in the future (iat beyond the leeway) was accepted', () => {
  it('is refused beyond the leeway and accepted within it, by the verifier itself', async () => {
    const idp = await createProvider('ES256', 'idp-key-1');
    const at = Date.now();
    const verifier = createTokenVerifier(
      authEnv.parse({
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_PUBLIC_KEY: idp.publicPem,
        AUTH_CLOCK_TOLERANCE_SECONDS: '30',
      }),
      { now: () => new Date(at) },
    );
    const now = Math.floor(at / 1000);
    const future = await idp.sign({ role: 'operator' }, { iat: now + 31, exp: now + 3600 });
    await expect(verifier.verify(future)).rejects.toMatchObject({ reason: 'issued in the future (iat)' });
    // Refused every time: a failure is never remembered.
    await expect(verifier.verify(future)).rejects.toBeInstanceOf(AuthFailure);
    const skewed = await idp.sign({ role: 'operator' }, { iat: now + 29, exp: now + 3600 });
    await expect(verifier.verify(skewed)).resolves.toMatchObject({ kind: 'operator' });
  });
});
