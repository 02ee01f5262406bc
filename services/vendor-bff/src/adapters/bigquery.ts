import { BigQuery, type TableMetadata } from '@google-cloud/bigquery';
import {
  TRAINING_ROWS_BIGQUERY_FIELDS,
  TRAINING_ROWS_CLUSTER_FIELDS,
  TRAINING_ROWS_PARTITION_FIELD,
  TRAINING_ROWS_TABLE,
  type TrainingRow,
} from '@eta/contracts';
import { OAuth2Client } from 'google-auth-library';
import { schemaIssues, type TrainingRowsSink } from '../domain/training-rows.ts';

/**
 * BigQuery for the training rows (ROLE=events; docs/adr/0007-training-rows.md), through
 * `@google-cloud/bigquery`'s REST client: the dataset and the day-partitioned table created when absent,
 * then streaming inserts (insertAll) with insertId = order_id. Every call has a deadline; the client's own
 * retries are off, the shipper retries with backoff.
 *
 * Credentials: Application Default Credentials (on GKE the pod's Kubernetes ServiceAccount through
 * Workload Identity). Against the emulator (BIGQUERY_EMULATOR_HOST, or a plain-http BIGQUERY_API_ENDPOINT)
 * a fixed access token instead, so no cloud credential is looked for and none would go out unencrypted.
 */

export interface BigQueryTarget {
  readonly project: string;
  readonly dataset: string;
  /** Where a dataset is created (e.g. asia-northeast3); BigQuery's default (US) when unset. */
  readonly location?: string | undefined;
  /** `http(s)://host[:port]`, without `/bigquery/v2`; Google's endpoint when unset. */
  readonly apiEndpoint?: string | undefined;
  /** A fixed access token instead of Application Default Credentials (the emulator). */
  readonly emulator: boolean;
  /** Deadline of one call (one HTTP request: the client's own retries are off). */
  readonly timeoutMs: number;
}

/** The BigQuery settings of the config, or undefined without BIGQUERY_PROJECT (Postgres only). */
export function bigQueryTarget(c: {
  BIGQUERY_PROJECT?: string | undefined;
  BIGQUERY_DATASET: string;
  BIGQUERY_LOCATION?: string | undefined;
  BIGQUERY_API_ENDPOINT?: string | undefined;
  BIGQUERY_EMULATOR_HOST?: string | undefined;
  TRAINING_ROWS_SHIP_TIMEOUT_MS: number;
}): BigQueryTarget | undefined {
  if (c.BIGQUERY_PROJECT === undefined) return undefined;
  const endpoint =
    c.BIGQUERY_EMULATOR_HOST !== undefined
      ? c.BIGQUERY_EMULATOR_HOST.replace(/\/bigquery\/v2\/?$/, '')
      : c.BIGQUERY_API_ENDPOINT?.replace(/\/+$/, '');
  return {
    project: c.BIGQUERY_PROJECT,
    dataset: c.BIGQUERY_DATASET,
    location: c.BIGQUERY_LOCATION,
    apiEndpoint: endpoint,
    emulator: c.BIGQUERY_EMULATOR_HOST !== undefined || (endpoint?.startsWith('http://') ?? false),
    timeoutMs: c.TRAINING_ROWS_SHIP_TIMEOUT_MS,
  };
}

/** A BigQuery call that did not answer within its deadline. */
export class BigQueryDeadlineError extends Error {
  readonly code = 'BIGQUERY_DEADLINE';
  constructor(what: string, ms: number) {
    super(`BigQuery ${what} did not answer within ${ms} ms`);
    this.name = 'BigQueryDeadlineError';
  }
}

/** An existing table the rows do not fit; shipping waits until it is fixed (the rows stay in Postgres). */
export class BigQuerySchemaError extends Error {
  readonly code = 'BIGQUERY_SCHEMA_MISMATCH';
  readonly issues: readonly string[];
  constructor(table: string, issues: readonly string[]) {
    super(`BigQuery table ${table} does not match the training-row contract: ${issues.join('; ')}`);
    this.name = 'BigQuerySchemaError';
    this.issues = issues;
  }
}

