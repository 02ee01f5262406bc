import { createTieredCache } from '@eta/cache';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDbStoreSource,
  createPostgres,
  runMigrations,
  seedStores,
  type Database,
} from '../../src/adapters/db/index.ts';
import { storeViewCodec } from '../../src/domain/catalog-codec.ts';
import {
  CatalogUnavailableError,
  createStoreCatalog,
  type ManagedStoreCatalog,
} from '../../src/domain/catalog.ts';
import type { StoreView } from '../../src/domain/stores.ts';
import { silentLog, startPrivatePostgres, testPool, type PrivatePostgres } from '../db/support.ts';

const TTL = 30_000;
const STALE = 10_000;

/**
 * A private Postgres cluster that this test stops: the estimate path must keep getting the last known
 * settings of the stores it has served, marked stale, while the database is down.
 */
describe('store catalogue while Postgres is stopped', () => {
  let server: PrivatePostgres;
  let db: Database;
  let catalog: ManagedStoreCatalog;
  let clock = Date.now();

  beforeAll(async () => {
    server = await startPrivatePostgres();
    db = await createPostgres(server.url, { ...testPool, DATABASE_CONNECT_TIMEOUT_MS: 1_000 }, silentLog);
    await runMigrations(db, silentLog);
    await seedStores(db, silentLog, { count: 100 });
    const now = () => clock;
    catalog = createStoreCatalog({
      source: createDbStoreSource(db),
      cache: createTieredCache<StoreView>({
        name: 'stores',
        ttlMs: TTL,
        staleMs: STALE,
        jitter: 0,
        l1: { maxEntries: 1_000, maxBytes: 10_000_000 },
        codec: storeViewCodec,
        now,
      }),
      log: { ...silentLog, debug: () => undefined },
      distributed: false,
      now,
    });
  });

  afterAll(async () => {
    await catalog?.close();
    await db?.close();
    await server?.destroy();
  });

  it('serves last known settings with stale: true, refuses unseen stores, and recovers after a restart', async () => {
    const served = await catalog.getMany([1, 2, 3]);
    expect(served.stale).toBe(false);
    expect(served.stores.size).toBe(3);

    await server.stop();
    await expect(db.ping()).rejects.toThrow();

    // Past TTL and grace: the cache itself has nothing left to serve, so only the last-known copy answers.
    clock += TTL + STALE + 1;
    const during = await catalog.getMany([1, 2, 3]);
    expect(during.stale).toBe(true);
    expect(during.stores).toEqual(served.stores);
    expect((await catalog.get(2))?.settings).toEqual(served.stores.get(2)!.settings);
    // A store this pod never served: existence unknown, so an error rather than a false "not found".
    await expect(catalog.getMany([50])).rejects.toBeInstanceOf(CatalogUnavailableError);

    await server.start();
    await expect
      .poll(
        () =>
          db.ping().then(
            () => true,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    clock += TTL + STALE + 1;
    const after = await catalog.getMany([1, 50]);
    expect(after.stale).toBe(false);
    expect([...after.stores.keys()].sort((a, b) => a - b)).toEqual([1, 50]);
  });
});
