import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createTieredCache, type TieredCacheOptions } from '../src/index.ts';

/** A controllable wall clock: TTL behaviour is tested by moving time, never by waiting for it. */
const clock = (start = 1_000_000) => {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

const l1Only = <V>(overrides: Partial<TieredCacheOptions<V>> = {}) =>
  createTieredCache<V>({
    name: 'unit',
    ttlMs: 1_000,
    jitter: 0,
    l1: { maxEntries: 1_000, maxBytes: 1_000_000 },
    ...overrides,
  });

describe('L1-only mode', () => {
  it('computes on a miss and answers from L1 afterwards', async () => {
    const cache = l1Only<{ eta: number }>();
    let calls = 0;
    const compute = (key: string) => ({ eta: key.length + ++calls });
    expect(await cache.get('store:1', compute)).toEqual({ eta: 8 });
    expect(await cache.get('store:1', compute)).toEqual({ eta: 8 });
    expect(calls).toBe(1);
    expect(cache.stats().l1).toEqual({ hits: 1, misses: 1, stale: 0 });
    expect(cache.stats().compute).toEqual({ calls: 1, errors: 0 });
    await cache.close();
  });

  it('coalesces a burst of identical misses into one compute', async () => {
    const cache = l1Only<number>();
    const gate = deferred<number>();
    let calls = 0;
    const compute = () => {
      calls += 1;
      return gate.promise;
    };
    const burst = Array.from({ length: 100 }, () => cache.get('k', compute));
    gate.resolve(7);
    expect(await Promise.all(burst)).toEqual(Array(100).fill(7));
    expect(calls).toBe(1);
    await cache.close();
  });

  it('hands a compute failure to every waiter and does not cache it', async () => {
    const cache = l1Only<number>();
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('model down');
    };
    const results = await Promise.allSettled([cache.get('k', failing), cache.get('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    expect(await cache.get('k', () => 5)).toBe(5);
    expect(cache.stats().compute.errors).toBe(1);
    await cache.close();
  });

  it('getMany answers L1 hits and calls computeMissing once with only the misses', async () => {
    const cache = l1Only<string>();
    await cache.get('a', () => 'A');
    const asked: (readonly string[])[] = [];
    const result = await cache.getMany(['a', 'b', 'c', 'b', 'x'], (keys) => {
      asked.push(keys);
      // 'x' is unknown: absent from the result and not cached.
      return new Map(keys.filter((k) => k !== 'x').map((k) => [k, k.toUpperCase()]));
    });
    expect(asked).toEqual([['b', 'c', 'x']]);
    expect([...result]).toEqual([
      ['a', 'A'],
      ['b', 'B'],
      ['c', 'C'],
    ]);
    const again = await cache.getMany(['b', 'c'], () => {
      throw new Error('must not compute: both are cached');
    });
    expect([...again.values()]).toEqual(['B', 'C']);
    await cache.close();
  });

  it('a single get joins a batch already loading its key', async () => {
    const cache = l1Only<string>();
    const gate = deferred<Map<string, string>>();
    let batchCalls = 0;
    const many = cache.getMany(['a', 'b'], () => {
      batchCalls += 1;
      return gate.promise;
    });
    const single = cache.get('a', () => 'single');
    gate.resolve(
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    expect(await single).toBe('A');
    expect((await many).get('b')).toBe('B');
    expect(batchCalls).toBe(1);
    await cache.close();
  });

  it('delete removes the value so the next get recomputes; a load in flight is not cached afterwards', async () => {
    const cache = l1Only<number>();
    await cache.get('k', () => 1);
    expect(await cache.delete('k')).toEqual({ l2: false, published: false });
    expect(await cache.get('k', () => 2)).toBe(2);

    const gate = deferred<number>();
    const inFlight = cache.get('j', () => gate.promise);
    await cache.delete('j');
    gate.resolve(10);
    expect(await inFlight).toBe(10);
    expect(await cache.get('j', () => 11)).toBe(11);
    await cache.close();
  });

  it('refuses use after close', async () => {
    const cache = l1Only<number>();
    await cache.close();
    await expect(cache.get('k', () => 1)).rejects.toThrow(/closed/);
  });

  it('rejects nonsensical options at construction', () => {
    expect(() => l1Only({ jitter: 1.5 })).toThrow(/jitter/);
    expect(() => l1Only({ ttlMs: 0 })).toThrow(/ttlMs/);
    expect(() => l1Only({ l1: { maxEntries: 0, maxBytes: 10 } })).toThrow(/maxEntries/);
  });
});

describe('L1 bounds', () => {
  it('keeps the sum of entry sizes within maxBytes, evicting least recently used first', async () => {
    // Each value encodes to 102 bytes of JSON ('"' + 100 chars + '"').
    const cache = l1Only<string>({ l1: { maxEntries: 1_000, maxBytes: 1_000 } });
    const value = (c: string) => c.repeat(100);
    for (const k of 'abcdefghij') await cache.get(k, () => value(k));
    expect(cache.stats().l1Bytes).toBeLessThanOrEqual(1_000);
    expect(cache.stats().l1Entries).toBe(9);
    // 'a' was the oldest and went first.
    let recomputed = false;
    await cache.get('a', () => ((recomputed = true), value('a')));
    expect(recomputed).toBe(true);
    expect(cache.stats().l1Bytes).toBeLessThanOrEqual(1_000);
    await cache.close();
  });

  it('does not keep an entry larger than maxBytes, but still answers with it', async () => {
    const cache = l1Only<string>({ l1: { maxEntries: 10, maxBytes: 50 } });
    expect(await cache.get('big', () => 'x'.repeat(200))).toHaveLength(200);
    expect(cache.stats().l1Entries).toBe(0);
    await cache.close();
  });

  it('uses sizeOf when given', async () => {
    const cache = l1Only<number[]>({ l1: { maxEntries: 100, maxBytes: 100, sizeOf: (v) => v.length * 8 } });
    for (let i = 0; i < 5; i++) await cache.get(`k${i}`, () => [1, 2, 3, 4]);
    expect(cache.stats().l1Bytes).toBe(96);
    expect(cache.stats().l1Entries).toBe(3);
    await cache.close();
  });

  it('keeps at most maxEntries', async () => {
    const cache = l1Only<number>({ l1: { maxEntries: 3, maxBytes: 1_000_000 } });
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, () => i);
    expect(cache.stats().l1Entries).toBe(3);
    await cache.close();
  });
});

describe('TTL, jitter and stale-while-revalidate (injected clock)', () => {
  it('serves fresh until the TTL, then recomputes once the grace is over', async () => {
    const c = clock();
    const cache = l1Only<number>({ now: c.now, ttlMs: 1_000, staleMs: 0 });
    let n = 0;
    const compute = () => ++n;
    expect(await cache.get('k', compute)).toBe(1);
    c.advance(999);
    expect(await cache.get('k', compute)).toBe(1);
    c.advance(1);
    expect(await cache.get('k', compute)).toBe(2);
    await cache.close();
  });

  it('within the grace serves the stale value while exactly one refresh runs', async () => {
    const c = clock();
    const cache = l1Only<string>({ now: c.now, ttlMs: 1_000, staleMs: 5_000 });
    await cache.get('k', () => 'v1');
    c.advance(1_500);
    const gate = deferred<string>();
    let refreshes = 0;
    const refresh = () => {
      refreshes += 1;
      return gate.promise;
    };
    const during = await Promise.all(Array.from({ length: 20 }, () => cache.get('k', refresh)));
    expect(during).toEqual(Array(20).fill('v1'));
    expect(refreshes).toBe(1);
    expect(cache.stats().l1.stale).toBe(20);
    gate.resolve('v2');
    await cache.settled();
    expect(await cache.get('k', refresh)).toBe('v2');
    expect(refreshes).toBe(1);
    await cache.close();
  });

  it('a failed refresh keeps serving stale until the grace ends, then the error reaches the caller', async () => {
    const c = clock();
    const cache = l1Only<string>({ now: c.now, ttlMs: 1_000, staleMs: 2_000 });
    await cache.get('k', () => 'v1');
    c.advance(1_500);
    const failing = async (): Promise<string> => {
      throw new Error('upstream down');
    };
    expect(await cache.get('k', failing)).toBe('v1');
    await cache.settled();
    expect(await cache.get('k', failing)).toBe('v1');
    await cache.settled();
    // 1.5s + 1.5s = past freshUntil (1s) + grace (2s).
    c.advance(1_500);
    await expect(cache.get('k', failing)).rejects.toThrow('upstream down');
    await cache.close();
  });

  it('getMany refreshes its stale keys in one background batch', async () => {
    const c = clock();
    const cache = l1Only<string>({ now: c.now, ttlMs: 1_000, staleMs: 5_000 });
    await cache.getMany(['a', 'b'], (keys) => new Map(keys.map((k) => [k, `${k}1`])));
    c.advance(2_000);
    const batches: (readonly string[])[] = [];
    const compute = (keys: readonly string[]) => {
      batches.push(keys);
      return new Map(keys.map((k) => [k, `${k}2`]));
    };
    expect([...(await cache.getMany(['a', 'b', 'c'], compute)).values()]).toEqual(['a1', 'b1', 'c2']);
    await cache.settled();
    // Two compute calls in all: the foreground miss and one refresh for both stale keys.
    expect(batches).toHaveLength(2);
    expect(batches).toContainEqual(['c']);
    expect(batches).toContainEqual(['a', 'b']);
    expect([...(await cache.getMany(['a', 'b'], compute)).values()]).toEqual(['a2', 'b2']);
    await cache.close();
  });

  it('jitter makes keys computed at one instant expire at different instants', async () => {
    const c = clock();
    let seed = 7;
    const random = () => (seed = (seed * 16_807) % 2_147_483_647) / 2_147_483_647;
    const cache = l1Only<number>({ now: c.now, random, ttlMs: 10_000, jitter: 0.5, staleMs: 0 });
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    await cache.getMany(keys, (ks) => new Map(ks.map((k) => [k, 0])));
    c.advance(7_500);
    let recomputed = 0;
    await cache.getMany(keys, (ks) => {
      recomputed = ks.length;
      return new Map(ks.map((k) => [k, 1]));
    });
    // TTLs are spread over [5s, 10s]: at 7.5s roughly half expired; without jitter none or all would.
    expect(recomputed).toBeGreaterThan(40);
    expect(recomputed).toBeLessThan(160);
    await cache.close();
  });
});

describe('metrics', () => {
  it('exposes per-tier counters and the breaker state on the given registry', async () => {
    const registry = new Registry();
    const cache = l1Only<number>({ name: 'eta-by-store', registry });
    await cache.get('k', () => 1);
    await cache.get('k', () => 1);
    const text = await registry.metrics();
    expect(text).toContain('cache_hits_total{cache="eta-by-store",tier="l1"} 1');
    expect(text).toContain('cache_misses_total{cache="eta-by-store",tier="l1"} 1');
    expect(text).toContain('cache_computes_total{cache="eta-by-store"} 1');
    expect(text).toContain('cache_breaker_state{cache="eta-by-store"} 0');
    expect(text).toContain('cache_l1_entries{cache="eta-by-store"} 1');
    expect(() => l1Only<number>({ name: 'eta-by-store', registry })).toThrow(/already registered/);
    // Two caches share one registry, told apart by label.
    const other = l1Only<number>({ name: 'other', registry });
    await other.get('k', () => 1);
    expect(await registry.metrics()).toContain('cache_misses_total{cache="other",tier="l1"} 1');
    await cache.close();
    await other.close();
    expect(await registry.metrics()).not.toContain('cache="other"');
  });
});
