import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function redisServerBinary(): string {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(candidate)) return candidate;
  }
  return 'redis-server';
}

/**
 * A redis-server process of this test's own, on a free port: the only honest way to test an outage
 * (stop it, freeze it, restart it on the same port) without disturbing anyone else's Redis.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGSTOP: the socket stays open but nothing answers, like a Redis stuck in a long command. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const proc = spawn(
      redisServerBinary(),
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: 'ignore' },
    );
    child = proc;
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', reject);
    });
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Refused connects are expected until the server listens; they are retried below.
    probe.on('error', () => undefined);
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch (err) {
          probe.disconnect();
          if (attempt > 100 || proc.exitCode !== null) throw err;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    // A frozen process cannot act on SIGTERM.
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    stop,
    start,
  };
}

export const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
};
