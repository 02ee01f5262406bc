/**
 * Freshness of one cached value, in wall-clock milliseconds. The same two instants travel with the value
 * into Redis, so every process that reads it agrees on when it goes stale, instead of each restarting the
 * clock when it happens to read it (which would stretch the real TTL to a multiple of itself).
 */
export interface Expiry {
  /** Before this instant the value is served as is. */
  readonly freshUntil: number;
  /** Between freshUntil and this instant it is served stale while one refresh runs; after it, gone. */
  readonly staleUntil: number;
}

export interface ExpiryPolicy {
  readonly ttlMs: number;
  /** 0..1: each TTL is shortened by a random fraction up to this, so a batch written together does not expire together. */
  readonly jitter: number;
  readonly staleMs: number;
}

export function computeExpiry(policy: ExpiryPolicy, now: number, random: () => number): Expiry {
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  // Shorten only: a TTL is a staleness promise, so jitter must never stretch it.
  const ttl = Math.max(1, Math.round(policy.ttlMs * (1 - jitter * random())));
  const freshUntil = now + ttl;
  return { freshUntil, staleUntil: freshUntil + Math.max(0, policy.staleMs) };
}

export type Freshness = 'fresh' | 'stale' | 'expired';

export function freshness(expiry: Expiry, now: number): Freshness {
  if (now < expiry.freshUntil) return 'fresh';
  if (now < expiry.staleUntil) return 'stale';
  return 'expired';
}

/**
 * L2 payload: `<freshUntil>|<encoded value>`. The Redis key itself expires at staleUntil (PX), so only
 * freshUntil needs to be stored; the separator is found with one indexOf and the value is never copied
 * into a wrapper object and re-encoded.
 */
export function encodeEnvelope(freshUntil: number, encoded: string): string {
  return `${freshUntil}|${encoded}`;
}

export function decodeEnvelope(payload: string): { freshUntil: number; encoded: string } | undefined {
  const bar = payload.indexOf('|');
  if (bar <= 0) return undefined;
  const freshUntil = Number(payload.slice(0, bar));
  if (!Number.isSafeInteger(freshUntil)) return undefined;
  return { freshUntil, encoded: payload.slice(bar + 1) };
}
