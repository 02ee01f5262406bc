import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from '@eta/config';
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { hash, type KeyObject } from 'node:crypto';
import { parsePublicKey, type AuthEnvConfig } from './config.ts';

/**
 * Bearer JWT verification with jose: signature, algorithm (allow-list; never `none`, never HS*), issuer,
 * audience, expiry with a small clock tolerance. Several issuers can be trusted at once (the configured
 * identity provider and, locally, the committed development key); the token's unverified `iss` only picks
 * which one verifies it, and that verifier then requires exactly that issuer.
 */

/** Issuer and audience of tokens signed with the committed development key (dev/README.md). */
export const DEV_ISSUER = 'urn:eta:vendor-bff:dev-only';
export const DEV_AUDIENCE = 'urn:eta:vendor-bff:dev-only';
export const DEV_KEY_ID = 'vendor-bff-dev-only-1';
export const DEV_PUBLIC_KEY_FILE = fileURLToPath(
  new URL('../../dev/DEV-ONLY-jwt-public-key.pem', import.meta.url),
);
export const DEV_PRIVATE_KEY_FILE = fileURLToPath(
  new URL('../../dev/DEV-ONLY-jwt-signing-key.pem', import.meta.url),
);

/** Who a verified token says its holder is. */
export type Principal =
  | { readonly kind: 'owner'; readonly subject: string; readonly storeIds: readonly number[] }
  | { readonly kind: 'operator'; readonly subject: string }
  | { readonly kind: 'service'; readonly subject: string; readonly via: 'token' | 'jwt' | 'mesh' };

/**
 * The claims this API reads. `role` absent means a store owner. Store ids beyond what one owner can have
 * are refused rather than truncated.
 */
const Claims = z.object({
  sub: z.string().min(1).max(256),
  role: z.enum(['owner', 'operator', 'service']).default('owner'),
  stores: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).max(10_000).default([]),
});

export function principalOf(payload: unknown): Principal | undefined {
  const parsed = Claims.safeParse(payload);
  if (!parsed.success) return undefined;
  const { sub, role, stores } = parsed.data;
  if (role === 'operator') return { kind: 'operator', subject: sub };
  if (role === 'service') return { kind: 'service', subject: sub, via: 'jwt' };
  return { kind: 'owner', subject: sub, storeIds: [...new Set(stores)].sort((a, b) => a - b) };
}

/** 401: the token is missing, malformed, expired, or not ours. `reason` goes to the log, not the client. */
export class AuthFailure extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super('missing or invalid bearer token');
    this.name = 'AuthFailure';
    this.reason = reason;
  }
}

/** 503: the keys could not be fetched (JWKS endpoint down); the token may be fine. */
export class AuthUnavailable extends Error {
  constructor(cause: unknown) {
    super('the identity provider keys could not be fetched', { cause });
    this.name = 'AuthUnavailable';
  }
}

export interface TokenVerifier {
  /** Resolves with the holder; throws AuthFailure or AuthUnavailable. */
  verify(token: string): Promise<Principal>;
  /** False when no issuer is trusted at all (then every JWT fails). */
  readonly configured: boolean;
  readonly issuers: readonly string[];
  /** Signature checks done and verifications answered from the cache, since start. */
  stats(): { readonly signatureChecks: number; readonly cacheHits: number };
}

interface Trusted {
  readonly issuer: string;
  readonly audience: string;
  readonly key: KeyObject | JWTVerifyGetKey;
  readonly algorithms: readonly string[];
}

export interface VerifierOptions {
  /** Clock for exp/nbf (seconds resolution in jose) and for the verified-token cache; tests move it. */
  readonly now?: () => Date;
}

interface Remembered {
  readonly principal: Principal;
  /** Epoch ms after which the entry is not used: the token's `exp`, or the cache's own age limit. */
  readonly until: number;
}

/**
 * Successful verifications by token digest, so a repeated token costs a hash and a map lookup instead of a
 * signature check (an EdDSA or ES256 verify is tens of microseconds; at thousands of requests per second
 * that is a large part of the request's CPU). Bounded in count (oldest dropped first), an entry never
 * outlives the token's `exp` nor `maxAgeMs`, and only successes are stored: a token that failed is checked
 * in full again every time.
 */
function verifiedCache(maxEntries: number, maxAgeMs: number, clock: () => number) {
  const entries = new Map<string, Remembered>();
  // crypto.hash: the one-shot form, without a Hash object per request (the chained form showed in profiles).
  const key = (token: string) => hash('sha256', token, 'base64');
  return {
    get(token: string): { digest: string; principal?: Principal } {
      const digest = key(token);
      const hit = entries.get(digest);
      if (hit === undefined) return { digest };
      if (hit.until > clock()) return { digest, principal: hit.principal };
      entries.delete(digest);
      return { digest };
    },
    set(digest: string, principal: Principal, expSeconds: number): void {
      const until = Math.min(expSeconds * 1000, clock() + maxAgeMs);
      if (until <= clock()) return;
      entries.delete(digest);
      entries.set(digest, { principal, until });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
    },
  };
}

