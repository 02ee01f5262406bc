import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Registry } from 'prom-client';
import { jsonCodec, type Codec } from './codec.ts';
import {
  computeExpiry,
  decodeEnvelope,
  encodeEnvelope,
  freshness,
  type Expiry,
  type ExpiryPolicy,
} from './expiry.ts';
import { L2Tier, UNAVAILABLE, type L2TierOptions, type L2Write } from './l2.ts';
import { silentLogger, type CacheLogger } from './logger.ts';
import { attachMetrics, newCounters, type CacheStats } from './metrics.ts';

export interface L1Options<V> {
  /** Upper bound on entries. */
  readonly maxEntries: number;
  /** Upper bound on the sum of sizeOf over entries; an entry larger than this is not kept in L1. */
  readonly maxBytes: number;
  /**
   * Size of one entry in bytes. Default: UTF-8 length of the encoded value, i.e. a budget on payload,
   * not an exact heap measurement (V8 objects take a small multiple of their JSON size).
   */
  readonly sizeOf?: (value: V, key: string) => number;
}

export interface InvalidationOptions {
  /** A connection dedicated to SUBSCRIBE (Redis allows nothing else on it). */
  readonly subscriber: Redis;
  /** Where deletes are published; defaults to the L2 client. */
  readonly publisher?: Redis;
  /** Defaults to `<keyPrefix><name>:invalidate`, so caches and test files do not hear each other. */
  readonly channel?: string;
}

export interface TieredCacheOptions<V> {
  /** Names the cache in metrics, logs, Redis keys and the invalidation channel; unique per registry. */
  readonly name: string;
  /** Freshness of a computed value. */
  readonly ttlMs: number;
  /** 0..1, default 0.1: each TTL is shortened by up to this fraction so co-written keys expire apart. */
  readonly jitter?: number;
  /** Grace after the TTL during which the stale value is served while one background refresh runs. Default 0. */
  readonly staleMs?: number;
  readonly l1: L1Options<V>;
  /** Absent: L1 only (the embedded default for local runs and tests). */
  readonly l2?: L2TierOptions | undefined;
  /** Cross-process L1 invalidation over Redis pub/sub; needs l2. */
  readonly invalidation?: InvalidationOptions | undefined;
  readonly codec?: Codec<V>;
  /** Where the cache_* metrics are exposed; without one they are kept in a private registry. */
  readonly registry?: Registry;
  readonly log?: CacheLogger;
  /** Wall clock in ms (injectable for tests); must agree across processes since expiry is stored in Redis. */
  readonly now?: () => number;
  /** Injectable randomness for the jitter. */
  readonly random?: () => number;
  /**
   * How long close() waits for background refreshes and write-backs (default 5s). A refresh runs the
   * caller's compute, which may hang; shutdown must not hang with it.
   */
  readonly closeTimeoutMs?: number;
  /** Runs last in close(), e.g. to quit Redis connections the caller created for this cache only. */
  readonly onClose?: () => Promise<void> | void;
}

export type Compute<V> = (key: string) => Promise<V> | V;
/** Returns values for the keys it could produce; keys missing from the map are "not found" and not cached. */
export type ComputeMany<V> = (
  keys: readonly string[],
) => Promise<ReadonlyMap<string, V>> | ReadonlyMap<string, V>;

export interface DeleteResult {
  /**
   * The keys were removed from Redis. False when there is no L2 or Redis was unavailable: then other
   * processes may keep reading the old value until its TTL (plus grace) ends.
   */
  readonly l2: boolean;
  /** Other processes were told to drop them from their L1. */
  readonly published: boolean;
}

export interface TieredCache<V> {
  readonly name: string;
  /** Get-or-compute. Concurrent misses on one key in this process share one compute. */
  get(key: string, compute: Compute<V>): Promise<V>;
  /**
   * Batch get-or-compute: L1 first, then ONE Redis MGET for the L1 misses, then ONE computeMissing call
   * for what is still missing, written back to Redis in one pipeline. Result holds found keys only.
   */
  getMany(keys: readonly string[], computeMissing: ComputeMany<V>): Promise<Map<string, V>>;
  /** Writes a value through both tiers and tells other processes to drop their L1 copy. */
  set(key: string, value: V): Promise<void>;
  delete(key: string): Promise<DeleteResult>;
  deleteMany(keys: readonly string[]): Promise<DeleteResult>;
  /** Resolves once subscribed to the invalidation channel (immediately without one). For readiness. */
  ready(): Promise<void>;
  /** Resolves when background work (refreshes, write-backs) started so far has finished. */
  settled(): Promise<void>;
  stats(): CacheStats;
  /** Stops invalidation, waits for background work (bounded by the L2 timeout) and releases L1. */
  close(): Promise<void>;
}

