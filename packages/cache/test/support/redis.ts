import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The shared test Redis (scripts/backing-services.sh exports REDIS_URL). Integration tests need a real one. */
export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '') {
    throw new Error('REDIS_URL is not set: start Redis (scripts/backing-services.sh) and export REDIS_URL');
  }
  return url;
}

/** A key prefix of this test file's own, so files can run in parallel against one Redis. */
export const testPrefix = (file: string): string => `test:cache:${file}:${randomUUID().slice(0, 8)}:`;

/** Deletes every key under `prefix` (SCAN, never KEYS: the Redis is shared). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

export const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
};
