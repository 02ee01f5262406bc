/**
 * Store owners' bearer tokens, signed with the committed development key exactly as `pnpm dev:token --store
 * <ids> --sub <subject>` signs them (EdDSA, the dev key id, issuer and audience; claims role and stores), but
 * in this process: the admin search needs thousands of owners (the admin API limits each subject's rate),
 * and one CLI start per token would take minutes. The BFF verifies them as it verifies any JWT (AUTH_DEV_KEYS,
 * which the run command sets). The constants come from the BFF's own auth module, so they cannot drift.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface DevKeyModule {
  readonly DEV_ISSUER: string;
  readonly DEV_AUDIENCE: string;
  readonly DEV_KEY_ID: string;
  readonly DEV_PRIVATE_KEY_FILE: string;
}

export interface DevSigner {
  /** A store owner's token for these stores, valid `ttlSeconds` from now. */
  owner(subject: string, storeIds: readonly number[], ttlSeconds?: number): string;
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** Signs compact JWTs with an Ed25519 key: the header and the claims as given, nothing added. */
export function signJwt(
  key: KeyObject,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

export async function devSigner(root: string): Promise<DevSigner> {
  const mod = (await import(
    pathToFileURL(join(root, 'services', 'vendor-bff', 'src', 'auth', 'jwt.ts')).href
  )) as DevKeyModule;
  const key = createPrivateKey(readFileSync(mod.DEV_PRIVATE_KEY_FILE, 'utf8'));
  return {
    owner(subject, storeIds, ttlSeconds = 8 * 3600) {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(
        key,
        { alg: 'EdDSA', typ: 'JWT', kid: mod.DEV_KEY_ID },
        {
          role: 'owner',
          stores: [...storeIds],
          iss: mod.DEV_ISSUER,
          aud: mod.DEV_AUDIENCE,
          sub: subject,
          iat: now,
          exp: now + ttlSeconds,
        },
      );
    },
  };
}
