import { describe, expect, it } from 'vitest';
import { authEnv } from '../../src/auth/config.ts';
import { AuthFailure, createTokenVerifier } from '../../src/auth/jwt.ts';
import { AUDIENCE, createIssuer, ISSUER, type Issuer } from './tokens.ts';

/** A verifier trusting `issuer`, with a movable clock. */
function setUp(issuer: Issuer, env: Record<string, string> = {}) {
  let at = Date.now();
  const config = authEnv.parse({
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_PUBLIC_KEY: issuer.publicPem,
    AUTH_CLOCK_TOLERANCE_SECONDS: '0',
    ...env,
  });
  const verifier = createTokenVerifier(config, { now: () => new Date(at) });
  return { verifier, move: (ms: number) => (at += ms), now: () => at };
}

describe('verified-token cache', () => {
  it('checks a repeated token once and answers the same principal from the cache', async () => {
    const issuer = await createIssuer();
    const { verifier } = setUp(issuer);
    const token = await issuer.sign({ role: 'service' }, { sub: 'checkout' });
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(first).toEqual({ kind: 'service', subject: 'checkout', via: 'jwt' });
    expect(second).toEqual(first);
    expect(verifier.stats()).toEqual({ signatureChecks: 1, cacheHits: 1 });
  });

  it('never answers from the cache past the token expiry', async () => {
    const issuer = await createIssuer();
    const { verifier, move, now } = setUp(issuer);
    const exp = Math.floor(now() / 1000) + 60;
    const token = await issuer.sign({ role: 'service' }, { sub: 'checkout', exp });
    await verifier.verify(token);
    move(exp * 1000 - now() + 1000);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(AuthFailure);
    expect(verifier.stats()).toEqual({ signatureChecks: 2, cacheHits: 0 });
  });

  it('never remembers a failure', async () => {
    const issuer = await createIssuer();
    const other = await createIssuer();
    const { verifier } = setUp(issuer);
    const forged = await other.sign({ role: 'service' }, { sub: 'checkout' });
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(AuthFailure);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(AuthFailure);
    expect(verifier.stats()).toEqual({ signatureChecks: 2, cacheHits: 0 });
  });

  it('checks the signature again once an entry is older than AUTH_VERIFIED_CACHE_SECONDS', async () => {
    const issuer = await createIssuer();
    const { verifier, move } = setUp(issuer, { AUTH_VERIFIED_CACHE_SECONDS: '2' });
    const token = await issuer.sign({ role: 'service' }, { sub: 'checkout' });
    await verifier.verify(token);
    move(1000);
    await verifier.verify(token);
    move(1500);
    await verifier.verify(token);
    expect(verifier.stats()).toEqual({ signatureChecks: 2, cacheHits: 1 });
  });

  it('is bounded in entries, the oldest dropped first, and off at 0', async () => {
    const issuer = await createIssuer();
    const a = await issuer.sign({ role: 'service' }, { sub: 'a' });
    const b = await issuer.sign({ role: 'service' }, { sub: 'b' });
    const one = setUp(issuer, { AUTH_VERIFIED_CACHE_ENTRIES: '1' }).verifier;
    for (const t of [a, b, b, a]) await one.verify(t);
    expect(one.stats()).toEqual({ signatureChecks: 3, cacheHits: 1 });
    const off = setUp(issuer, { AUTH_VERIFIED_CACHE_ENTRIES: '0' }).verifier;
    for (const t of [a, a]) await off.verify(t);
    expect(off.stats()).toEqual({ signatureChecks: 2, cacheHits: 0 });
  });
});
