/**
 * Test identity providers: real key pairs and real signatures (jose), so every token a test sends is
 * verified exactly as production verifies one. Forgeries are built by hand where jose refuses to sign them.
 */
import { readFileSync } from 'node:fs';
import { exportSPKI, generateKeyPair, importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER, DEV_PRIVATE_KEY_FILE } from '../../src/auth/jwt.ts';

export const ISSUER = 'https://id.test.example/';
export const AUDIENCE = 'vendor-bff-admin';

export interface Issuer {
  readonly publicPem: string;
  sign(claims: Record<string, unknown>, opts?: SignOptions): Promise<string>;
}

export interface SignOptions {
  readonly sub?: string;
  readonly iss?: string;
  readonly aud?: string;
  /** Seconds since the epoch; default one hour from now. */
  readonly exp?: number;
}

export async function createIssuer(alg: 'ES256' | 'RS256' = 'ES256'): Promise<Issuer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return {
    publicPem: await exportSPKI(publicKey),
    sign: (claims, opts) => signWith(privateKey, alg, claims, opts),
  };
}

async function signWith(
  key: CryptoKey | Uint8Array,
  alg: string,
  claims: Record<string, unknown>,
  opts: SignOptions = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setSubject(opts.sub ?? 'owner-a')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 3600)
    .sign(key);
}

/** A token signed with the committed development key (what `pnpm dev:token` prints). */
export async function devToken(claims: Record<string, unknown>, sub = 'dev-user'): Promise<string> {
  const key = await importPKCS8(readFileSync(DEV_PRIVATE_KEY_FILE, 'utf8'), 'EdDSA');
  return signWith(key, 'EdDSA', claims, { sub, iss: DEV_ISSUER, aud: DEV_AUDIENCE });
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** `alg: none`: a token with claims a server must never believe. */
export function unsignedToken(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { iss: ISSUER, aud: AUDIENCE, sub: 'owner-a', iat: now, exp: now + 3600, ...claims };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
}

/** The classic key-confusion forgery: HS256 with the issuer's PUBLIC key as the HMAC secret. */
export async function hmacWithPublicKey(publicPem: string, claims: Record<string, unknown>): Promise<string> {
  return signWith(new TextEncoder().encode(publicPem), 'HS256', claims);
}

/** The first token with its signature replaced by the second's (same header alg, wrong key). */
export function swapSignature(good: string, other: string): string {
  const [h, p] = good.split('.');
  const sig = other.split('.')[2];
  return `${h}.${p}.${sig}`;
}
