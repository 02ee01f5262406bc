import { envBool, envInt, envUrl, z } from '@eta/config';

/**
 * The data layer's env keys, to merge into the service schema: `serviceEnv.extend(databaseEnv.shape)`.
 * Without DATABASE_URL the service runs on embedded PGlite, which is the safe local default; a
 * production chart always sets DATABASE_URL (from a secret).
 */
export const databaseEnv = z.object({
  DATABASE_URL: envUrl(['postgres', 'postgresql']).optional(),
  /** Per pod. Three roles x N pods x this must stay below the server's max_connections. */
  DATABASE_POOL_MAX: envInt(10, { min: 1, max: 100 }),
  DATABASE_CONNECT_TIMEOUT_MS: envInt(2_000, { min: 1 }),
  /** Server-side statement_timeout; the client gives up one second later. */
  DATABASE_STATEMENT_TIMEOUT_MS: envInt(2_000, { min: 1 }),
  DATABASE_IDLE_TIMEOUT_MS: envInt(30_000, { min: 1 }),
  /** Embedded PGlite only: a directory to keep the data in; unset keeps it in memory. */
  PGLITE_DATA_DIR: z.string().optional(),
  /** Apply pending migrations at start (advisory-locked, so several pods may start at once). */
  MIGRATE_ON_START: envBool(true),
  /** Embedded PGlite only: seed the demo stores at start when the stores table is empty. */
  SEED_ON_START: envBool(true),
  /** How many stores the seed writes (ids 1..N). */
  SEED_STORES: envInt(5_000, { min: 1, max: 1_000_000 }),
});

export type DatabaseEnvConfig = z.output<typeof databaseEnv>;
