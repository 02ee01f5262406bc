import { createPublicKey, type KeyObject } from 'node:crypto';
import { envBool, envInt, envUrl, z } from '@eta/config';

/**
 * Env keys of authentication: store owners' and operators' bearer JWTs on the admin API, and the service
 * credentials the estimate API requires. Merged into vendor-bff's schema (config.ts); the checks that
 * involve several keys or the ROLE are in `authConfigIssues`, run by the schema's superRefine so every bad
 * key is listed at once with the rest of the config.
 */

/**
 * Asymmetric algorithms only: `none` and the HS* family can never be configured, so a token "signed" with
 * the public key as an HMAC secret, or not signed at all, is refused by the allow-list before any key is
 * looked at.
 */
export const ALLOWED_JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type JwtAlgorithm = (typeof ALLOWED_JWT_ALGORITHMS)[number];

const algorithmList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.enum(ALLOWED_JWT_ALGORITHMS, {
          message: `expected a comma-separated list of ${ALLOWED_JWT_ALGORITHMS.join(', ')} (never none or HS*)`,
        }),
      )
      .min(1, { message: 'list at least one algorithm' }),
  );

/** `name:token` pairs; names are what the log shows as the caller, tokens are compared in constant time. */
export interface ServiceToken {
  readonly name: string;
  readonly token: string;
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** Shorter shared secrets are guessable; 32 characters of base64 is 192 bits. */
export const SERVICE_TOKEN_MIN_LENGTH = 32;

const serviceTokens = z.string().transform((raw, ctx): ServiceToken[] => {
  const out: ServiceToken[] = [];
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const [i, item] of items.entries()) {
    const at = item.indexOf(':');
    const name = at < 0 ? '' : item.slice(0, at);
    const token = at < 0 ? '' : item.slice(at + 1);
    // The token itself is never echoed into the error: config errors are logged.
    if (!SERVICE_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: expected name:token with a lower-case name` });
    } else if (token.length < SERVICE_TOKEN_MIN_LENGTH || /\s/.test(token)) {
      ctx.addIssue({
        code: 'custom',
        message: `entry ${i + 1} (${name}): the token must be at least ${SERVICE_TOKEN_MIN_LENGTH} characters without spaces`,
      });
    } else if (out.some((t) => t.name === name)) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: the name ${name} appears twice` });
    } else {
      out.push({ name, token });
    }
  }
  return out;
});

/** An HTTP header name as Node presents it (lower case). */
const headerName = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9-]{1,100}$/, { message: 'expected an HTTP header name' });

export const authEnv = z.object({
  /** The identity provider's `iss`; tokens with another issuer are refused. */
  AUTH_ISSUER: z.string().trim().min(1).optional(),
  /** This API's `aud` at that provider. */
  AUTH_AUDIENCE: z.string().trim().min(1).optional(),
  /** Where the provider publishes its keys (JWKS); fetched and cached by jose, refreshed on an unknown kid. */
  AUTH_JWKS_URL: envUrl(['https', 'http']).optional(),
  /** Or one public key inline: SPKI PEM, or a JWK as JSON. Exactly one of AUTH_JWKS_URL / AUTH_PUBLIC_KEY. */
  AUTH_PUBLIC_KEY: z.string().trim().min(1).optional(),
  AUTH_ALGORITHMS: algorithmList.default(['RS256', 'ES256', 'EdDSA']),
  /** Clock skew tolerated on exp/nbf/iat between the provider and this pod. */
  AUTH_CLOCK_TOLERANCE_SECONDS: envInt(30, { min: 0, max: 300 }),
  /**
   * Verified JWTs remembered per pod (by SHA-256 digest of the token, never past its `exp`), so a caller
   * that sends the same service token on every request pays for one signature check, not one per request.
   * 0 turns the cache off. Failures are never remembered.
   */
  AUTH_VERIFIED_CACHE_ENTRIES: envInt(10_000, { min: 0, max: 1_000_000 }),
  /**
   * Longest a remembered verification is trusted, whatever the token's `exp`: bounds how long a token keeps
   * working on this pod after its signing key was withdrawn from the JWKS.
   */
  AUTH_VERIFIED_CACHE_SECONDS: envInt(300, { min: 1, max: 86_400 }),
  /**
   * Accept tokens signed with the committed development key (services/vendor-bff/dev). Local runs only:
   * anyone can sign with that key. A warning is logged at start while it is on.
   */
  AUTH_DEV_KEYS: envBool(false),
  /** Shared bearer tokens of the services allowed to call the estimate API: `name:token,name:token`. */
  SERVICE_TOKENS: serviceTokens.optional(),
  /**
   * Trust this header as the caller's mesh identity (for example `x-forwarded-client-cert` set by the
   * sidecar). Only where the mesh strips it from outside traffic: anyone can send a header.
   */
  TRUST_MESH_IDENTITY_HEADER: headerName.optional(),
  /** Admin API rate limit per token subject, per pod: sustained requests per minute and the burst. */
  ADMIN_RATE_LIMIT_PER_MINUTE: envInt(120, { min: 1, max: 1_000_000 }),
  ADMIN_RATE_LIMIT_BURST: envInt(30, { min: 1, max: 100_000 }),
  /**
   * Estimate API rate limit per calling service (the credential's subject: the SERVICE_TOKENS name, the
   * service JWT's `sub`, or the mesh identity), per pod: sustained requests per second. 0 (the default)
   * turns it off: the estimate pods' replica count follows the lunch and dinner peaks, so a per-pod figure
   * is no fixed quota, and admission control (MAX_IN_FLIGHT, MAX_QUEUE_MS) already protects each pod.
   * Set it to keep one runaway caller from taking a pod's whole capacity from the others.
   */
  SERVICE_RATE_LIMIT_PER_SECOND: envInt(0, { min: 0, max: 10_000_000 }),
  /** Requests a calling service may send at once above the rate; default one second's worth of it. */
  SERVICE_RATE_LIMIT_BURST: envInt(undefined, { min: 1, max: 10_000_000 }).optional(),
  /** The built admin web (services/admin-web/dist) served at /admin/; default resolved from this package. */
  ADMIN_WEB_DIR: z.string().trim().min(1).optional(),
});

