// Seeds the deterministic Seoul stores: `pnpm --dir services/vendor-bff seed [--count N] [--seed S]`.
// Applies pending migrations first (idempotent), then inserts ids 1..N that are missing; existing stores
// and their settings are left untouched, so it is safe to rerun against a live database.
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@eta/config';
import { createLogger } from '@eta/service-kit';
import { createDatabase, databaseEnv, runMigrations, seedStores } from '../adapters/db/index.ts';

const USAGE = 'usage: pnpm --dir services/vendor-bff seed [--count N] [--seed S]';

// pnpm forwards a literal `--` (`pnpm seed -- --count 100`); both spellings are accepted.
const argv = process.argv.slice(2).filter((a) => a !== '--');
let parsed;
try {
  parsed = parseArgs({
    args: argv,
    options: { count: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
} catch (err) {
  // An unknown option or a missing value: parseArgs's own message, never a stack trace.
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const { values } = parsed;
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const log = createLogger({ name: 'vendor-bff-seed', level: process.env['LOG_LEVEL'] ?? 'info' });
const config = loadConfigOrExit(databaseEnv, process.env);
const count = values.count === undefined ? config.SEED_STORES : Number(values.count);
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (!Number.isInteger(count) || count < 1 || (seed !== undefined && !Number.isInteger(seed))) {
  log.error({ count: values.count, seed: values.seed }, '--count and --seed must be integers (count >= 1)');
  process.exit(1);
}

const db = await createDatabase(config, log);
try {
  await runMigrations(db, log);
  const started = performance.now();
  const report = await seedStores(db, log, { count, ...(seed !== undefined ? { seed } : {}) });
  log.info({ ...report, ms: Math.round(performance.now() - started) }, 'seed done');
} catch (err) {
  log.error({ err }, 'seed failed');
  process.exitCode = 1;
} finally {
  await db.close();
}