/**
 * One L1 entry. An L1 holds up to hundreds of thousands of them and under miss-heavy traffic each is
 * promoted to old space and evicted again, so its size is Mark-Compact work. Hence one object with two
 * fields: staleUntil is not stored, as it is always freshUntil + policy.staleMs, and freshUntil is stored
 * as milliseconds after the cache's `epoch`, a small integer that V8 keeps inside the object (a Smi) where
 * an epoch timestamp (~1.8e12) is a separate 16-byte heap number (see `smi`).
 */
interface L1Entry<V> {
  readonly value: V;
  /** freshUntil - epoch. */
  readonly freshFor: number;
}

type Outcome<V> = { readonly found: true; readonly value: V } | { readonly found: false };

interface Load<V> {
  promise: Promise<Outcome<V>>;
  /** Set when the key is deleted mid-load: the result still answers its callers but is not cached. */
  cancelled: boolean;
}

const NOT_FOUND: Outcome<never> = { found: false };

/** See `loads` in createTieredCache. */
const REBUILD_LOADS_AFTER = 1024;

/**
 * `n` itself, as a Smi when it is an int32. V8 does not turn the integral result of double arithmetic into
 * a Smi by itself (`Date.now() + ttl - epoch` stays a boxed double), and `| 0` does; a value outside int32
 * (an uptime of weeks) or with a fraction (a test clock) is returned as is, only boxed.
 */
const smi = (n: number): number => (n === (n | 0) ? n | 0 : n);

/** Settles when `work` does or after `ms`, whichever is first; never rejects. */
async function raceTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`createTieredCache: ${message}`);
}

