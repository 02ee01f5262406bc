import { parseEnv } from '@eta/config';
import { describe, expect, it } from 'vitest';
import { databaseEnv, openDatabase } from '../../src/adapters/db/index.ts';
import { silentLog } from './support.ts';

// Starting PGlite (a WebAssembly Postgres) takes seconds on a busy machine: a generous runner timeout.
describe('openDatabase (what main.ts calls)', { timeout: 30_000 }, () => {
  it('without DATABASE_URL: embedded, migrated and seeded, so the service works with no env at all', async () => {
    const config = parseEnv(databaseEnv, { SEED_STORES: '50' });
    expect(config).toMatchObject({ MIGRATE_ON_START: true, SEED_ON_START: true });
    expect(config.DATABASE_URL).toBeUndefined();
    const db = await openDatabase(config, silentLog);
    try {
      expect(db.kind).toBe('pglite');
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM stores');
      expect(rows[0]?.n).toBe(50);
      await db.ping();
    } finally {
      await db.close();
    }
    await expect(db.ping()).rejects.toThrow(/closed/);
  });

  it('with MIGRATE_ON_START=false and SEED_ON_START=false: touches nothing', async () => {
    const db = await openDatabase(
      parseEnv(databaseEnv, { MIGRATE_ON_START: 'false', SEED_ON_START: 'false' }),
      silentLog,
    );
    try {
      const { rows } = await db.query<{ t: string | null }>(`SELECT to_regclass('stores')::text AS t`);
      expect(rows[0]?.t).toBeNull();
    } finally {
      await db.close();
    }
  });
});
