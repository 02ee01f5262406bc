import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgres, runMigrations } from '../../src/adapters/db/index.ts';
import { migrationContract } from './migration-contract.ts';
import { databaseUrl, postgresSchema, silentLog, testPool, type SchemaDb } from './support.ts';

describe('migrations on Postgres', () => {
  migrationContract(async () => {
    const s = await postgresSchema('migrate');
    return { db: s.db, close: () => s.drop() };
  });
});

describe('two pods migrating at once', () => {
  let target: SchemaDb;
  beforeAll(async () => {
    target = await postgresSchema('race');
  });
  afterAll(async () => {
    await target.drop();
  });

  it('apply each migration exactly once, the loser waits on the advisory lock', async () => {
    // Separate pools stand in for separate pods: separate sessions competing for the lock.
    const pods = await Promise.all(
      [1, 2, 3].map(() => createPostgres(databaseUrl(), testPool, silentLog, { searchPath: target.schema })),
    );
    try {
      const reports = await Promise.all(pods.map((db) => runMigrations(db, silentLog)));
      const applied = reports.flatMap((r) => r.applied);
      const { rows } = await target.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM schema_migrations',
      );
      expect(applied).toHaveLength(rows[0]!.n);
      expect(new Set(applied).size).toBe(applied.length);
      expect(reports.reduce((n, r) => n + r.alreadyApplied, 0)).toBe(2 * applied.length);
    } finally {
      await Promise.all(pods.map((db) => db.close()));
    }
  });
});
