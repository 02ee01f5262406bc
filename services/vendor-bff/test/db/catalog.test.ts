import { createTieredCache } from '@eta/cache';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDbStoreSource,
  insertSeedStores,
  loadSeedData,
  updateSettings,
  type Database,
} from '../../src/adapters/db/index.ts';
import { storeViewCodec } from '../../src/domain/catalog-codec.ts';
import {
  CatalogUnavailableError,
  createStoreCatalog,
  type ManagedStoreCatalog,
} from '../../src/domain/catalog.ts';
import { generateSeedStores } from '../../src/domain/seed.ts';
import type { StoreView } from '../../src/domain/stores.ts';
import { countingDb, migratedPglite, silentLog, type CountingDb } from './support.ts';

const TTL = 60_000;
const STALE = 10_000;
const NEGATIVE_TTL = 5_000;

describe('store catalogue over PGlite (L1-only cache)', () => {
  let raw: Database;
  let db: CountingDb;
  let clock: number;
  let catalog: ManagedStoreCatalog;

  /** Catalogue reads that reached the database. */
  const storeReads = () =>
    db.statements.filter((s) => s.includes('FROM stores s JOIN store_settings')).length;

  beforeAll(async () => {
    raw = await migratedPglite();
    const stores = generateSeedStores(await loadSeedData(), { count: 200, now: new Date() });
    await insertSeedStores(raw, stores);
    db = countingDb(raw);
  }, 30_000);
  afterAll(async () => {
    await raw.close();
  });

  afterEach(async () => {
    await catalog.close();
  });

  beforeEach(() => {
    db.statements.length = 0;
    clock = Date.now();
    const now = () => clock;
    const cache = createTieredCache<StoreView>({
      name: 'stores',
      ttlMs: TTL,
      staleMs: STALE,
      jitter: 0,
      l1: { maxEntries: 1_000, maxBytes: 10_000_000 },
      codec: storeViewCodec,
      now,
    });
    catalog = createStoreCatalog({
      source: createDbStoreSource(db),
      cache,
      log: { ...silentLog, debug: () => undefined },
      negativeTtlMs: NEGATIVE_TTL,
      distributed: false,
      now,
    });
  });

  it('reads a store once from the database; the second read is served by the cache', async () => {
    const first = await catalog.get(7);
    expect(first?.store.id).toBe(7);
    expect(first?.settings.storeId).toBe(7);
    expect(storeReads()).toBe(1);
    expect(await catalog.get(7)).toEqual(first);
    expect(storeReads()).toBe(1);
  });

  it('loads all misses of one batch with one query and answers in full', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => i + 1);
    const read = await catalog.getMany(ids);
    expect([...read.stores.keys()].sort((a, b) => a - b)).toEqual(ids);
    expect(read.stale).toBe(false);
    expect(storeReads()).toBe(1);
    await catalog.getMany([...ids, 51, 52]);
    expect(storeReads()).toBe(2);
    expect(db.statements.at(-1)).toContain('ANY($1::bigint[])');
  });

  it('leaves unknown ids out and remembers them briefly, so a flood of them does not reach the database', async () => {
    const read = await catalog.getMany([1, 9_999, 10_000]);
    expect([...read.stores.keys()]).toEqual([1]);
    expect(storeReads()).toBe(1);
    for (let i = 0; i < 20; i++) expect(await catalog.get(9_999)).toBeUndefined();
    expect(storeReads()).toBe(1);
    clock += NEGATIVE_TTL + 1;
    expect(await catalog.get(9_999)).toBeUndefined();
    expect(storeReads()).toBe(2);
    // Ids that cannot exist never cost a query.
    expect((await catalog.getMany([0, -1, 1.5, Number.NaN])).stores.size).toBe(0);
    expect(storeReads()).toBe(2);
  });

  it('invalidate makes the next read see a settings write', async () => {
    const before = await catalog.get(3);
    const result = await updateSettings(raw, 3, before!.settings.version, { manualPrepMinutes: 29 }, 'test');
    expect(result.ok).toBe(true);
    expect((await catalog.get(3))?.settings.version).toBe(before!.settings.version);
    await catalog.invalidate(3);
    expect((await catalog.get(3))?.settings).toMatchObject({
      version: before!.settings.version + 1,
      manualPrepMinutes: 29,
    });
  });

  it('serves the last known copy with stale: true when the database fails, and refuses what it never saw', async () => {
    const seen = await catalog.getMany([10, 11]);
    const failing: CountingDb = {
      ...db,
      query: () => Promise.reject(new Error('connection refused')),
    };
    const cache = createTieredCache<StoreView>({
      name: 'stores-outage',
      ttlMs: TTL,
      staleMs: STALE,
      jitter: 0,
      l1: { maxEntries: 1_000, maxBytes: 10_000_000 },
      now: () => clock,
    });
    // Same catalogue logic, second instance whose source now fails: warm it while healthy first.
    let broken = false;
    const outage = createStoreCatalog({
      source: {
        loadMany: (ids) => (broken ? createDbStoreSource(failing) : createDbStoreSource(db)).loadMany(ids),
      },
      cache,
      log: { ...silentLog, debug: () => undefined },
      distributed: false,
      now: () => clock,
    });
    try {
      expect((await outage.getMany([10, 11])).stores).toEqual(seen.stores);
      broken = true;
      clock += TTL + STALE + 1;
      const read = await outage.getMany([10, 11]);
      expect(read.stale).toBe(true);
      expect(read.stores).toEqual(seen.stores);
      await expect(outage.getMany([10, 12])).rejects.toBeInstanceOf(CatalogUnavailableError);
      expect(outage.stats()).toMatchObject({ sourceHealthy: false, servedLastKnown: 1 });
      broken = false;
      const recovered = await outage.getMany([10, 12]);
      expect(recovered.stale).toBe(false);
      expect(recovered.stores.size).toBe(2);
    } finally {
      await outage.close();
    }
  });

  describe('regression: stores expiring together were re-read one query per request (periodic stalls)', () => {
    it('the misses of concurrent requests in one event-loop turn share one database read', async () => {
      const ids = Array.from({ length: 60 }, (_, i) => i + 1);
      const views = await Promise.all(ids.map((id) => catalog.get(id)));
      expect(views.map((v) => v?.store.id)).toEqual(ids);
      expect(storeReads()).toBe(1);
    });

    it('entries past their TTL are served stale and refreshed together, in one read', async () => {
      const ids = Array.from({ length: 60 }, (_, i) => i + 1);
      for (const id of ids) await catalog.get(id);
      expect(storeReads()).toBe(60);
      clock += TTL + 1;
      const served = await Promise.all(ids.map((id) => catalog.get(id)));
      expect(served.every((v, i) => v?.store.id === ids[i])).toBe(true);
      // The refresh runs in the background: wait until it has read, then see it was one query.
      await expect.poll(() => storeReads(), { timeout: 10_000 }).toBe(61);
    });

    it('splits a turn larger than maxBatchIds into reads of at most that many ids', async () => {
      await catalog.close();
      catalog = createStoreCatalog({
        source: createDbStoreSource(db, { maxBatchIds: 25 }),
        cache: createTieredCache<StoreView>({
          name: 'stores',
          ttlMs: TTL,
          jitter: 0,
          l1: { maxEntries: 1_000, maxBytes: 10_000_000 },
          codec: storeViewCodec,
        }),
        log: { ...silentLog, debug: () => undefined },
        distributed: false,
      });
      const ids = Array.from({ length: 60 }, (_, i) => i + 1);
      const views = await Promise.all(ids.map((id) => catalog.get(id)));
      expect(views.map((v) => v?.store.id)).toEqual(ids);
      expect(storeReads()).toBe(3);
    });
  });
});
