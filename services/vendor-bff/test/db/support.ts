import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  createPglite,
  createPostgres,
  runMigrations,
  type Database,
  type DbLogger,
  type Queryable,
} from '../../src/adapters/db/index.ts';

/**
 * Test support for the data layer: real databases only. PGlite for unit tests; for integration tests a
 * schema per test file on the shared Postgres (DATABASE_URL from scripts/backing-services.sh), or a
 * private throw-away cluster when a test must stop the server.
 */

const run = promisify(execFile);

export const silentLog: DbLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export const testPool = {
  DATABASE_POOL_MAX: 4,
  DATABASE_CONNECT_TIMEOUT_MS: 2_000,
  DATABASE_STATEMENT_TIMEOUT_MS: 5_000,
  DATABASE_IDLE_TIMEOUT_MS: 10_000,
};

export function databaseUrl(): string {
  const url = process.env['DATABASE_URL'];
  // An integration test without its server must fail, not pass by skipping.
  if (url === undefined || url === '') {
    throw new Error('DATABASE_URL is not set: eval "$(scripts/backing-services.sh up)" first');
  }
  return url;
}

export function redisUrl(): string {
  const url = process.env['REDIS_URL'];
  if (url === undefined || url === '') {
    throw new Error('REDIS_URL is not set: eval "$(scripts/backing-services.sh up)" first');
  }
  return url;
}

export const uniqueName = (tag: string): string =>
  `vbff_${tag}_${randomUUID().replaceAll('-', '').slice(0, 10)}`;

export interface SchemaDb {
  readonly db: Database;
  readonly schema: string;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** A fresh schema on the shared Postgres, so test files never see each other's rows. */
export async function postgresSchema(tag: string): Promise<SchemaDb> {
  const schema = uniqueName(tag);
  const db = await createPostgres(databaseUrl(), testPool, silentLog, { searchPath: schema });
  return {
    db,
    schema,
    drop: async () => {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    },
  };
}

export async function migratedPglite(): Promise<Database> {
  const db = await createPglite(undefined, silentLog);
  await runMigrations(db, silentLog);
  return db;
}

export interface CountingDb extends Database {
  /** Every SQL text sent through this handle (transactions included), in order. */
  readonly statements: string[];
}

/** Wraps a Database to record what reaches it: how tests prove a read did (not) touch Postgres. */
export function countingDb(db: Database): CountingDb {
  const statements: string[] = [];
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      statements.push(sql);
      return q.query(sql, params);
    },
    exec: (sql) => {
      statements.push(sql);
      return q.exec(sql);
    },
  });
  return {
    kind: db.kind,
    statements,
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    ping: () => db.ping(),
    close: () => db.close(),
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function pgBinDir(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(a) - Number(b));
  const latest = versions.at(-1);
  if (latest === undefined)
    throw new Error('no PostgreSQL under /usr/lib/postgresql (backing-services.sh installs it)');
  return `/usr/lib/postgresql/${latest}/bin`;
}

export interface PrivatePostgres {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  destroy(): Promise<void>;
}

/**
 * A throw-away Postgres cluster of this test's own (initdb in a temp dir, run as the `postgres` user the
 * way scripts/backing-services.sh does, on a free port), so a test may stop it without hurting anyone.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = await pgBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'vbff-pg-'));
  const { stdout } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  await chmod(dir, 0o700);
  const data = join(dir, 'data');
  const port = await freePort();
  const asPostgres = (cmd: string, args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', `${bin}/${cmd}`, ...args], { timeout: 120_000 });
  // Trust on loopback: a private cluster that lives for one test file and listens on 127.0.0.1 only.
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--auth=trust']);
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=20 -c shared_buffers=16MB`;
  let running = false;
  const start = async () => {
    await asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-o',
      opts,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '60', 'stop']);
    running = false;
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    destroy: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
