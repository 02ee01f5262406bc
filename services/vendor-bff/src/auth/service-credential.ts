import { hash, timingSafeEqual } from 'node:crypto';
import type { ServiceToken } from './config.ts';
import { AuthFailure, type Principal, type TokenVerifier } from './jwt.ts';

/**
 * Who may call the estimate API: a service with a shared bearer token (SERVICE_TOKENS), a service JWT
 * (`role: 'service'`, from the trusted issuer), or any caller the mesh vouches for through
 * TRUST_MESH_IDENTITY_HEADER. Anything else is a 401; store owners' tokens are not service credentials.
 */

export interface ServiceAuthOptions {
  readonly tokens: readonly ServiceToken[];
  readonly verifier: TokenVerifier;
  readonly meshHeader?: string | undefined;
}

export type ServiceAuthenticator = (
  headers: Readonly<Record<string, string | string[] | undefined>>,
) => Promise<Extract<Principal, { kind: 'service' }>>;

const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/** Identities from a header end up in every log line: keep them short and printable. */
function meshIdentity(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  // Istio's x-forwarded-client-cert: `By=...;Hash=...;URI=spiffe://cluster.local/ns/x/sa/y`; take the URI.
  const uri = /(?:^|;)URI=([^;,]+)/.exec(v)?.[1];
  const id = (uri ?? v)
    .trim()
    .replace(/[^\w.:/@+=-]/g, '_')
    .slice(0, 200);
  return id === '' ? undefined : id;
}

export function createServiceAuthenticator(opts: ServiceAuthOptions): ServiceAuthenticator {
  // Digests of equal length, so timingSafeEqual never throws and the comparison time does not depend on
  // how much of a guess was right; every configured token is compared, matched or not.
  const known = opts.tokens.map((t) => ({ name: t.name, digest: digest(t.token) }));
  return async (headers) => {
    const auth = headers['authorization'];
    const m = typeof auth === 'string' ? /^Bearer[ ]+(\S{1,8192})\s*$/i.exec(auth) : null;
    const token = m?.[1];
    if (token !== undefined) {
      let match: string | undefined;
      // No shared tokens configured (JWT callers only): nothing to compare, so no digest to pay for.
      if (known.length > 0) {
        const given = digest(token);
        for (const k of known) {
          if (timingSafeEqual(given, k.digest) && match === undefined) match = k.name;
        }
      }
      if (match !== undefined) return { kind: 'service', subject: match, via: 'token' };
      if (opts.verifier.configured && token.includes('.')) {
        const p = await opts.verifier.verify(token);
        if (p.kind !== 'service') throw new AuthFailure(`a ${p.kind} token is not a service credential`);
        return p;
      }
    }
    if (opts.meshHeader !== undefined) {
      const id = meshIdentity(headers[opts.meshHeader]);
      if (id !== undefined) return { kind: 'service', subject: id, via: 'mesh' };
    }
    throw new AuthFailure(token === undefined ? 'no service credential' : 'unknown service token');
  };
}
