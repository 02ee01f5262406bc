import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { requireEnv, uniqueId } from './index.ts';

/**
 * A dataset of one test's own on the BigQuery emulator that scripts/backing-services.sh starts
 * (scripts/bigquery/emulator.sh: bqemulator, a real server speaking BigQuery's REST API). It reads
 * BIGQUERY_EMULATOR_HOST (`http://127.0.0.1:PORT/bigquery/v2`) and BIGQUERY_PROJECT as the test command
 * exports them, and deletes the dataset with everything in it on cleanup.
 *
 * What bqemulator 1.4.0 does not do like BigQuery: it does not deduplicate streaming inserts by insertId
 * (two inserts with one insertId are two rows), so a test of "one row per key" must read through a
 * deduping query, as real readers must anyway (insertId dedup is best effort in BigQuery too).
 */
export interface TestBigQuery {
  /** A client on the emulator with a fixed access token (no cloud credentials are looked for). */
  readonly bigquery: BigQuery;
  readonly projectId: string;
  /** A dataset id no other test uses; created only with `create: true` (code under test may create it). */
  readonly dataset: string;
  /** `http://127.0.0.1:PORT`, without `/bigquery/v2` (the client's `apiEndpoint`). */
  readonly apiEndpoint: string;
  /** The env a service under test needs to reach this dataset on the emulator. */
  readonly env: {
    readonly BIGQUERY_PROJECT: string;
    readonly BIGQUERY_EMULATOR_HOST: string;
    readonly BIGQUERY_DATASET: string;
  };
  /** Runs a query (with named parameters) and answers its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<R[]>;
  /** Deletes the dataset and its tables, if it exists. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface TestBigQueryOptions {
  /** Readable start of the dataset id (letters, digits, underscores). Default `t`. */
  readonly prefix?: string;
  /** Create the dataset now (default false). */
  readonly create?: boolean;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A client for the emulator at `apiEndpoint`: a fixed token, never a look for Google credentials. */
export function emulatorBigQuery(apiEndpoint: string, projectId: string): BigQuery {
  const authClient = new OAuth2Client();
  authClient.setCredentials({ access_token: 'emulator', expiry_date: Date.now() + 10 * 365 * 86_400_000 });
  const bq = new BigQuery({ projectId, apiEndpoint, authClient } as ConstructorParameters<
    typeof BigQuery
  >[0]);
  // The client prefers process.env.BIGQUERY_EMULATOR_HOST over apiEndpoint; the argument wins here.
  bq.baseUrl = `${apiEndpoint}/bigquery/v2`;
  return bq;
}

export async function createTestBigQuery(options: TestBigQueryOptions = {}): Promise<TestBigQuery> {
  const env = options.env ?? process.env;
  const host = requireEnv('BIGQUERY_EMULATOR_HOST', env);
  const projectId = requireEnv('BIGQUERY_PROJECT', env);
  if (!/\/bigquery\/v2\/?$/.test(host)) {
    throw new TypeError(`BIGQUERY_EMULATOR_HOST must end in /bigquery/v2 (got ${host})`);
  }
  const prefix = options.prefix ?? 't';
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(prefix)) {
    throw new TypeError(`dataset prefix ${JSON.stringify(prefix)} must match ^[A-Za-z][A-Za-z0-9_]{0,30}$`);
  }
  const apiEndpoint = host.replace(/\/bigquery\/v2\/?$/, '');
  const dataset = `${prefix}_${uniqueId()}`;
  const bigquery = emulatorBigQuery(apiEndpoint, projectId);
  try {
    if (options.create === true) await bigquery.dataset(dataset).create();
    else await bigquery.getDatasets({ maxResults: 1 });
  } catch (err) {
    throw new Error(
      `cannot reach the BigQuery emulator at ${host}. Start it with\n` +
        '  eval "$(scripts/backing-services.sh up)"\n' +
        '(scripts/bigquery/emulator.sh; docs/runbooks/backing-services.md).',
      { cause: err },
    );
  }
  let cleaned = false;
  return {
    bigquery,
    projectId,
    dataset,
    apiEndpoint,
    env: { BIGQUERY_PROJECT: projectId, BIGQUERY_EMULATOR_HOST: host, BIGQUERY_DATASET: dataset },
    async query<R>(sql: string, params?: Record<string, unknown>) {
      const [rows] = await bigquery.query({ query: sql, ...(params !== undefined ? { params } : {}) });
      return rows as R[];
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      const ds = bigquery.dataset(dataset);
      const [exists] = await ds.exists();
      if (exists) await ds.delete({ force: true });
    },
  };
}
