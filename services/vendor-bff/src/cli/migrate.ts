// One-shot migration run (a Kubernetes Job or `pnpm --dir services/vendor-bff migrate`): applies pending
// migrations and exits 0, or exits 1 with the reason. Safe next to starting pods (advisory lock).
import { loadConfigOrExit } from '@eta/config';
import { createLogger } from '@eta/service-kit';
import { createDatabase, databaseEnv, runMigrations } from '../adapters/db/index.ts';

const log = createLogger({ name: 'vendor-bff-migrate', level: process.env['LOG_LEVEL'] ?? 'info' });
const config = loadConfigOrExit(databaseEnv, process.env);
if (config.DATABASE_URL === undefined) {
  log.warn(
    {},
    'DATABASE_URL is not set: migrating an embedded PGlite, which only makes sense with PGLITE_DATA_DIR',
  );
}
const db = await createDatabase(config, log);
try {
  const report = await runMigrations(db, log);
  log.info({ applied: report.applied, alreadyApplied: report.alreadyApplied }, 'migrations done');
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  await db.close();
}
