import { ConfigError, parseEnv } from '@eta/config';
import {
  TRAINING_ROWS_BIGQUERY_FIELDS,
  TRAINING_ROWS_CLUSTER_FIELDS,
  TRAINING_ROWS_PARTITION_FIELD,
  trainingRowsReaderSql,
} from '@eta/contracts';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bigQueryTarget } from '../../src/adapters/bigquery.ts';
import { configSchema } from '../../src/config.ts';
import { schemaIssues, shipBackoffMs } from '../../src/domain/training-rows.ts';

const contract = TRAINING_ROWS_BIGQUERY_FIELDS.map((f) => ({ name: f.name, type: f.type, mode: f.mode }));

describe('schemaIssues', () => {
  it('accepts the contract, in the legacy type names BigQuery answers with, and extra nullable columns', () => {
    expect(schemaIssues(contract)).toEqual([]);
    const legacy = contract.map((f) => ({
      ...f,
      type: f.type === 'INT64' ? 'INTEGER' : f.type === 'FLOAT64' ? 'FLOAT' : f.type,
    }));
    expect(schemaIssues([...legacy, { name: 'note', type: 'STRING', mode: 'NULLABLE' }])).toEqual([]);
  });

  it('names a missing column, a wrong type and a required column the sink does not write', () => {
    const fields = contract
      .filter((f) => f.name !== 'p90')
      .map((f) => (f.name === 'features' ? { ...f, type: 'JSON' } : f));
    expect(schemaIssues([...fields, { name: 'event_id', type: 'STRING', mode: 'REQUIRED' }])).toEqual([
      'column features is JSON, not STRING',
      'column p90 is missing',
      'column event_id is REQUIRED and not one the sink writes',
    ]);
    expect(schemaIssues(undefined)).toHaveLength(TRAINING_ROWS_BIGQUERY_FIELDS.length);
  });
});

describe("Terraform's training_rows table", () => {
  const module = new URL('../../../../terraform/modules/bigquery/', import.meta.url);
  it("has the contract's columns, partition and clustering, so the shipper accepts it", () => {
    const fields = JSON.parse(readFileSync(new URL('schemas/training_rows.json', module), 'utf8')) as {
      name: string;
      type: string;
      mode: string;
      description: string;
    }[];
    expect(fields).toEqual(TRAINING_ROWS_BIGQUERY_FIELDS);
    expect(schemaIssues(fields)).toEqual([]);
    const main = readFileSync(new URL('main.tf', module), 'utf8');
    const table = /resource "google_bigquery_table" "training_rows" \{([\s\S]*?)\n\}/.exec(main)?.[1] ?? '';
    expect(/time_partitioning \{[^}]*field\s*=\s*"([a-z_]+)"/.exec(table)?.[1]).toBe(
      TRAINING_ROWS_PARTITION_FIELD,
    );
    expect(/clustering\s*=\s*\[([^\]]*)\]/.exec(table)?.[1]?.match(/[a-z_]+/g)).toEqual([
      ...TRAINING_ROWS_CLUSTER_FIELDS,
    ]);
  });
});

describe('shipBackoffMs', () => {
  it('doubles from one second up to the cap', () => {
    expect([0, 1, 2, 3, 9, 10, 50].map((n) => shipBackoffMs(n, 300_000))).toEqual([
      0, 1_000, 2_000, 4_000, 256_000, 300_000, 300_000,
    ]);
  });
});

describe('the reader query', () => {
  it('keeps the earliest written copy of each order in a range of Seoul days, in plain GoogleSQL', () => {
    const sql = trainingRowsReaderSql('eta-prod.eta_prod.training_rows');
    expect(sql).toContain('FROM `eta-prod.eta_prod.training_rows`');
    expect(sql).toContain('WHERE seoul_date BETWEEN @from AND @to');
    expect(sql).toContain('QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY written_at) = 1');
    expect(() => trainingRowsReaderSql('x`; DROP TABLE y; --.a.b')).toThrow(TypeError);
  });
});

describe('BigQuery settings', () => {
  const base = { ROLE: 'events', SERVICE_TOKENS: 'tests:0123456789abcdef0123456789abcdef' };

  it('unset project: Postgres only, whatever the defaults', () => {
    const c = parseEnv(configSchema, base);
    expect(bigQueryTarget(c)).toBeUndefined();
    expect(c.BIGQUERY_DATASET).toBe('eta_training');
    expect(c.TRAINING_ROWS_RETENTION_DAYS).toBe(90);
  });

  it('Google with Application Default Credentials; the emulator, or a plain-http endpoint, with a fixed token', () => {
    const google = bigQueryTarget(
      parseEnv(configSchema, { ...base, BIGQUERY_PROJECT: 'eta-prod', BIGQUERY_LOCATION: 'asia-northeast3' }),
    );
    expect(google).toMatchObject({ project: 'eta-prod', dataset: 'eta_training', emulator: false });
    expect(google?.apiEndpoint).toBeUndefined();
    const emulator = bigQueryTarget(
      parseEnv(configSchema, {
        ...base,
        BIGQUERY_PROJECT: 'eta-test',
        BIGQUERY_EMULATOR_HOST: 'http://127.0.0.1:9050/bigquery/v2',
      }),
    );
    expect(emulator).toMatchObject({ apiEndpoint: 'http://127.0.0.1:9050', emulator: true });
    const psc = bigQueryTarget(
      parseEnv(configSchema, {
        ...base,
        BIGQUERY_PROJECT: 'eta-prod',
        BIGQUERY_API_ENDPOINT: 'https://bigquery-eta.p.googleapis.com/',
      }),
    );
    expect(psc).toMatchObject({ apiEndpoint: 'https://bigquery-eta.p.googleapis.com', emulator: false });
  });

  it('refuses keys that do nothing or contradict each other, all at once', () => {
    const err = (() => {
      try {
        parseEnv(configSchema, {
          ...base,
          BIGQUERY_LOCATION: 'asia-northeast3',
          BIGQUERY_EMULATOR_HOST: 'http://127.0.0.1:9050',
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.key).sort()).toEqual([
      'BIGQUERY_EMULATOR_HOST',
      'BIGQUERY_EMULATOR_HOST',
      'BIGQUERY_LOCATION',
    ]);
    expect(() =>
      parseEnv(configSchema, {
        ...base,
        BIGQUERY_PROJECT: 'eta-test',
        BIGQUERY_API_ENDPOINT: 'http://127.0.0.1:9050',
        BIGQUERY_EMULATOR_HOST: 'http://127.0.0.1:9050/bigquery/v2',
      }),
    ).toThrow(/set it or BIGQUERY_EMULATOR_HOST, not both/);
  });
});