const JWT_SHAPE = /^[\w-]+\.[\w-]*\.[\w-]*$/;

export function createTokenVerifier(config: AuthEnvConfig, opts: VerifierOptions = {}): TokenVerifier {
  const trusted: Trusted[] = [];
  if (config.AUTH_ISSUER !== undefined && config.AUTH_AUDIENCE !== undefined) {
    let key: KeyObject | JWTVerifyGetKey | undefined;
    if (config.AUTH_JWKS_URL !== undefined) {
      key = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
        timeoutDuration: 2_000,
        cooldownDuration: 30_000,
        cacheMaxAge: 600_000,
      });
    } else if (config.AUTH_PUBLIC_KEY !== undefined) {
      const parsed = parsePublicKey(config.AUTH_PUBLIC_KEY);
      if (!parsed.ok) throw new Error(`AUTH_PUBLIC_KEY: ${parsed.message}`);
      key = parsed.key;
    }
    if (key !== undefined) {
      trusted.push({
        issuer: config.AUTH_ISSUER,
        audience: config.AUTH_AUDIENCE,
        key,
        algorithms: config.AUTH_ALGORITHMS,
      });
    }
  }
  if (config.AUTH_DEV_KEYS) {
    const parsed = parsePublicKey(readFileSync(DEV_PUBLIC_KEY_FILE, 'utf8'));
    if (!parsed.ok) throw new Error(`${DEV_PUBLIC_KEY_FILE}: ${parsed.message}`);
    trusted.push({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, key: parsed.key, algorithms: ['EdDSA'] });
  }
  const byIssuer = new Map(trusted.map((t) => [t.issuer, t]));
  const clockTolerance = config.AUTH_CLOCK_TOLERANCE_SECONDS;
  const clock = opts.now !== undefined ? () => opts.now!().getTime() : Date.now;
  const cache =
    config.AUTH_VERIFIED_CACHE_ENTRIES > 0
      ? verifiedCache(config.AUTH_VERIFIED_CACHE_ENTRIES, config.AUTH_VERIFIED_CACHE_SECONDS * 1000, clock)
      : undefined;
  let signatureChecks = 0;
  let cacheHits = 0;

  return {
    configured: trusted.length > 0,
    issuers: trusted.map((t) => t.issuer),
    stats: () => ({ signatureChecks, cacheHits }),
    async verify(token) {
      if (!JWT_SHAPE.test(token)) throw new AuthFailure('not a compact JWT');
      const cached = cache?.get(token);
      if (cached?.principal !== undefined) {
        cacheHits += 1;
        return cached.principal;
      }
      let iss: unknown;
      try {
        iss = decodeJwt(token).iss;
      } catch {
        throw new AuthFailure('undecodable JWT');
      }
      const t = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
      if (t === undefined) throw new AuthFailure('untrusted issuer');
      let payload: unknown;
      signatureChecks += 1;
      try {
        const verifyOptions = {
          issuer: t.issuer,
          audience: t.audience,
          algorithms: [...t.algorithms],
          clockTolerance,
          requiredClaims: ['exp', 'sub'],
          ...(opts.now !== undefined ? { currentDate: opts.now() } : {}),
        };
        // Two calls rather than one union argument: jose overloads key objects and key functions.
        const result =
          typeof t.key === 'function'
            ? await jwtVerify(token, t.key, verifyOptions)
            : await jwtVerify(token, t.key, verifyOptions);
        payload = result.payload;
      } catch (err) {
        // With a JWKS URL, a failure to get the keys (timeout, refused, garbage) is not the caller's fault.
        // With a static key every failure is the token's: a key type that does not fit the token's `alg`
        // surfaces as a TypeError from jose.
        const keysFailed =
          err instanceof joseErrors.JWKSTimeout ||
          err instanceof joseErrors.JWKSInvalid ||
          !(err instanceof joseErrors.JOSEError);
        if (typeof t.key === 'function' && keysFailed) throw new AuthUnavailable(err);
        throw new AuthFailure(err instanceof joseErrors.JOSEError ? err.code : 'verification failed');
      }
      // jose checks `iat` only against a maximum age, which this API does not set: a token "issued" beyond
      // the leeway in the future comes from a broken or hostile clock and would outlive its intended
      // lifetime, so it is refused like a token whose `nbf` is in the future.
      const iat = (payload as { iat?: unknown }).iat;
      if (typeof iat === 'number' && iat > clock() / 1000 + clockTolerance) {
        throw new AuthFailure('issued in the future (iat)');
      }
      const principal = principalOf(payload);
      if (principal === undefined) throw new AuthFailure('claims not understood');
      // requiredClaims made jose check that `exp` is there and a number.
      if (cached !== undefined) cache?.set(cached.digest, principal, (payload as { exp: number }).exp);
      return principal;
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([^\s]{1,8192})\s*$/i.exec(header);
  return m?.[1];
}
