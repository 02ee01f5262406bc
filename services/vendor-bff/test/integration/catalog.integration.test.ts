import { cacheEnv, createCacheRedisClients, type CacheRedisClients } from '@eta/cache';
import { parseEnv } from '@eta/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDbStoreSource,
  createStoreViewCache,
  runMigrations,
  seedStores,
  updateSettings,
} from '../../src/adapters/db/index.ts';
import { createStoreCatalog, type ManagedStoreCatalog } from '../../src/domain/catalog.ts';
import {
  countingDb,
  postgresSchema,
  redisUrl,
  silentLog,
  uniqueName,
  type CountingDb,
  type SchemaDb,
} from '../db/support.ts';

const log = { ...silentLog, debug: () => undefined };

/** Two catalogue instances, each with its own Redis connections and its own counted db handle: two pods. */
describe('store catalogue on Postgres and Redis', () => {
  let pg: SchemaDb;
  const prefix = `${uniqueName('catalog')}:`;
  const clients: CacheRedisClients[] = [];
  const pods: { catalog: ManagedStoreCatalog; db: CountingDb }[] = [];

  const reads = (db: CountingDb) =>
    db.statements.filter((s) => s.includes('FROM stores s JOIN store_settings')).length;

  beforeAll(async () => {
    pg = await postgresSchema('catalog');
    await runMigrations(pg.db, silentLog);
    await seedStores(pg.db, silentLog, { count: 300 });
    const config = parseEnv(cacheEnv, {
      REDIS_URL: redisUrl(),
      CACHE_KEY_PREFIX: prefix,
      CACHE_L2_TIMEOUT_MS: '2000',
    });
    for (const name of ['pod-a', 'pod-b']) {
      const c = createCacheRedisClients(config, { name })!;
      clients.push(c);
      const db = countingDb(pg.db);
      const catalog = createStoreCatalog({
        source: createDbStoreSource(db),
        cache: createStoreViewCache(config, { clients: c, log }),
        log,
      });
      pods.push({ catalog, db });
    }
    await Promise.all(pods.map((p) => p.catalog.ready()));
    // The cache skips Redis while a connection is still being made (it never waits for one), so a write-back
    // started before then is simply not made: CI once saw 0 of 40 keys written for 10 s. The scenarios
    // start with both pods connected, as a pod is long before such a batch.
    await Promise.all(
      clients.map((c) =>
        c.redis.status === 'ready' ? undefined : new Promise((resolve) => c.redis.once('ready', resolve)),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(pods.map((p) => p.catalog.close()));
    const redis = clients[0]?.redis;
    if (redis !== undefined) {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    }
    await Promise.all(clients.map((c) => c.close()));
    await pg.drop();
  });

  it('a batch of cold ids is one Postgres query; the other pod then reads them from Redis, not Postgres', async () => {
    const [a, b] = [pods[0]!, pods[1]!];
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    const fromA = await a.catalog.getMany(ids);
    expect(fromA.stores.size).toBe(40);
    expect(reads(a.db)).toBe(1);
    // The write-back to Redis runs in the background: wait until every key is there, then read on pod B.
    const redis = clients[0]!.redis;
    await expect
      .poll(() => redis.exists(...ids.map((id) => `${prefix}stores:${id}`)), { timeout: 10_000 })
      .toBe(ids.length);
    const fromB = await b.catalog.getMany(ids);
    expect(reads(b.db)).toBe(0);
    expect(fromB.stores).toEqual(fromA.stores);
  });

  it('unknown ids are absent', async () => {
    const read = await pods[0]!.catalog.getMany([5, 100_000, 100_001]);
    expect([...read.stores.keys()]).toEqual([5]);
  });

  it('an invalidation after a settings write reaches the other pod', async () => {
    const [a, b] = [pods[0]!, pods[1]!];
    const old = (await b.catalog.get(7))!;
    expect((await b.catalog.get(7))?.settings.version).toBe(old.settings.version);
    const result = await updateSettings(
      pg.db,
      7,
      old.settings.version,
      { manualDeliveryMinutes: 39 },
      'owner:7',
    );
    expect(result.ok).toBe(true);
    // Pod B still holds the old copy in L1 (TTL 30 s): only the invalidation can change its answer.
    expect((await b.catalog.get(7))?.settings.version).toBe(old.settings.version);
    await a.catalog.invalidate(7);
    await expect
      // A cap for a lost message, not a latency bound: pub/sub on a busy machine may take more than 2 s.
      .poll(async () => (await b.catalog.get(7))?.settings.manualDeliveryMinutes, {
        timeout: 10_000,
        interval: 20,
      })
      .toBe(39);
    expect((await b.catalog.get(7))?.settings.version).toBe(old.settings.version + 1);
  });
});
