/**
 * What the security suites share: the real data layer (embedded PGlite, migrated and seeded), a built admin
 * web in a temporary folder, a real identity provider (key pairs and signatures from jose, a JWKS served by
 * a real HTTP server), the identities of the authorization matrix, and apps built per ROLE exactly as
 * main.ts builds them. Geo and the ML proxy point at a port nothing listens on: the estimates answer from
 * the ladder's floor, which is enough to tell who was let in.
 */
import { KeyObject, sign as cryptoSign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheEnv, silentLogger } from '@eta/cache';
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { freePort } from '@eta/testing/ports';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import {
  createDbStoreSource,
  createStoreViewCache,
  seedStores,
  type Database,
} from '../../src/adapters/db/index.ts';
import { buildApp } from '../../src/app.ts';
import { configSchema, type Role } from '../../src/config.ts';
import { createStoreCatalog, type ManagedStoreCatalog } from '../../src/domain/catalog.ts';
import { migratedPglite, silentLog } from '../db/support.ts';
import { offlineAppEnv } from '../support/app-env.ts';

export const ISSUER = 'https://id.security-tests.example/';
export const AUDIENCE = 'vendor-bff-security-tests';
export const SERVICE_TOKEN = 'security-tests-checkout-token-0123456789abcdef';
export const MESH_HEADER = 'x-forwarded-client-cert';
export const MESH_IDENTITY = 'By=spiffe://c/ns/bff;URI=spiffe://cluster.local/ns/shop/sa/tracking';

/** The store the owner identity owns, and the one the other owner owns. */
export const OWN_STORE = 1;
export const OTHER_STORE = 2;

export type JwtAlg = 'ES256' | 'RS256';

/** A real identity provider: a key pair, its public key as PEM and JWK, and tokens signed with it. */
export interface Provider {
  readonly alg: JwtAlg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicPem: string;
  readonly publicJwk: JWK;
  /** A token with the usual registered claims (iss, aud, sub, iat, exp one hour ahead) over `claims`. */
  sign(claims: Record<string, unknown>, opts?: TokenOptions): Promise<string>;
}

export interface TokenOptions {
  readonly sub?: string | null;
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds since the epoch; null leaves the claim out. Default: one hour from now. */
  readonly exp?: number | null;
  readonly iat?: number;
  readonly nbf?: number;
  /** Extra protected header parameters (kid, jku, jwk, crit...). */
  readonly header?: Record<string, unknown>;
  /** Sign with this key instead of the provider's own (a wrong key under the provider's kid). */
  readonly key?: CryptoKey;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export async function createProvider(alg: JwtAlg, kid: string): Promise<Provider> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return {
    alg,
    kid,
    privateKey,
    publicPem: await exportSPKI(publicKey),
    publicJwk,
    sign: (claims, opts = {}) =>
      signToken(opts.key ?? privateKey, alg, claims, { kid, ...opts.header }, opts),
  };
}

async function signToken(
  key: CryptoKey | Uint8Array,
  alg: string,
  claims: Record<string, unknown>,
  header: Record<string, unknown>,
  opts: TokenOptions,
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ ...header, alg, typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(opts.iat ?? nowSeconds());
  if (opts.sub !== null) jwt.setSubject(opts.sub ?? 'someone');
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? nowSeconds() + 3600);
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(key);
}

