import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { DatabaseEnvConfig } from './env.ts';

/**
 * One small SQL interface over two engines: a pg Pool against real Postgres (DATABASE_URL set) or an
 * embedded PGlite (local runs, demos, unit tests). Everything above this file (migrations, the seed, the
 * catalog's loader, settings writes) is written against `Database` only, so both engines run the same SQL.
 */

export interface SqlResult<R> {
  readonly rows: R[];
  /** Rows returned by a SELECT, or affected by INSERT/UPDATE/DELETE. */
  readonly rowCount: number;
}

export type SqlRow = Record<string, unknown>;

export interface Queryable {
  /** One statement with $1.. parameters. */
  query<R extends object = SqlRow>(sql: string, params?: readonly unknown[]): Promise<SqlResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** BEGIN, fn, COMMIT; ROLLBACK and rethrow if fn throws. Queries in fn must use `tx`, not the database. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Readiness: resolves when a trivial query answers within the query deadline. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The slice of a pino logger used here (object first), so the service logger fits. */
export interface DbLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CreateDatabaseOptions {
  /** Tests: a schema per test file. Set on every pooled connection; created if missing. */
  readonly searchPath?: string;
  /** Shows in pg_stat_activity, which makes a busy database debuggable. */
  readonly applicationName?: string;
}

/** DATABASE_URL set: a bounded pg Pool; unset: embedded PGlite (in memory, or PGLITE_DATA_DIR). */
export async function createDatabase(
  config: DatabaseEnvConfig,
  log: DbLogger,
  opts: CreateDatabaseOptions = {},
): Promise<Database> {
  if (config.DATABASE_URL !== undefined) return createPostgres(config.DATABASE_URL, config, log, opts);
  return createPglite(config.PGLITE_DATA_DIR, log, opts);
}

type PgConfig = Pick<
  DatabaseEnvConfig,
  | 'DATABASE_POOL_MAX'
  | 'DATABASE_CONNECT_TIMEOUT_MS'
  | 'DATABASE_STATEMENT_TIMEOUT_MS'
  | 'DATABASE_IDLE_TIMEOUT_MS'
>;

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export async function createPostgres(
  url: string,
  config: PgConfig,
  log: DbLogger,
  opts: CreateDatabaseOptions = {},
): Promise<Database> {
  const statementTimeout = config.DATABASE_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: url,
    max: config.DATABASE_POOL_MAX,
    // A dead server must cost a caller one bounded wait, not a hang: connect, then the server-side
    // statement_timeout, then a client-side backstop for a server that stopped answering at all.
    connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    statement_timeout: statementTimeout,
    query_timeout: statementTimeout + 1_000,
    // A transaction left open by a bug must not hold row locks (settings FOR UPDATE) forever.
    idle_in_transaction_session_timeout: Math.max(statementTimeout * 2, 5_000),
    idleTimeoutMillis: config.DATABASE_IDLE_TIMEOUT_MS,
    keepAlive: true,
    application_name: opts.applicationName ?? 'vendor-bff',
    ...(opts.searchPath !== undefined ? { options: `-c search_path=${quoteIdent(opts.searchPath)}` } : {}),
  });
  // An idle pooled connection that dies (server restart, failover) emits 'error' on the pool; unhandled,
  // that would crash the process. The pool drops the client; the next query opens a new one.
  pool.on('error', (err) => log.warn({ err }, 'postgres idle connection failed; it will be replaced'));

  if (opts.searchPath !== undefined) {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.searchPath)}`);
  }

  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const res = await client.query(sql, params as unknown[] | undefined);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? res.rows.length };
    },
    async exec(sql: string) {
      // Without parameters pg uses the simple query protocol, which accepts several statements.
      await client.query(sql);
    },
  });
  const poolQ = wrap(pool);
  let closed = false;

  return {
    kind: 'postgres',
    ...poolQ,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection state is unknown (e.g. a client-side timeout): destroy it, never reuse it.
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
        throw err;
      } finally {
        client.release(broken);
      }
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}

export async function createPglite(
  dataDir: string | undefined,
  log: DbLogger,
  opts: CreateDatabaseOptions = {},
): Promise<Database> {
  // PGlite is Postgres compiled to WebAssembly. V8's optimising tier compiling its hottest functions took
  // the process to ~890 MB resident for a moment; the image's `node --liftoff-only` (@eta/testing's
  // SERVICE_RUNTIME_ARGS) keeps it on the baseline tier, for ~10 % slower queries (docs/benchmarks.md).
  const baselineOnly = process.execArgv.includes('--liftoff-only');
  const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  log.info(
    { dataDir: dataDir ?? 'memory', wasmTiers: baselineOnly ? 'baseline' : 'baseline+optimising' },
    'using embedded PGlite (DATABASE_URL is not set)',
  );
  if (!baselineOnly) {
    log.warn(
      {},
      'embedded PGlite without `node --liftoff-only`: compiling its WebAssembly with V8 optimising tier ' +
        'takes ~500 MB more resident for a moment (the image, `pnpm start` and the run command pass the flag)',
    );
  }
  if (opts.searchPath !== undefined) {
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.searchPath)}`);
    // PGlite is one session, so a session-level search_path covers every later query.
    await db.exec(`SET search_path TO ${quoteIdent(opts.searchPath)}`);
  }

  type PgliteQ = Pick<PGlite, 'query' | 'exec'>;
  const wrap = (q: PgliteQ): Queryable => ({
    async query<R extends object>(sql: string, params?: readonly unknown[]) {
      const res = await q.query<R>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows 0 for a SELECT; pg counts the rows returned.
      return { rows: res.rows, rowCount: Math.max(res.rows.length, res.affectedRows ?? 0) };
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  let closed = false;

  return {
    kind: 'pglite',
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    async ping() {
      if (closed) throw new Error('embedded database is closed');
      await db.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}

/** A readiness check (service-kit's ReadinessCheck shape) that fails while the database does not answer. */
export function databaseReadiness(db: Database): () => Promise<void> {
  return () => db.ping();
}
