import type { Redis } from 'ioredis';
import { createBreaker, type BreakerState, type CircuitBreaker } from './breaker.ts';
import type { CacheLogger } from './logger.ts';
import type { TierCounters } from './metrics.ts';

/** Returned instead of a result when Redis was not asked, failed or timed out: the caller computes. */
export const UNAVAILABLE: unique symbol = Symbol('l2-unavailable');
export type Unavailable = typeof UNAVAILABLE;

export interface L2TierOptions {
  readonly redis: Redis;
  /** Prepended to every key, e.g. `eta:`; the cache name and `:` follow, so caches never collide. */
  readonly keyPrefix: string;
  /** Upper bound on any one L2 call; past it the request goes on without Redis. Keep it short (tens of ms). */
  readonly timeoutMs: number;
  readonly breaker: { readonly failureThreshold: number; readonly resetAfterMs: number };
}

export interface L2Write {
  readonly key: string;
  readonly payload: string;
  readonly ttlMs: number;
}

class L2Timeout extends Error {
  constructor(op: string, ms: number) {
    super(`L2 ${op} took longer than ${ms}ms`);
    this.name = 'L2Timeout';
  }
}

/**
 * Redis behind a timeout and a circuit breaker. No method throws: every failure is counted, logged at a
 * rate the breaker bounds, and reported as UNAVAILABLE, because a cache outage must never fail a request
 * that can be computed.
 */
export class L2Tier {
  readonly redis: Redis;
  readonly breaker: CircuitBreaker;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #counters: TierCounters;
  readonly #log: CacheLogger;
  readonly #cache: string;

  constructor(
    opts: L2TierOptions,
    ctx: {
      cache: string;
      counters: TierCounters;
      log: CacheLogger;
      now: () => number;
      onBreakerChange: (to: BreakerState) => void;
    },
  ) {
    this.redis = opts.redis;
    this.#prefix = `${opts.keyPrefix}${ctx.cache}:`;
    this.#timeoutMs = opts.timeoutMs;
    this.#counters = ctx.counters;
    this.#log = ctx.log;
    this.#cache = ctx.cache;
    this.breaker = createBreaker({
      failureThreshold: opts.breaker.failureThreshold,
      resetAfterMs: opts.breaker.resetAfterMs,
      now: ctx.now,
      onStateChange: (to, from) => {
        const fields = { cache: ctx.cache, from, to };
        // A failed background probe re-opens it (half-open -> open): that is not news worth a warning.
        if (to === 'open' && from === 'closed') {
          this.#log.warn(fields, 'cache L2 breaker opened: serving from L1 and compute');
        } else {
          this.#log.info(fields, 'cache L2 breaker state changed');
        }
        ctx.onBreakerChange(to);
      },
      // Redis coming back is found by a PING in the background (backoff with jitter, one at a time), so
      // the breaker state and its metric follow Redis, and the first lookup after it is back uses L2
      // instead of being the one that finds out. Refused at once while ioredis is not connected.
      probe: {
        check: () => this.redis.ping(),
        timeoutMs: opts.timeoutMs,
      },
    });
  }

  key(key: string): string {
    return this.#prefix + key;
  }

  get(key: string): Promise<string | null | Unavailable> {
    return this.#guard('get', () => this.redis.get(this.#prefix + key));
  }

  /** One MGET for all keys: the batch path's single round trip. */
  mget(keys: readonly string[]): Promise<(string | null)[] | Unavailable> {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#guard('mget', () => this.redis.mget(keys.map((k) => this.#prefix + k)));
  }

  /** Writes all entries in one pipeline (one round trip); a failed entry is counted, the rest stand. */
  setMany(writes: readonly L2Write[]): Promise<void | Unavailable> {
    if (writes.length === 0) return Promise.resolve();
    return this.#guard('set', async () => {
      const pipeline = this.redis.pipeline();
      for (const w of writes) pipeline.set(this.#prefix + w.key, w.payload, 'PX', Math.max(1, w.ttlMs));
      const results = (await pipeline.exec()) ?? [];
      const failed = results.filter(([err]) => err !== null);
      // exec() resolves even when every command in it timed out or lost its connection; that is a
      // transport failure the breaker must see, not a partial success that would reset it.
      const transport = failed.find(([err]) => err?.name !== 'ReplyError');
      if (transport !== undefined) throw transport[0];
      if (failed.length > 0) {
        this.#counters.errors += failed.length;
        this.#log.warn(
          { cache: this.#cache, failed: failed.length, err: failed[0]?.[0] },
          'cache L2 write failed',
        );
      }
    });
  }

  del(keys: readonly string[]): Promise<number | Unavailable> {
    if (keys.length === 0) return Promise.resolve(0);
    return this.#guard('del', () => this.redis.del(...keys.map((k) => this.#prefix + k)));
  }

  /** Publishes on `client` (a subscriber connection cannot publish) under the same timeout and breaker. */
  publish(client: Redis, channel: string, message: string): Promise<number | Unavailable> {
    return this.#guard('publish', () => client.publish(channel, message), client);
  }

  async #guard<T>(op: string, call: () => Promise<T>, client: Redis = this.redis): Promise<T | Unavailable> {
    // ioredis knows when its socket is down; asking it then would only queue or fail, so skip at no cost.
    // A lazy client is connected here on first use instead of being skipped forever.
    if (client.status !== 'ready') {
      if (client.status === 'wait') client.connect().catch(() => undefined);
      this.#counters.bypassed += 1;
      return UNAVAILABLE;
    }
    if (!this.breaker.tryAcquire()) {
      this.#counters.bypassed += 1;
      return UNAVAILABLE;
    }
    let timer: NodeJS.Timeout | undefined;
    const pending = call();
    try {
      const result = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new L2Timeout(op, this.#timeoutMs)), this.#timeoutMs);
        }),
      ]);
      this.breaker.success();
      return result;
    } catch (err) {
      // A reply error means Redis is up and answered; only transport trouble should trip the breaker.
      const isReply = err instanceof Error && err.name === 'ReplyError';
      if (isReply) this.breaker.success();
      else this.breaker.failure();
      const timedOut =
        err instanceof L2Timeout || (err instanceof Error && err.message === 'Command timed out');
      if (timedOut) this.#counters.timeouts += 1;
      else this.#counters.errors += 1;
      // No per-request flood during an outage: once the breaker opens, no call gets here until a
      // background PING has found Redis back.
      this.#log.warn(
        { cache: this.#cache, op, err },
        timedOut ? 'cache L2 call timed out' : 'cache L2 call failed',
      );
      return UNAVAILABLE;
    } finally {
      clearTimeout(timer);
      // The abandoned call may still reject later (e.g. on disconnect); that is already accounted for.
      pending.catch(() => undefined);
    }
  }
}
