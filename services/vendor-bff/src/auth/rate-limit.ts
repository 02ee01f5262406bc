/**
 * A token bucket per key (the admin API keys it by token subject, the estimate API by calling service):
 * `burst` requests at once, refilled at `perMinute`. In process, so the limit is per pod: with N pods a
 * subject can reach N times the rate at most. The point is to stop one runaway client or script without
 * touching the others, which this does without a Redis round trip per request (see ADR 0005).
 */

export interface RateLimitDecision {
  readonly allowed: boolean;
  /** When refused: whole seconds until one request would be allowed (at least 1). */
  readonly retryAfterSeconds: number;
}

export interface RateLimiter {
  take(key: string): RateLimitDecision;
  /** Buckets held (for tests and metrics). */
  readonly size: number;
}

export interface RateLimiterOptions {
  readonly perMinute: number;
  readonly burst: number;
  /** Bound on remembered keys; the least recently used go first (a full bucket loses nothing). */
  readonly maxKeys?: number;
  /** Milliseconds from any origin; default a monotonic clock. */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createRateLimiter(opts: RateLimiterOptions): RateLimiter {
  // Monotonic: a wall clock stepped back (NTP) must not refill anybody's bucket.
  const now = opts.now ?? (() => performance.now());
  const perMs = opts.perMinute / 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const buckets = new Map<string, Bucket>();
  return {
    get size() {
      return buckets.size;
    },
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: opts.burst, at: t };
      b.tokens = Math.min(opts.burst, b.tokens + Math.max(0, t - b.at) * perMs);
      b.at = t;
      // Re-insert: Map order is recency, so eviction takes the least recently seen key.
      buckets.delete(key);
      buckets.set(key, b);
      if (buckets.size > maxKeys) {
        const oldest = buckets.keys().next();
        if (oldest.done !== true) buckets.delete(oldest.value);
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true, retryAfterSeconds: 0 };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000)) };
    },
  };
}
