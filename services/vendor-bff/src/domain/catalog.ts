import type { CacheLogger, TieredCache } from '@eta/cache';
import type { CatalogRead, StoreCatalog, StoreView } from './stores.ts';

/**
 * The store catalogue behind the estimate path: StoreCatalog (stores.ts) read through the tiered cache, so
 * a request touches Postgres only on a miss, and then all misses of one call share ONE query.
 *
 * Three layers, each for a different failure:
 * - the tiered cache (L1 in process over Redis), TTL plus stale grace, invalidated across pods after a
 *   settings write;
 * - a negative cache for unknown ids (in process, short TTL), so a flood of made-up ids costs Postgres one
 *   query per id per TTL per pod instead of one per request;
 * - a last-known copy of every store this pod has served, kept without a TTL (bounded by count): when
 *   Postgres cannot be reached and neither L1 nor Redis still holds a store (past TTL + grace), its last
 *   known settings keep being served with `stale: true` instead of failing every estimate of that store.
 *
 * The database source batches its reads per event-loop turn (adapters/db/stores.ts): the misses and
 * background refreshes of every request handled in one turn go to Postgres (or embedded PGlite, which runs
 * on this very thread) as one `WHERE id = ANY($1)` query of up to 500 ids, instead of one per request. Entries
 * loaded together expire apart (the cache's TTL jitter), and one that expires is served stale while its
 * refresh rides along with the others of that turn, so a TTL never turns into a burst of single-row reads
 * on the request thread.
 *
 * Busy mode is evaluated at read time by the estimate path (domain/settings.ts activeBusy), from the stored
 * `busy.until`; a cached copy therefore never keeps a store busy past its end, however old the copy is.
 */

/** The catalog's read port (adapters/db/stores.ts implements it with one `WHERE id = ANY($1)` query). */
export interface StoreSource {
  /** Found stores by id; unknown ids absent. Throws when the database cannot answer. */
  loadMany(ids: readonly number[]): Promise<ReadonlyMap<number, StoreView>>;
}

export interface StoreCatalogOptions {
  readonly source: StoreSource;
  /** Build it with adapters/db createStoreViewCache (name "stores", the validating codec). */
  readonly cache: TieredCache<StoreView>;
  readonly log: CacheLogger;
  /** How long an unknown id is answered "absent" without asking Postgres. Default 5 s. */
  readonly negativeTtlMs?: number;
  /** Bound on remembered unknown ids (oldest dropped first). Default 100,000. */
  readonly negativeMaxEntries?: number;
  /** Bound on the last-known copies (oldest dropped first). Default 200,000 (Seoul has fewer stores). */
  readonly lastKnownMaxEntries?: number;
  /**
   * True when the cache has Redis (invalidations can reach other pods): then an invalidation that did not
   * reach them is logged. False for the embedded single-process mode. Default true.
   */
  readonly distributed?: boolean;
  /** Wall clock in ms, injectable for tests. */
  readonly now?: () => number;
  /**
   * Longest a read waits on the database when every store it asks for has a last-known copy; past it the
   * copies answer (`stale: true`) and the read goes on in the background to refill the cache. While the
   * last database read failed, it does not wait at all. A hung Postgres otherwise holds each such read for
   * its connect or query timeout (seconds), far past any estimate's budget. Default 100 ms.
   */
  readonly lastKnownAfterMs?: number;
}

export interface CatalogStats {
  readonly negativeEntries: number;
  readonly lastKnownEntries: number;
  /** False after the last Postgres read failed, until one succeeds. */
  readonly sourceHealthy: boolean;
  readonly sourceLoads: number;
  readonly sourceFailures: number;
  readonly servedLastKnown: number;
}

export interface ManagedStoreCatalog extends StoreCatalog {
  /** Resolves once the cache listens for cross-pod invalidations (a readiness check). */
  ready(): Promise<void>;
  stats(): CatalogStats;
  /** Closes the cache (which closes Redis connections it owns). */
  close(): Promise<void>;
}

/**
 * Postgres could not be reached and some requested store has no last known copy on this pod: whether it
 * exists is unknown, so answering "absent" (a 404) would be a lie. Maps to 503 UPSTREAM_ERROR.
 */
export class CatalogUnavailableError extends Error {
  readonly code = 'UPSTREAM_ERROR';
  readonly statusCode = 503;
  readonly storeIds: readonly number[];

  constructor(storeIds: readonly number[], cause: unknown) {
    super(`store catalogue unavailable (database unreachable) for ${storeIds.length} store(s)`, { cause });
    this.name = 'CatalogUnavailableError';
    this.storeIds = storeIds;
  }
}

/** Insertion-ordered map with a size bound: the oldest entry goes first when full. */
function boundedSet<V>(map: Map<number, V>, key: number, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
}

const validId = (id: number): boolean => Number.isSafeInteger(id) && id > 0;

const LATE = Symbol('late');
/** Loses a race to any promise that has settled already. */
const NOT_YET: Promise<typeof LATE> = Promise.resolve(LATE);