/** Rejects after `ms` whatever the call does (a hung token fetch included); the call itself is left to end. */
async function withDeadline<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      call(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BigQueryDeadlineError(what, ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const codeOf = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;

/** The BigQuery client of a target (also what tests read back with). */
export function bigQueryClient(target: BigQueryTarget): BigQuery {
  let authClient: OAuth2Client | undefined;
  if (target.emulator) {
    authClient = new OAuth2Client();
    // Far in the future, so the client never tries to refresh it (there is nothing to refresh it with).
    authClient.setCredentials({ access_token: 'emulator', expiry_date: Date.now() + 10 * 365 * 86_400_000 });
  }
  const bq = new BigQuery({
    projectId: target.project,
    ...(target.location !== undefined ? { location: target.location } : {}),
    ...(target.apiEndpoint !== undefined ? { apiEndpoint: target.apiEndpoint } : {}),
    ...(authClient !== undefined ? { authClient } : {}),
    // One HTTP request per call, bounded; the shipper owns retrying (with backoff, never in a tight loop).
    retryOptions: { autoRetry: false, maxRetries: 0 },
    timeout: target.timeoutMs,
  } as ConstructorParameters<typeof BigQuery>[0]);
  // The client sends every request to process.env.BIGQUERY_EMULATOR_HOST when that is set, whatever
  // apiEndpoint says; the target decides here (it was parsed from the same variable in a deployment).
  bq.baseUrl = `${target.apiEndpoint ?? 'https://bigquery.googleapis.com'}/bigquery/v2`;
  return bq;
}

export interface SinkLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export function createTrainingRowsSink(target: BigQueryTarget, log: SinkLog): TrainingRowsSink {
  const bq = bigQueryClient(target);
  const dataset = bq.dataset(
    target.dataset,
    target.location !== undefined ? { location: target.location } : {},
  );
  const table = dataset.table(TRAINING_ROWS_TABLE);
  const name = `${target.project}.${target.dataset}.${TRAINING_ROWS_TABLE}`;
  const ms = target.timeoutMs;

  return {
    table: name,
    async ensure() {
      const [datasetExists] = await withDeadline('dataset lookup', ms, () => dataset.exists());
      if (!datasetExists) {
        try {
          await withDeadline('dataset create', ms, () =>
            dataset.create(target.location !== undefined ? { location: target.location } : {}),
          );
          log.info(
            { dataset: target.dataset, location: target.location ?? 'default' },
            'bigquery: dataset created',
          );
        } catch (err) {
          // Another pod (or Terraform) created it in between: what we wanted.
          if (codeOf(err) !== 409) throw err;
        }
      }
      const [tableExists] = await withDeadline('table lookup', ms, () => table.exists());
      if (!tableExists) {
        const metadata: TableMetadata = {
          description:
            'Training rows of the delivery-ETA suite: one per delivered order scored against an eta-precise ' +
            'answer (vendor-bff ROLE=events). Readers dedupe on order_id (docs/adr/0007-training-rows.md).',
          schema: { fields: TRAINING_ROWS_BIGQUERY_FIELDS.map((f) => ({ ...f })) },
          timePartitioning: { type: 'DAY', field: TRAINING_ROWS_PARTITION_FIELD },
          clustering: { fields: [...TRAINING_ROWS_CLUSTER_FIELDS] },
        };
        try {
          await withDeadline('table create', ms, () => dataset.createTable(TRAINING_ROWS_TABLE, metadata));
          log.info(
            { table: name },
            'bigquery: table created (day partitions on seoul_date, clustered by store_id)',
          );
        } catch (err) {
          if (codeOf(err) !== 409) throw err;
        }
      }
      const [meta] = (await withDeadline('table metadata', ms, () => table.getMetadata())) as unknown as [
        TableMetadata,
      ];
      const issues = schemaIssues(meta.schema?.fields as { name?: string; type?: string; mode?: string }[]);
      if (issues.length > 0) throw new BigQuerySchemaError(name, issues);
      if (meta.timePartitioning?.field !== TRAINING_ROWS_PARTITION_FIELD) {
        // It still takes the rows; readers just scan more. Said once per start, not refused.
        log.warn(
          { table: name, partitioning: meta.timePartitioning ?? null },
          'bigquery: the table is not day-partitioned on seoul_date (created by someone else?)',
        );
      }
    },
    async insert(rows: readonly TrainingRow[]) {
      if (rows.length === 0) return;
      await withDeadline(`insert of ${rows.length} rows`, ms, () =>
        table.insert(
          rows.map((json) => ({ insertId: json.order_id, json })),
          // Raw rows with our insertIds; one invalid row fails the request whole (nothing inserted), and the
          // client does not retry the rest by itself.
          { raw: true, skipInvalidRows: false, ignoreUnknownValues: false, partialRetries: 0 },
        ),
      );
    },
    async close() {
      // The REST client holds no connection of its own beyond Node's keep-alive sockets.
    },
  };
}
