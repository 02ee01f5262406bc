// createTestBigQuery against the emulator scripts/backing-services.sh starts (bqemulator 1.4.0): a dataset
// per test, queries with parameters, cleanup; and a record of what the emulator does with insertIds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestBigQuery, type TestBigQuery } from '../src/index.ts';

describe('createTestBigQuery', () => {
  let a: TestBigQuery;
  let b: TestBigQuery;

  beforeAll(async () => {
    a = await createTestBigQuery({ prefix: 'testing', create: true });
    b = await createTestBigQuery({ prefix: 'testing' });
  });

  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
  });

  it('gives each test a dataset of its own, created only when asked', async () => {
    expect(a.dataset).not.toBe(b.dataset);
    expect((await a.bigquery.dataset(a.dataset).exists())[0]).toBe(true);
    expect((await b.bigquery.dataset(b.dataset).exists())[0]).toBe(false);
    expect(a.env).toEqual({
      BIGQUERY_PROJECT: a.projectId,
      BIGQUERY_EMULATOR_HOST: `${a.apiEndpoint}/bigquery/v2`,
      BIGQUERY_DATASET: a.dataset,
    });
  });

  it('runs parameterised GoogleSQL, and (bqemulator 1.4.0) keeps both rows of one insertId', async () => {
    const [table] = await a.bigquery.dataset(a.dataset).createTable('t', {
      schema: {
        fields: [
          { name: 'k', type: 'STRING', mode: 'REQUIRED' },
          { name: 'd', type: 'DATE', mode: 'REQUIRED' },
        ],
      },
      timePartitioning: { type: 'DAY', field: 'd' },
    });
    const row = { insertId: 'same', json: { k: 'x', d: '2026-12-06' } };
    await table.insert([row], { raw: true });
    await table.insert([row], { raw: true });
    const ref = `\`${a.projectId}.${a.dataset}.t\``;
    const raw = await a.query<{ n: number }>(`SELECT count(*) AS n FROM ${ref} WHERE d = @d`, {
      d: a.bigquery.date('2026-12-06'),
    });
    // Real BigQuery would usually (best effort) drop the second copy; this emulator never does, which is
    // why tests of "one row per key" read through a deduping query.
    expect(Number(raw[0]!.n)).toBe(2);
    const deduped = await a.query<{ k: string }>(
      `SELECT k FROM ${ref} WHERE d = @d QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY d) = 1`,
      { d: a.bigquery.date('2026-12-06') },
    );
    expect(deduped).toEqual([{ k: 'x' }]);
  });

  it('cleanup deletes the dataset with its tables, and is safe twice', async () => {
    const c = await createTestBigQuery({ prefix: 'testing', create: true });
    await c.bigquery
      .dataset(c.dataset)
      .createTable('t', { schema: { fields: [{ name: 'k', type: 'STRING' }] } });
    await c.cleanup();
    await c.cleanup();
    expect((await a.bigquery.dataset(c.dataset).exists())[0]).toBe(false);
  });
});
