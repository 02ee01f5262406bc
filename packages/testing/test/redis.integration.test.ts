import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRedis, requireEnv, type TestRedis } from '../src/index.ts';

describe('createTestRedis', () => {
  let a: TestRedis;
  let b: TestRedis;
  let raw: Redis;

  beforeAll(async () => {
    a = await createTestRedis({ base: 'testing' });
    b = await createTestRedis({ base: 'testing' });
    raw = new Redis(requireEnv('REDIS_URL'));
  });

  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
    raw?.disconnect();
  });

  it('round-trips a value', async () => {
    await a.redis.set('eta:store:1', '420', 'EX', 60);
    expect(await a.redis.get('eta:store:1')).toBe('420');
    await a.redis.hset('h', { p50: '12', p90: '20' });
    expect(await a.redis.hgetall('h')).toEqual({ p50: '12', p90: '20' });
  });

  it('stores keys under its own prefix, invisible to another test', async () => {
    await a.redis.set('same-key', 'from-a');
    await b.redis.set('same-key', 'from-b');
    expect(await a.redis.get('same-key')).toBe('from-a');
    expect(await b.redis.get('same-key')).toBe('from-b');
    expect(await raw.get(`${a.prefix}same-key`)).toBe('from-a');
  });

  it('cleanup deletes its keys and only its keys', async () => {
    const c = await createTestRedis({ base: 'testing' });
    for (let i = 0; i < 1200; i++) await c.redis.set(`k${i}`, String(i));
    await b.redis.set('survivor', 'yes');
    await c.cleanup();
    await c.cleanup();
    expect(await raw.keys(`${c.prefix}*`)).toEqual([]);
    expect(await b.redis.get('survivor')).toBe('yes');
  });
});