export type AuthEnvConfig = z.output<typeof authEnv>;

/** Reads AUTH_PUBLIC_KEY (PEM or JWK JSON) as a public KeyObject, or says why it cannot. */
export function parsePublicKey(text: string): { ok: true; key: KeyObject } | { ok: false; message: string } {
  try {
    if (text.startsWith('{')) {
      const jwk = JSON.parse(text) as Record<string, unknown>;
      if ('d' in jwk || jwk['kty'] === 'oct') {
        return { ok: false, message: 'expected a PUBLIC key; this JWK holds private or symmetric material' };
      }
      return { ok: true, key: createPublicKey({ key: jwk, format: 'jwk' }) };
    }
    if (!text.includes('-----BEGIN PUBLIC KEY-----')) {
      return { ok: false, message: 'expected an SPKI PEM (-----BEGIN PUBLIC KEY-----) or a JWK as JSON' };
    }
    return { ok: true, key: createPublicKey(text.replaceAll('\\n', '\n')) };
  } catch {
    return { ok: false, message: 'not a readable public key (PEM or JWK JSON)' };
  }
}

interface AuthIssue {
  readonly path: string;
  readonly message: string;
}

/** Checks across keys and against the ROLE, as config issues (path = the env key). */
export function authConfigIssues(c: AuthEnvConfig & { readonly ROLE: string }): AuthIssue[] {
  const issues: AuthIssue[] = [];
  const provider = [c.AUTH_ISSUER, c.AUTH_AUDIENCE, c.AUTH_JWKS_URL ?? c.AUTH_PUBLIC_KEY];
  const anyProvider = provider.some((v) => v !== undefined);
  if (anyProvider) {
    if (c.AUTH_ISSUER === undefined)
      issues.push({ path: 'AUTH_ISSUER', message: 'required with the other AUTH_* keys' });
    if (c.AUTH_AUDIENCE === undefined)
      issues.push({ path: 'AUTH_AUDIENCE', message: 'required with the other AUTH_* keys' });
    if ((c.AUTH_JWKS_URL === undefined) === (c.AUTH_PUBLIC_KEY === undefined)) {
      issues.push({ path: 'AUTH_JWKS_URL', message: 'set exactly one of AUTH_JWKS_URL and AUTH_PUBLIC_KEY' });
    }
  }
  if (c.AUTH_PUBLIC_KEY !== undefined) {
    const parsed = parsePublicKey(c.AUTH_PUBLIC_KEY);
    if (!parsed.ok) issues.push({ path: 'AUTH_PUBLIC_KEY', message: parsed.message });
  }
  // A deployed role with nobody able to authenticate would answer 401 to everyone: fail at start instead.
  // `all` (local runs, tests) may start without, and warns.
  const canVerifyJwt = anyProvider || c.AUTH_DEV_KEYS;
  if (c.ROLE === 'admin' && !canVerifyJwt) {
    issues.push({
      path: 'AUTH_ISSUER',
      message:
        'ROLE=admin needs a token issuer (AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL or AUTH_PUBLIC_KEY)',
    });
  }
  const canAuthService =
    canVerifyJwt || (c.SERVICE_TOKENS?.length ?? 0) > 0 || c.TRUST_MESH_IDENTITY_HEADER !== undefined;
  if ((c.ROLE === 'precise' || c.ROLE === 'rough') && !canAuthService) {
    issues.push({
      path: 'SERVICE_TOKENS',
      message: `ROLE=${c.ROLE} needs a service credential: SERVICE_TOKENS, TRUST_MESH_IDENTITY_HEADER or a token issuer`,
    });
  }
  return issues;
}