export function createTieredCache<V>(opts: TieredCacheOptions<V>): TieredCache<V> {
  const { name } = opts;
  check(name.length > 0, 'name is required');
  check(
    Number.isInteger(opts.l1.maxEntries) && opts.l1.maxEntries >= 1,
    'l1.maxEntries must be an integer >= 1',
  );
  check(Number.isInteger(opts.l1.maxBytes) && opts.l1.maxBytes >= 1, 'l1.maxBytes must be an integer >= 1');
  check(opts.ttlMs >= 1, 'ttlMs must be >= 1');
  const policy: ExpiryPolicy = { ttlMs: opts.ttlMs, jitter: opts.jitter ?? 0.1, staleMs: opts.staleMs ?? 0 };
  check(policy.jitter >= 0 && policy.jitter <= 1, 'jitter must be within 0..1');
  check(policy.staleMs >= 0, 'staleMs must be >= 0');
  if (opts.l2 !== undefined) check(opts.l2.timeoutMs >= 1, 'l2.timeoutMs must be >= 1');
  check(opts.invalidation === undefined || opts.l2 !== undefined, 'invalidation needs l2');

  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const codec = opts.codec ?? jsonCodec<V>();
  const log = opts.log ?? silentLogger;
  const sizeOf = opts.l1.sizeOf;
  const instanceId = randomUUID();

  const l1Counters = newCounters();
  const l2Counters = newCounters();
  const computeStats = { calls: 0, errors: 0 };

  const l1 = new LRUCache<string, L1Entry<V>>({ max: opts.l1.maxEntries, maxSize: opts.l1.maxBytes });
  const epoch = now();
  const l2 =
    opts.l2 === undefined
      ? undefined
      : new L2Tier(opts.l2, {
          cache: name,
          counters: l2Counters,
          log,
          now,
          onBreakerChange: () => undefined,
        });

  /**
   * Loads in flight by key, for joining. Entries come and go with every miss, so V8 rehashes the map's table
   * over and over, and it allocates each new table in the generation of the one it replaces: once a
   * Mark-Compact has promoted the table (it promotes whatever young object is alive), every later rehash is
   * old-space garbage, and each dropped table keeps the loads it pointed to alive until the next Mark-Compact.
   * So the map is rebuilt, young, after every REBUILD_LOADS_AFTER deletes, or as many as it has entries if
   * that is more: at most one copied entry per delete.
   */
  let loads = new Map<string, Load<V>>();
  let deletes = 0;
  const forget = (key: string): void => {
    loads.delete(key);
    deletes += 1;
    if (deletes >= REBUILD_LOADS_AFTER && deletes >= loads.size) {
      deletes = 0;
      loads = new Map(loads);
    }
  };
  const background = new Set<Promise<unknown>>();
  let closed = false;

  const stats = (): CacheStats => ({
    l1: { hits: l1Counters.hits, misses: l1Counters.misses, stale: l1Counters.stale },
    l2: { ...l2Counters },
    compute: { ...computeStats },
    breaker: l2?.breaker.state ?? 'closed',
    l1Entries: l1.size,
    l1Bytes: l1.calculatedSize,
  });
  const detachMetrics = attachMetrics(opts.registry ?? new Registry(), { name, stats });

  const track = (work: Promise<unknown>): void => {
    const tracked = work.then(
      () => undefined,
      (err: unknown) => log.warn({ cache: name, err }, 'cache background work failed'),
    );
    background.add(tracked);
    void tracked.finally(() => background.delete(tracked));
  };

  const assertOpen = (): void => {
    if (closed) throw new Error(`cache "${name}" is closed`);
  };

  /** Stores in L1; `encoded` is reused for sizing when the value was (or will be) encoded anyway. */
  const storeL1 = (key: string, value: V, expiry: Expiry, encoded: string | undefined): void => {
    const raw = sizeOf !== undefined ? sizeOf(value, key) : Buffer.byteLength(encoded ?? codec.encode(value));
    // lru-cache refuses (and evicts any old copy of) an entry above maxSize, which is the bound we want.
    l1.set(key, { value, freshFor: smi(expiry.freshUntil - epoch) }, { size: Math.max(1, Math.ceil(raw)) });
  };

  interface Decoded {
    readonly value: V;
    readonly expiry: Expiry;
    readonly encoded: string;
  }

  const decodeL2 = (key: string, payload: string): Decoded | undefined => {
    const envelope = decodeEnvelope(payload);
    if (envelope !== undefined) {
      try {
        const value = codec.decode(envelope.encoded);
        const expiry = { freshUntil: envelope.freshUntil, staleUntil: envelope.freshUntil + policy.staleMs };
        return { value, expiry, encoded: envelope.encoded };
      } catch (err) {
        log.warn({ cache: name, key, err }, 'cache L2 value could not be decoded; recomputing');
      }
    }
    // Undecodable data (an old format, a foreign writer) is a miss, and counted: it is not Redis' fault.
    l2Counters.errors += 1;
    return undefined;
  };

  /** Outcome of reading one L2 payload: a usable value (and whether it is stale), or nothing. */
  const readL2Payload = (
    key: string,
    payload: string | null,
    acceptStale: boolean,
    load: Load<V>,
  ): { value: V; stale: boolean } | undefined => {
    const hit = payload === null ? undefined : decodeL2(key, payload);
    if (hit !== undefined) {
      const state = freshness(hit.expiry, now());
      if (state === 'fresh' || (state === 'stale' && acceptStale)) {
        if (state === 'fresh') l2Counters.hits += 1;
        else l2Counters.stale += 1;
        if (!load.cancelled) storeL1(key, hit.value, hit.expiry, hit.encoded);
        return { value: hit.value, stale: state === 'stale' };
      }
    }
    l2Counters.misses += 1;
    return undefined;
  };

  interface Computed {
    readonly key: string;
    readonly value: V;
  }

  /** Caches freshly computed values in L1 and writes them to L2 in one pipeline, without delaying the caller. */
  const storeComputed = (computed: readonly Computed[]): void => {
    const writes: L2Write[] = [];
    const at = now();
    for (const { key, value } of computed) {
      const expiry = computeExpiry(policy, at, random);
      const encoded = l2 !== undefined || sizeOf === undefined ? codec.encode(value) : undefined;
      storeL1(key, value, expiry, encoded);
      if (l2 !== undefined && encoded !== undefined) {
        writes.push({
          key,
          payload: encodeEnvelope(expiry.freshUntil, encoded),
          ttlMs: expiry.staleUntil - at,
        });
      }
    }
    if (l2 !== undefined && writes.length > 0) track(l2.setMany(writes));
  };

  /** Registers a load so that concurrent callers (single or batch) join it instead of starting their own. */
  const register = (key: string, load: Load<V>): void => {
    loads.set(key, load);
    // Callers await the promise; this branch only keeps a rejection nobody awaited from going unhandled.
    load.promise.catch(() => undefined);
    void load.promise
      .finally(() => {
        if (loads.get(key) === load) forget(key);
      })
      .catch(() => undefined);
  };

  const startLoad = (key: string, compute: Compute<V>, acceptStale: boolean): Load<V> => {
    const load: Load<V> = { promise: Promise.resolve(NOT_FOUND), cancelled: false };
    load.promise = (async (): Promise<Outcome<V>> => {
      // Let register() run before any await resolves, so the load is visible to concurrent callers.
      await undefined;
      if (l2 !== undefined) {
        const payload = await l2.get(key);
        if (payload !== UNAVAILABLE) {
          const hit = readL2Payload(key, payload, acceptStale, load);
          if (hit !== undefined) {
            if (hit.stale) afterLoad(load, () => refreshOne(key, compute));
            return { found: true, value: hit.value };
          }
        }
      }
      computeStats.calls += 1;
      let value: V;
      try {
        value = await compute(key);
      } catch (err) {
        computeStats.errors += 1;
        throw err;
      }
      if (!load.cancelled) storeComputed([{ key, value }]);
      return { found: true, value };
    })();
    register(key, load);
    return load;
  };

  /** Runs `then` once `load` has left the map, so a refresh it starts is not mistaken for a duplicate. */
  const afterLoad = (load: Load<V>, then: () => void): void => {
    void load.promise.then(
      () => queueMicrotask(then),
      () => undefined,
    );
  };

  /** One background refresh per key; callers keep getting the stale value until it lands. */
  const refreshOne = (key: string, compute: Compute<V>): void => {
    if (closed || loads.has(key)) return;
    // acceptStale=false: another process may have refreshed Redis already, but a stale copy there is no help.
    track(startLoad(key, compute, false).promise);
  };

  const refreshMany = (keys: readonly string[], computeMissing: ComputeMany<V>): void => {
    const idle = closed ? [] : keys.filter((k) => !loads.has(k));
    if (idle.length > 0) track(startBatch(idle, computeMissing, false));
  };

  /**
   * Loads `keys` (none of them in flight) as one batch: one MGET, one computeMissing, one write pipeline.
   * Each key gets its own registered load so single gets and other batches can join it.
   */
  const startBatch = (
    keys: readonly string[],
    computeMissing: ComputeMany<V>,
    acceptStale: boolean,
  ): Promise<Map<string, Outcome<V>>> => {
    const perKey = new Map<string, Load<V>>();
    let resolveBatch!: (m: Map<string, Outcome<V>>) => void;
    let rejectBatch!: (err: unknown) => void;
    const batch = new Promise<Map<string, Outcome<V>>>((resolve, reject) => {
      resolveBatch = resolve;
      rejectBatch = reject;
    });
    for (const key of keys) {
      const load: Load<V> = { promise: batch.then((m) => m.get(key) ?? NOT_FOUND), cancelled: false };
      perKey.set(key, load);
      register(key, load);
    }
    const run = async (): Promise<Map<string, Outcome<V>>> => {
      const out = new Map<string, Outcome<V>>();
      let remaining: readonly string[] = keys;
      const stale: string[] = [];
      if (l2 !== undefined) {
        const payloads = await l2.mget(keys);
        if (payloads !== UNAVAILABLE) {
          const misses: string[] = [];
          keys.forEach((key, i) => {
            const hit = readL2Payload(key, payloads[i] ?? null, acceptStale, perKey.get(key)!);
            if (hit === undefined) misses.push(key);
            else {
              out.set(key, { found: true, value: hit.value });
              if (hit.stale) stale.push(key);
            }
          });
          remaining = misses;
        }
      }
      if (remaining.length > 0) {
        computeStats.calls += 1;
        let computed: ReadonlyMap<string, V>;
        try {
          computed = await computeMissing(remaining);
        } catch (err) {
          computeStats.errors += 1;
          throw err;
        }
        const toStore: Computed[] = [];
        for (const key of remaining) {
          const value = computed.get(key);
          if (value === undefined) continue;
          out.set(key, { found: true, value });
          if (!perKey.get(key)!.cancelled) toStore.push({ key, value });
        }
        storeComputed(toStore);
      }
      if (stale.length > 0) {
        const staleLoads = stale.map((k) => perKey.get(k)!);
        void Promise.allSettled(staleLoads.map((l) => l.promise)).then(() =>
          queueMicrotask(() => refreshMany(stale, computeMissing)),
        );
      }
      return out;
    };
    run().then(resolveBatch, rejectBatch);
    return batch;
  };

  const loadOne = async (key: string, compute: Compute<V>): Promise<V> => {
    const joined = loads.get(key);
    if (joined !== undefined) {
      const outcome = await joined.promise;
      if (outcome.found) return outcome.value;
      // Joined a batch whose computeMissing did not return this key; this caller has its own compute.
    }
    const outcome = await (loads.get(key) ?? startLoad(key, compute, policy.staleMs > 0)).promise;
    if (outcome.found) return outcome.value;
    return compute(key);
  };

  const dropLocal = (keys: readonly string[]): void => {
    for (const key of keys) {
      l1.delete(key);
      const load = loads.get(key);
      if (load !== undefined) {
        // Later callers must not join a load that began before the delete.
        load.cancelled = true;
        forget(key);
      }
    }
  };

  // Cross-process invalidation.
  const inv = opts.invalidation;
  const channel =
    inv === undefined ? undefined : (inv.channel ?? `${opts.l2?.keyPrefix ?? ''}${name}:invalidate`);
  const publisher = inv?.publisher ?? opts.l2?.redis;
  let subscribed: Promise<void> = Promise.resolve();
  let onMessage: ((ch: string, message: string) => void) | undefined;
  let onReady: (() => void) | undefined;

  if (inv !== undefined && channel !== undefined) {
    onMessage = (ch, message) => {
      if (ch !== channel) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        parsed = undefined;
      }
      const msg = parsed as { o?: unknown; k?: unknown } | undefined;
      if (msg === undefined || typeof msg.o !== 'string' || !Array.isArray(msg.k)) {
        log.warn({ cache: name, channel }, 'cache ignored a malformed invalidation message');
        return;
      }
      if (msg.o === instanceId) return;
      dropLocal(msg.k.filter((k): k is string => typeof k === 'string'));
    };
    // Invalidations published while the subscriber was disconnected are lost for good (pub/sub keeps
    // nothing), so after a reconnect every L1 entry is suspect: drop them all and re-read from L2.
    let connectedBefore = inv.subscriber.status === 'ready';
    onReady = () => {
      if (connectedBefore) {
        log.info({ cache: name, dropped: l1.size }, 'cache invalidation reconnected; cleared L1');
        l1.clear();
      }
      connectedBefore = true;
    };
    inv.subscriber.on('message', onMessage);
    inv.subscriber.on('ready', onReady);
    subscribed = inv.subscriber.subscribe(channel).then(
      () => undefined,
      (err: unknown) => {
        log.error({ cache: name, channel, err }, 'cache could not subscribe to invalidations');
        throw err;
      },
    );
    subscribed.catch(() => undefined);
  }

  const deleteMany = async (keys: readonly string[]): Promise<DeleteResult> => {
    assertOpen();
    const unique = [...new Set(keys)];
    dropLocal(unique);
    if (unique.length === 0) return { l2: true, published: true };
    if (l2 === undefined) return { l2: false, published: false };
    // Redis first, then the broadcast: a peer that re-reads on the message must not find the old value.
    const deleted = (await l2.del(unique)) !== UNAVAILABLE;
    let published = false;
    if (channel !== undefined && publisher !== undefined) {
      published =
        (await l2.publish(publisher, channel, JSON.stringify({ o: instanceId, k: unique }))) !== UNAVAILABLE;
    }
    return { l2: deleted, published };
  };

  return {
    name,

    async get(key, compute) {
      assertOpen();
      const entry = l1.get(key);
      if (entry !== undefined) {
        const at = now() - epoch;
        if (at < entry.freshFor) {
          l1Counters.hits += 1;
          return entry.value;
        }
        if (at < entry.freshFor + policy.staleMs) {
          l1Counters.stale += 1;
          refreshOne(key, compute);
          return entry.value;
        }
        l1.delete(key);
      }
      l1Counters.misses += 1;
      return loadOne(key, compute);
    },

    async getMany(keys, computeMissing) {
      assertOpen();
      const unique = [...new Set(keys)];
      const found = new Map<string, V>();
      const joined: [string, Promise<Outcome<V>>][] = [];
      const fetch: string[] = [];
      const stale: string[] = [];
      const at = now() - epoch;
      for (const key of unique) {
        const entry = l1.get(key);
        if (entry !== undefined) {
          if (at < entry.freshFor) {
            l1Counters.hits += 1;
            found.set(key, entry.value);
            continue;
          }
          if (at < entry.freshFor + policy.staleMs) {
            l1Counters.stale += 1;
            found.set(key, entry.value);
            stale.push(key);
            continue;
          }
          l1.delete(key);
        }
        l1Counters.misses += 1;
        const load = loads.get(key);
        if (load !== undefined) joined.push([key, load.promise]);
        else fetch.push(key);
      }
      if (stale.length > 0) refreshMany(stale, computeMissing);
      // All answered from L1: skip the promise plumbing below (the common case for a warm cache).
      if (fetch.length === 0 && joined.length === 0) return found;
      const batch = fetch.length > 0 ? startBatch(fetch, computeMissing, policy.staleMs > 0) : undefined;
      const [batchOut, joinedOut] = await Promise.all([
        batch,
        Promise.all(joined.map(async ([key, p]) => [key, await p] as const)),
      ]);
      for (const [key, outcome] of joinedOut) if (outcome.found) found.set(key, outcome.value);
      const unresolved = joinedOut.filter(([, o]) => !o.found).map(([k]) => k);
      if (unresolved.length > 0) {
        // Joined single-key loads never end not-found, but joined batches may (their computeMissing
        // skipped the key); give this caller's computeMissing its own chance, in one call.
        computeStats.calls += 1;
        const extra = await computeMissing(unresolved);
        for (const key of unresolved) {
          const value = extra.get(key);
          if (value !== undefined) found.set(key, value);
        }
      }
      // Input order, found keys only.
      const result = new Map<string, V>();
      for (const key of unique) {
        const outcome = batchOut?.get(key);
        if (outcome?.found === true) result.set(key, outcome.value);
        else {
          const value = found.get(key);
          if (value !== undefined) result.set(key, value);
        }
      }
      return result;
    },

    async set(key, value) {
      assertOpen();
      dropLocal([key]);
      const at = now();
      const expiry = computeExpiry(policy, at, random);
      const encoded = l2 !== undefined || sizeOf === undefined ? codec.encode(value) : undefined;
      storeL1(key, value, expiry, encoded);
      if (l2 === undefined || encoded === undefined) return;
      await l2.setMany([
        { key, payload: encodeEnvelope(expiry.freshUntil, encoded), ttlMs: expiry.staleUntil - at },
      ]);
      if (channel !== undefined && publisher !== undefined) {
        await l2.publish(publisher, channel, JSON.stringify({ o: instanceId, k: [key] }));
      }
    },

    delete: (key) => deleteMany([key]),
    deleteMany,

    ready: () => subscribed,

    async settled() {
      while (background.size > 0) await Promise.allSettled([...background]);
    },

    stats,

    async close() {
      if (closed) return;
      closed = true;
      l2?.breaker.stop();
      if (inv !== undefined && channel !== undefined) {
        if (onMessage !== undefined) inv.subscriber.off('message', onMessage);
        if (onReady !== undefined) inv.subscriber.off('ready', onReady);
        if (inv.subscriber.status === 'ready') {
          // A hung Redis must not hang shutdown; the connection's owner closes it anyway.
          await raceTimeout(inv.subscriber.unsubscribe(channel), opts.l2?.timeoutMs ?? 1000);
        }
      }
      const drained = (async () => {
        while (background.size > 0) await Promise.allSettled([...background]);
      })();
      await raceTimeout(drained, opts.closeTimeoutMs ?? 5_000);
      if (background.size > 0) {
        log.warn(
          { cache: name, pending: background.size },
          'cache closed with background work still running',
        );
      }
      detachMetrics();
      l1.clear();
      await opts.onClose?.();
    },
  };
}
