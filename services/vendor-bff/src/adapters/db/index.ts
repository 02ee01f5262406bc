// The data layer's public surface: app.ts, main.ts and the CLIs import from here only.
import { createDatabase, type CreateDatabaseOptions, type Database, type DbLogger } from './database.ts';
import type { DatabaseEnvConfig } from './env.ts';
import { runMigrations } from './migrate.ts';
import { seedIfEmpty } from './seed.ts';

export {
  createDatabase,
  createPglite,
  createPostgres,
  databaseReadiness,
  type CreateDatabaseOptions,
  type Database,
  type DbLogger,
  type Queryable,
  type SqlResult,
} from './database.ts';
export { databaseEnv, type DatabaseEnvConfig } from './env.ts';
export { loadMigrations, MigrationError, MIGRATIONS_DIR, runMigrations, type Migration } from './migrate.ts';
export { createStoreViewCache, type StoreViewCacheOptions } from './catalog-cache.ts';
export { createDbStoreSource, listStoreIds, loadStoreViews } from './stores.ts';
export {
  listSettingsAudit,
  updateSettings,
  type SettingsAuditEntry,
  type UpdateSettingsResult,
} from './settings.ts';
export { insertSeedStores, loadSeedData, seedIfEmpty, seedStores, SEED_DONGS_FILE } from './seed.ts';

/**
 * What main.ts calls at start: connect, apply migrations (MIGRATE_ON_START), and on the embedded database
 * seed the demo stores when it is empty (SEED_ON_START), so `node src/main.ts` with no env is a working
 * service. A real Postgres is never seeded implicitly: that is `pnpm --dir services/vendor-bff seed`.
 */
export async function openDatabase(
  config: DatabaseEnvConfig,
  log: DbLogger,
  opts: CreateDatabaseOptions = {},
): Promise<Database> {
  const db = await createDatabase(config, log, opts);
  try {
    if (config.MIGRATE_ON_START) await runMigrations(db, log);
    if (db.kind === 'pglite' && config.SEED_ON_START) {
      await seedIfEmpty(db, log, { count: config.SEED_STORES });
    }
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}
