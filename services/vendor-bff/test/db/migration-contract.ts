import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadMigrations, MigrationError, runMigrations, type Database } from '../../src/adapters/db/index.ts';
import { silentLog } from './support.ts';

export interface OpenedDb {
  readonly db: Database;
  close(): Promise<void>;
}

/**
 * The same assertions on both engines: the migrations must behave identically on real Postgres and on
 * PGlite, since local runs use one and production the other.
 */
export function migrationContract(open: () => Promise<OpenedDb>): void {
  let opened: OpenedDb;
  let db: Database;

  beforeAll(async () => {
    opened = await open();
    db = opened.db;
  }, 30_000);
  afterAll(async () => {
    await opened.close();
  });

  it('applies every migration once, records it, and a rerun applies nothing', async () => {
    const all = await loadMigrations();
    expect(all.length).toBeGreaterThan(0);
    const first = await runMigrations(db, silentLog);
    expect(first.applied).toEqual(all.map((m) => `${String(m.version).padStart(4, '0')}_${m.name}`));
    const second = await runMigrations(db, silentLog);
    expect(second).toEqual({ applied: [], alreadyApplied: all.length });
    const { rows } = await db.query<{ version: number; checksum: string }>(
      'SELECT version, checksum FROM schema_migrations ORDER BY version',
    );
    expect(rows).toEqual(all.map((m) => ({ version: m.version, checksum: m.checksum })));
  });

  it('refuses to run when an applied migration was edited', async () => {
    const [first, ...rest] = await loadMigrations();
    const edited = { ...first!, sql: `${first!.sql}\n-- edited`, checksum: 'f'.repeat(64) };
    await expect(runMigrations(db, silentLog, [edited, ...rest])).rejects.toBeInstanceOf(MigrationError);
  });

  it('a failing migration leaves neither its changes nor its record', async () => {
    const broken = {
      version: 9_999,
      name: 'broken',
      sql: 'CREATE TABLE half_done (id int); SELECT 1/0;',
      checksum: '0'.repeat(64),
    };
    await expect(runMigrations(db, silentLog, [broken])).rejects.toThrow(/division by zero/);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM schema_migrations WHERE version = 9999`,
    );
    expect(rows[0]?.n).toBe(0);
    const table = await db.query<{ t: string | null }>(`SELECT to_regclass('half_done')::text AS t`);
    expect(table.rows[0]?.t).toBeNull();
  });

  it('accepts a valid store with settings defaults', async () => {
    await db.exec(
      `INSERT INTO stores (id, name, lat, lng, category) VALUES (1, 'Store 1', 37.5, 127.0, 'meal')`,
    );
    await db.exec('INSERT INTO store_settings (store_id) VALUES (1)');
    const { rows } = await db.query<{ version: number; auto_prediction: boolean }>(
      'SELECT version, auto_prediction FROM store_settings WHERE store_id = 1',
    );
    expect(rows).toEqual([{ version: 1, auto_prediction: true }]);
  });

  it.each([
    [
      'an unknown category',
      `INSERT INTO stores (id, name, lat, lng, category) VALUES (2, 'x', 37.5, 127, 'pizza')`,
    ],
    [
      'a latitude off the globe',
      `INSERT INTO stores (id, name, lat, lng, category) VALUES (2, 'x', 91, 127, 'meal')`,
    ],
    [
      'a malformed dong code',
      `INSERT INTO stores (id, name, lat, lng, category, dong_code) VALUES (2, 'x', 37.5, 127, 'meal', '11')`,
    ],
    [
      'a non-positive id',
      `INSERT INTO stores (id, name, lat, lng, category) VALUES (0, 'x', 37.5, 127, 'meal')`,
    ],
    ['negative preparation minutes', 'UPDATE store_settings SET manual_prep_minutes = -1 WHERE store_id = 1'],
    [
      'negative delivery minutes',
      'UPDATE store_settings SET manual_delivery_minutes = -5 WHERE store_id = 1',
    ],
    [
      'min above max',
      'UPDATE store_settings SET min_shown_minutes = 40, max_shown_minutes = 30 WHERE store_id = 1',
    ],
    ['busy minutes without an end', 'UPDATE store_settings SET busy_extra_minutes = 10 WHERE store_id = 1'],
    [
      'a busy end without minutes',
      `UPDATE store_settings SET busy_until = now() + interval '1 hour' WHERE store_id = 1`,
    ],
    [
      'zero busy minutes',
      `UPDATE store_settings SET busy_extra_minutes = 0, busy_until = now() WHERE store_id = 1`,
    ],
    ['settings of a store that does not exist', 'INSERT INTO store_settings (store_id) VALUES (424242)'],
    [
      'an audit row without an actor',
      `INSERT INTO settings_audit (store_id, actor, before, after) VALUES (1, '', '{}', '{}')`,
    ],
  ])('rejects %s', async (_label, sql) => {
    // Only a CHECK or foreign-key violation counts: a unique or syntax error would pass for the wrong reason.
    await expect(db.exec(sql)).rejects.toThrow(/violates (check|foreign key) constraint/);
  });

  it('accepts a busy mode with both columns and a min/max range', async () => {
    await db.exec(
      `UPDATE store_settings SET busy_extra_minutes = 10, busy_until = now() + interval '1 hour',
         min_shown_minutes = 20, max_shown_minutes = 20 WHERE store_id = 1`,
    );
    const { rowCount } = await db.query(
      'SELECT 1 FROM store_settings WHERE store_id = 1 AND busy_until IS NOT NULL',
    );
    expect(rowCount).toBe(1);
  });
}
