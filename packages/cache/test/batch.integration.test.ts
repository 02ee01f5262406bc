import { randomUUID } from 'node:crypto';
import { startPrivateRedis, type PrivateRedis } from '@eta/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeRedis, createCacheRedis, createTieredCache, type TieredCache } from '../src/index.ts';
import { testPrefix } from './support/redis.ts';

const prefix = testPrefix('batch');

/**
 * Round trips are proven on the server side, on a private redis-server where every connection is ours:
 * - INFO `total_reads_processed` counts socket reads, i.e. round trips (a pipeline arrives as one read);
 * - MONITOR shows which commands the cache's own connection (matched by address) sent.
 */
describe('getMany against real Redis', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let writerRedis: Redis;
  let admin: Redis;
  let monitorBase: Redis | undefined;
  let monitor: Redis | undefined;
  let cache: TieredCache<string>;
  let writer: TieredCache<string>;

  const open = (name: string) =>
    createCacheRedis(server.url, 'commands', { name, timeoutMs: 2_000, connectTimeoutMs: 2_000 });
  const options = (r: Redis) => ({
    name: 'batch',
    ttlMs: 60_000,
    l1: { maxEntries: 1_000, maxBytes: 1_000_000 },
    l2: {
      redis: r,
      keyPrefix: prefix,
      timeoutMs: 2_000,
      breaker: { failureThreshold: 5, resetAfterMs: 1_000 },
    },
  });
  const readsProcessed = async (): Promise<number> => {
    const info = await admin.info('stats');
    return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
  };

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = open('batch-reader');
    writerRedis = open('batch-writer');
    admin = new Redis(server.url);
    await Promise.all(
      [redis, writerRedis, admin].map((c) => new Promise((resolve) => c.once('ready', resolve))),
    );
    cache = createTieredCache<string>(options(redis));
    writer = createTieredCache<string>(options(writerRedis));
  });

  afterAll(async () => {
    await cache?.close();
    await writer?.close();
    monitor?.disconnect();
    monitorBase?.disconnect();
    admin?.disconnect();
    await Promise.all([redis, writerRedis].filter(Boolean).map((c) => closeRedis(c)));
    await server?.stop();
  });

  it('one MGET for the L1 misses, one compute for the rest, written back in one pipeline', async () => {
    // Layout: l1:* in the reader's L1 (and Redis), l2:* only in Redis, new:* nowhere.
    await cache.getMany(['l1:a', 'l1:b'], (keys) => new Map(keys.map((k) => [k, `v-${k}`])));
    await writer.getMany(['l2:c', 'l2:d', 'l2:e'], (keys) => new Map(keys.map((k) => [k, `v-${k}`])));
    await cache.settled();
    await writer.settled();

    const addr = /\baddr=(\S+)/.exec(String(await redis.client('INFO')))?.[1];
    expect(addr).toBeDefined();
    const seen: string[][] = [];
    // monitor() opens a connection of its own; the base one is closed in afterAll too.
    monitorBase = new Redis(server.url);
    monitor = await monitorBase.monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === addr) seen.push(args);
    });

    const before = await readsProcessed();
    const asked: (readonly string[])[] = [];
    const keys = ['l1:a', 'l2:c', 'new:f', 'l1:b', 'l2:d', 'new:g', 'l2:e', 'new:h'];
    const result = await cache.getMany(keys, (missing) => {
      asked.push(missing);
      return new Map(missing.map((k) => [k, `v-${k}`]));
    });
    await cache.settled();
    const after = await readsProcessed();

    expect([...result.keys()]).toEqual(keys);
    expect([...result.values()]).toEqual(keys.map((k) => `v-${k}`));
    expect(asked).toEqual([['new:f', 'new:g', 'new:h']]);
    // Two round trips from the cache (MGET, then the write pipeline) plus the second INFO itself.
    expect(after - before).toBe(3);

    // A marker from the same connection: once MONITOR shows it, everything before it has been seen too.
    const marker = `marker-${randomUUID()}`;
    await redis.echo(marker);
    await expect.poll(() => seen.some((args) => args[1] === marker), { timeout: 10_000 }).toBe(true);
    const commands = seen
      .filter((args) => args[0] !== 'echo' && args[0] !== 'client')
      .map((args) => args.map((a) => a.replace(`${prefix}batch:`, '')));

    expect(commands[0]).toEqual(['mget', 'l2:c', 'new:f', 'l2:d', 'new:g', 'l2:e', 'new:h']);
    const writes = commands.slice(1);
    expect(writes.map((c) => [c[0], c[1]])).toEqual([
      ['set', 'new:f'],
      ['set', 'new:g'],
      ['set', 'new:h'],
    ]);
    // Each SET carries its own expiry (TTL plus grace), so Redis drops what L1 would no longer serve.
    expect(writes.every((c) => c[3] === 'PX' && Number(c[4]) > 0)).toBe(true);
  });

  it('wrote what it computed to Redis, where another process finds it', async () => {
    const result = await writer.getMany(['new:f', 'new:g'], () => {
      throw new Error('must not compute: the reader wrote these to Redis');
    });
    expect([...result.values()]).toEqual(['v-new:f', 'v-new:g']);
    expect(writer.stats().l2.hits).toBe(2);
  });
});
