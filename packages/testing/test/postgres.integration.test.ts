import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../src/index.ts';

describe('createTestSchema', () => {
  let a: TestSchema;
  let b: TestSchema;

  beforeAll(async () => {
    a = await createTestSchema({ prefix: 'testing' });
    b = await createTestSchema({ prefix: 'testing' });
  });

  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
  });

  it('round-trips rows through a table in its own schema', async () => {
    await a.pool.query('CREATE TABLE orders (id int PRIMARY KEY, store text NOT NULL)');
    await a.pool.query('INSERT INTO orders VALUES ($1, $2), ($3, $4)', [1, 'gangnam', 2, 'mapo']);
    const { rows } = await a.pool.query<{ id: number; store: string }>(
      'SELECT id, store FROM orders ORDER BY id',
    );
    expect(rows).toEqual([
      { id: 1, store: 'gangnam' },
      { id: 2, store: 'mapo' },
    ]);
    const where = await a.pool.query<{ schema: string }>(
      "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'orders'",
    );
    expect(where.rows.map((r) => r.schema)).toContain(a.schema);
  });

  it('every pooled connection resolves names in the schema, not public', async () => {
    const clients = await Promise.all([a.pool.connect(), a.pool.connect(), a.pool.connect()]);
    try {
      for (const client of clients) {
        const { rows } = await client.query<{ s: string }>('SELECT current_schema() AS s');
        expect(rows[0]?.s).toBe(a.schema);
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('two schemas do not see each other’s tables', async () => {
    await a.pool.query('CREATE TABLE only_in_a (v int)');
    await b.pool.query('CREATE TABLE only_in_b (v int)');
    await expect(b.pool.query('SELECT * FROM only_in_a')).rejects.toMatchObject({ code: '42P01' });
    await expect(a.pool.query('SELECT * FROM only_in_b')).rejects.toMatchObject({ code: '42P01' });
    // The same table name in both holds different rows.
    await a.pool.query('CREATE TABLE shared_name (v int)');
    await b.pool.query('CREATE TABLE shared_name (v int)');
    await a.pool.query('INSERT INTO shared_name VALUES (1)');
    const { rowCount } = await b.pool.query('SELECT * FROM shared_name');
    expect(rowCount).toBe(0);
  });

  it('cleanup drops the schema and everything in it', async () => {
    const c = await createTestSchema({ prefix: 'testing' });
    await c.pool.query('CREATE TABLE t (v int)');
    await c.cleanup();
    await c.cleanup();
    const { rowCount } = await a.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [c.schema]);
    expect(rowCount).toBe(0);
  });
});
