import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';

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
  /** Starts it again on the same port (after stop()); resolves once it answers PING. */
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
