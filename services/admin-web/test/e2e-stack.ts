import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from '@eta/testing';

/**
 * The real suite for admin-web's end-to-end test, driven from outside: every service is its own Node
 * process (`node services/<name>/src/main.ts`, as loadtest/lib/spawn.ts does), and vendor-bff's own CLIs
 * seed the database and mint the tokens. Nothing here imports another service's code (habit 11): the
 * process boundary is the interface, exactly as in production.
 */

export const REPO = resolve(import.meta.dirname, '../../..');
const BFF_DIR = join(REPO, 'services/vendor-bff');
const run = promisify(execFile);

/** Runs `node <args>` to completion and returns its stdout; a failure carries stderr in its message. */
export async function runNode(
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  try {
    const { stdout } = await run(process.execPath, [...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`node ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

export interface Service {
  readonly name: string;
  readonly origin: string;
  /** The tail of the process's stdout and stderr, for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 15 s; safe to call twice. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 32 * 1024;

/**
 * `node services/<name>/src/main.ts` on a free port of 127.0.0.1 with SHUTDOWN_DELAY_MS=0; resolves once
 * `/readyz` answers 200, rejects with the process's output when it exits or is not ready in time.
 */
export async function startService(
  name: string,
  env: Record<string, string>,
  readyTimeoutMs = 120_000,
): Promise<Service> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: join(REPO, 'services', name),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      SHUTDOWN_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const isRunning = () => child.exitCode === null && child.signalCode === null;

  const stop = async () => {
    if (!isRunning()) return;
    child.kill('SIGTERM');
    const cancel = new AbortController();
    const late = sleep(15_000, 'late' as const, { signal: cancel.signal }).catch(() => 'cancelled' as const);
    if ((await Promise.race([exited.then(() => 'exited' as const), late])) === 'late') {
      child.kill('SIGKILL');
      await exited;
    }
    cancel.abort();
  };
  const service: Service = { name, origin, output: () => output, stop };

  const deadline = Date.now() + readyTimeoutMs;
  let problem = 'no answer yet';
  for (;;) {
    if (!isRunning()) {
      throw new Error(`${name} exited before it was ready (code ${child.exitCode}); output:\n${output}`);
    }
    try {
      const res = await fetch(`${origin}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.status === 200) return service;
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} not ready at ${origin}/readyz in time (${problem}); output:\n${output}`);
    }
    await sleep(200);
  }
}

/**
 * A schema of this test's own on the shared Postgres (DATABASE_URL), so test files running in parallel
 * never see each other's stores or settings. The SQL runs in a child process with vendor-bff's own `pg`
 * (admin-web has no database driver, and needs none).
 */
export interface PostgresSchema {
  readonly schema: string;
  /** DATABASE_URL with `search_path` set to the schema, for vendor-bff and its CLIs. */
  readonly url: string;
  drop(): Promise<void>;
}

const SQL_SCRIPT = `
import pg from 'pg';
const client = new pg.Client({ connectionString: process.env.DATABASE_URL, connectionTimeoutMillis: 5000 });
await client.connect();
try { await client.query(process.env.E2E_SQL); } finally { await client.end(); }
`;

const runSql = (url: string, sql: string) =>
  runNode(['--input-type=module', '-e', SQL_SCRIPT], {
    cwd: BFF_DIR,
    env: { DATABASE_URL: url, E2E_SQL: sql },
  });

export async function createPostgresSchema(databaseUrl: string, tag: string): Promise<PostgresSchema> {
  const schema = `admin_web_${tag}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  await runSql(databaseUrl, `CREATE SCHEMA "${schema}"`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    schema,
    url: url.toString(),
    drop: async () => {
      await runSql(databaseUrl, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
  };
}

/** Migrates and seeds stores 1..count with vendor-bff's seed CLI (the database is DATABASE_URL in env). */
export async function seedStores(env: Record<string, string>, count: number): Promise<void> {
  await runNode(['src/cli/seed.ts', '--count', String(count)], {
    cwd: BFF_DIR,
    env: { LOG_LEVEL: 'warn', ...env },
  });
}

/** A token from `pnpm dev:token` (vendor-bff's CLI, the committed dev key); the BFF needs AUTH_DEV_KEYS=true. */
export async function devToken(
  who: { stores: readonly number[] } | { operator: true },
  sub: string,
): Promise<string> {
  const args = 'stores' in who ? ['--store', who.stores.join(',')] : ['--operator'];
  const out = await runNode(['src/cli/dev-token.ts', ...args, '--sub', sub, '--ttl', '60'], { cwd: BFF_DIR });
  return out.trim();
}