/** `reading` if it settles within `ms`, else LATE. */
async function soonerOrLate<T>(reading: Promise<T>, ms: number): Promise<T | typeof LATE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), ms);
  });
  try {
    return await Promise.race([reading, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function createStoreCatalog(opts: StoreCatalogOptions): ManagedStoreCatalog {
  const { source, cache, log } = opts;
  const now = opts.now ?? Date.now;
  const negativeTtlMs = opts.negativeTtlMs ?? 5_000;
  const negativeMax = opts.negativeMaxEntries ?? 100_000;
  const lastKnownMax = opts.lastKnownMaxEntries ?? 200_000;
  const distributed = opts.distributed ?? true;
  const lastKnownAfterMs = opts.lastKnownAfterMs ?? 100;

  /** id -> expiry (ms). */
  const negative = new Map<number, number>();
  const lastKnown = new Map<number, StoreView>();
  let sourceHealthy = true;
  let sourceLoads = 0;
  let sourceFailures = 0;
  let servedLastKnown = 0;

  const isKnownAbsent = (id: number, at: number): boolean => {
    const until = negative.get(id);
    if (until === undefined) return false;
    if (until > at) return true;
    negative.delete(id);
    return false;
  };

  const remember = (view: StoreView): void => {
    // Same object as last time (an L1 hit) is the common case: nothing to do.
    if (lastKnown.get(view.store.id) !== view) boundedSet(lastKnown, view.store.id, view, lastKnownMax);
  };

  const computeMissing = async (keys: readonly string[]): Promise<Map<string, StoreView>> => {
    const ids = keys.map(Number);
    sourceLoads += 1;
    let views: ReadonlyMap<number, StoreView>;
    try {
      views = await source.loadMany(ids);
    } catch (err) {
      sourceFailures += 1;
      // One log line per outage, not one per request.
      if (sourceHealthy)
        log.error({ err }, 'store catalogue: database read failed; serving last known copies');
      sourceHealthy = false;
      throw err;
    }
    if (!sourceHealthy) log.info({}, 'store catalogue: database reads work again');
    sourceHealthy = true;
    const out = new Map<string, StoreView>();
    const expires = now() + negativeTtlMs;
    for (const id of ids) {
      const view = views.get(id);
      if (view !== undefined) out.set(String(id), view);
      else {
        boundedSet(negative, id, expires, negativeMax);
        // A deleted store must not come back from the last-known copy in the next outage.
        lastKnown.delete(id);
      }
    }
    return out;
  };

  const fallback = (ids: readonly number[], err: unknown): CatalogRead => {
    const stores = new Map<number, StoreView>();
    const unknown: number[] = [];
    for (const id of ids) {
      const view = lastKnown.get(id);
      if (view !== undefined) stores.set(id, view);
      else unknown.push(id);
    }
    if (unknown.length > 0) throw new CatalogUnavailableError(unknown, err);
    servedLastKnown += 1;
    return { stores, stale: true };
  };

  const getMany = async (requested: readonly number[]): Promise<CatalogRead> => {
    const at = now();
    const ids: number[] = [];
    const seen = new Set<number>();
    for (const id of requested) {
      if (!validId(id) || seen.has(id)) continue;
      seen.add(id);
      if (!isKnownAbsent(id, at)) ids.push(id);
    }
    if (ids.length === 0) return { stores: new Map(), stale: false };
    let found: Map<string, StoreView>;
    const reading = cache.getMany(ids.map(String), computeMissing);
    try {
      // An L1 hit has settled already: no timer on the common path.
      let read = await Promise.race([reading, NOT_YET]);
      if (read === LATE && ids.every((id) => lastKnown.has(id))) {
        read = await soonerOrLate(reading, sourceHealthy ? lastKnownAfterMs : 0);
        if (read === LATE) {
          // The copies answer now; what the read brings later is remembered (its failure is counted).
          reading.then(
            (views) => {
              for (const view of views.values()) remember(view);
            },
            () => undefined,
          );
          return fallback(ids, new Error('the store database did not answer within the last-known wait'));
        }
      }
      found = read === LATE ? await reading : read;
    } catch (err) {
      return fallback(ids, err);
    }
    const stores = new Map<number, StoreView>();
    for (const view of found.values()) {
      stores.set(view.store.id, view);
      remember(view);
    }
    // While the last database read failed, what the cache serves may be past its TTL (its stale grace):
    // say so rather than pretend it is fresh.
    return { stores, stale: !sourceHealthy && stores.size > 0 };
  };

  return {
    async get(id) {
      return (await getMany([id])).stores.get(id);
    },
    getMany,
    async invalidate(id) {
      negative.delete(id);
      const result = await cache.delete(String(id));
      if (distributed && (!result.l2 || !result.published)) {
        // Other pods keep their copy until its TTL (plus grace) ends; the write itself has committed.
        log.warn({ storeId: id, ...result }, 'store catalogue: invalidation did not reach every pod');
      }
    },
    ready: () => cache.ready(),
    stats: () => ({
      negativeEntries: negative.size,
      lastKnownEntries: lastKnown.size,
      sourceHealthy,
      sourceLoads,
      sourceFailures,
      servedLastKnown,
    }),
    close: () => cache.close(),
  };
}
