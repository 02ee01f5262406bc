import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database, DbLogger } from './database.ts';

/**
 * Plain-SQL migrations: migrations/NNNN_name.sql, applied in order, each in its own transaction together
 * with its schema_migrations row, so a migration is either applied and recorded or not at all.
 *
 * Two pods starting at once must not both apply a file: every transaction first takes a transaction-scoped
 * advisory lock, then re-reads what is applied. The loser waits, then finds the work done. The lock key
 * includes the schema, so test files on one server (a schema each) do not wait on one another.
 *
 * A recorded migration whose file changed since is an error, not a silent skip: the database would
 * no longer match what the code in this image expects.
 */

export const MIGRATIONS_DIR: string = fileURLToPath(new URL('../../../migrations/', import.meta.url));

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const m = FILE.exec(file);
    if (m === null) throw new MigrationError(`migration file ${file} is not named NNNN_name.sql`);
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) {
      throw new MigrationError(`two migration files share version ${m[1]}`);
    }
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    // Line endings are normalised so a checkout with CRLF does not look like an edited migration.
    const checksum = createHash('sha256').update(sql.replaceAll('\r\n', '\n')).digest('hex');
    out.push({ version, name: m[2]!, sql, checksum });
  }
  return out;
}

const LOCK = `SELECT pg_advisory_xact_lock(hashtext('vendor-bff:migrate:' || current_schema()))`;

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

interface AppliedRow {
  version: number;
  name: string;
  checksum: string;
}

export async function runMigrations(
  db: Database,
  log: DbLogger,
  migrations?: readonly Migration[],
): Promise<MigrationReport> {
  const all = migrations ?? (await loadMigrations());
  const applied: string[] = [];
  let alreadyApplied = 0;
  for (const migration of all) {
    const label = `${String(migration.version).padStart(4, '0')}_${migration.name}`;
    const didApply = await db.transaction(async (tx) => {
      await tx.query(LOCK);
      // Inside the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog.
      await tx.exec(CREATE_TABLE);
      const { rows } = await tx.query<AppliedRow>(
        'SELECT version, name, checksum FROM schema_migrations WHERE version = $1',
        [migration.version],
      );
      const row = rows[0];
      if (row !== undefined) {
        if (row.checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${label} was applied with a different checksum; migrations must never be edited ` +
              'once applied (add a new one)',
          );
        }
        return false;
      }
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (didApply) {
      applied.push(label);
      log.info({ migration: label }, 'migration applied');
    } else alreadyApplied += 1;
  }
  return { applied, alreadyApplied };
}
