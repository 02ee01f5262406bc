import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { spawnService, suiteService, type SpawnedService } from '@eta/testing';

/**
 * The real suite for admin-web's end-to-end test, driven from outside: every service is its own Node
 * process (`node services/<name>/src/main.ts`, started by @eta/testing's spawnService), and vendor-bff's own CLIs
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

/** A service process; output() is the tail of its stdout and stderr, for failure messages. */
export type Service = SpawnedService;

/**
 * `node services/<name>/src/main.ts` on a free port of 127.0.0.1 with SHUTDOWN_DELAY_MS=0 and no load
 * shedding; resolves once `/readyz` answers 200, rejects with the process's output when it exits or is
 * not ready in time.
 */
export function startService(
  name: string,
  env: Record<string, string>,
  readyTimeoutMs = 120_000,
): Promise<Service> {
  return spawnService({
    ...suiteService(name),
    env: {
      SHUTDOWN_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      // A process busy with its start-up work (model loads, warm-ups) on a machine busy with other tests
      // shows event-loop delay just as it turns ready; a 503 OVERLOADED then would fail the story, which
      // is not about shedding.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      MAX_QUEUE_MS: '0',
      ...env,
    },
    readyTimeoutMs,
  });
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

/**
 * A token from `pnpm dev:token` (vendor-bff's CLI, the committed dev key); the BFF needs AUTH_DEV_KEYS=true.
 * An owner of some stores, an operator, or a calling service (the estimate API and the order-events ingest).
 */
export async function devToken(
  who: { stores: readonly number[] } | { operator: true } | { service: string },
  sub: string,
): Promise<string> {
  const args =
    'stores' in who
      ? ['--store', who.stores.join(',')]
      : 'service' in who
        ? ['--service', who.service]
        : ['--operator'];
  const out = await runNode(['src/cli/dev-token.ts', ...args, '--sub', sub, '--ttl', '60'], { cwd: BFF_DIR });
  return out.trim();
}