/** HS256 over the claims with `secret` as the HMAC key (the key-confusion forgery when it is a public key). */
export function hmacToken(secret: string, claims: Record<string, unknown>, kid?: string): Promise<string> {
  return signToken(new TextEncoder().encode(secret), 'HS256', claims, kid === undefined ? {} : { kid }, {});
}

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A compact JWS from parts given as they are (header, payload, signature), for forgeries jose will not sign. */
export function rawToken(header: unknown, payload: unknown, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/**
 * A compact JWS signed with the provider's real private key over a header and payload given as they are:
 * for forgeries jose refuses to produce (an unknown `crit` extension, claims of the wrong type).
 */
export function signRaw(provider: Provider, header: Record<string, unknown>, payload: unknown): string {
  const input = `${b64({ alg: provider.alg, typ: 'JWT', kid: provider.kid, ...header })}.${b64(payload)}`;
  const key = KeyObject.from(provider.privateKey);
  const signature =
    provider.alg === 'ES256'
      ? cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
      : cryptoSign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

/** The usual claims of a token of this suite, for forgeries built by hand. */
export function registeredClaims(extra: Record<string, unknown>): Record<string, unknown> {
  const now = nowSeconds();
  return { iss: ISSUER, aud: AUDIENCE, sub: 'someone', iat: now, exp: now + 3600, ...extra };
}

/** A JWKS served by a real HTTP server; `requests` counts the fetches (jose caches it). */
export interface JwksServer {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function serveJwks(keys: readonly JWK[]): Promise<JwksServer> {
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Who calls, in the authorization matrix. */
export const IDENTITIES = [
  'anonymous',
  'serviceToken',
  'serviceJwt',
  'meshIdentity',
  'otherOwner',
  'owner',
  'operator',
] as const;
export type Identity = (typeof IDENTITIES)[number];

/** The request headers each identity sends; JWTs are signed by `provider`. */
export async function identityHeaders(provider: Provider): Promise<Record<Identity, Record<string, string>>> {
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  return {
    anonymous: {},
    serviceToken: bearer(SERVICE_TOKEN),
    serviceJwt: bearer(await provider.sign({ role: 'service' }, { sub: 'search' })),
    meshIdentity: { [MESH_HEADER]: MESH_IDENTITY },
    otherOwner: bearer(await provider.sign({ role: 'owner', stores: [OTHER_STORE] }, { sub: 'owner-of-2' })),
    owner: bearer(await provider.sign({ role: 'owner', stores: [OWN_STORE] }, { sub: 'owner-of-1' })),
    operator: bearer(await provider.sign({ role: 'operator' }, { sub: 'operator-1' })),
  };
}

/** The data layer, the admin web build and a dead dependency origin, shared by the apps of one file. */
export interface Fixture {
  readonly db: Database;
  readonly catalog: ManagedStoreCatalog;
  /** Where Geo and the ML proxy are said to be: nothing listens there. */
  readonly dead: string;
  /** A built admin web (index.html and one hashed asset). */
  readonly webDir: string;
  close(): Promise<void>;
}

export async function openFixture(): Promise<Fixture> {
  const db = await migratedPglite();
  await seedStores(db, silentLog, { count: 4 });
  await db.query(
    'UPDATE store_settings SET busy_extra_minutes = NULL, busy_until = NULL, auto_prediction = true',
  );
  const catalog = createStoreCatalog({
    source: createDbStoreSource(db),
    cache: createStoreViewCache(parseEnv(cacheEnv, {})),
    log: silentLogger,
    distributed: false,
  });
  const webDir = await mkdtemp(join(tmpdir(), 'bff-security-web-'));
  await mkdir(join(webDir, 'assets'));
  await writeFile(join(webDir, 'index.html'), '<!doctype html><title>admin</title>');
  await writeFile(join(webDir, 'assets', 'app-1a2b.js'), 'console.log(1)');
  return {
    db,
    catalog,
    dead: `http://127.0.0.1:${await freePort()}`,
    webDir,
    async close() {
      await catalog.close();
      await db.close();
      await rm(webDir, { recursive: true, force: true });
    },
  };
}

/**
 * The environment of a pod of `role` trusting `provider` (its PEM, or a JWKS URL), the shared service
 * token and the mesh header; `extra` overrides (a key given as undefined is left out).
 */
export function securityEnv(
  fixture: Fixture,
  role: Role,
  trust: { readonly publicPem: string } | { readonly jwksUrl: string; readonly algorithms: string },
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  return offlineAppEnv(fixture.dead, {
    ROLE: role,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    ...('publicPem' in trust
      ? { AUTH_PUBLIC_KEY: trust.publicPem, AUTH_ALGORITHMS: 'ES256,RS256' }
      : { AUTH_JWKS_URL: trust.jwksUrl, AUTH_ALGORITHMS: trust.algorithms }),
    SERVICE_TOKENS: `checkout:${SERVICE_TOKEN}`,
    TRUST_MESH_IDENTITY_HEADER: MESH_HEADER,
    ADMIN_WEB_DIR: fixture.webDir,
    // The matrix sends many requests under one subject; the limits have their own suite.
    ADMIN_RATE_LIMIT_BURST: '100000',
    ...extra,
  });
}

/** A ready app of `role` on the fixture's data layer. The caller closes it. */
export async function buildFor(fixture: Fixture, env: Record<string, string>): Promise<ServiceApp> {
  const app = await buildApp(parseEnv(configSchema, env), { catalog: fixture.catalog, db: fixture.db });
  await app.ready();
  return app;
}

/** Registered routes as `METHOD url`, the way the policy table names them. */
export const routeKey = (r: { readonly method: string; readonly url: string }): string =>
  `${r.method} ${r.url}`;
