import { z } from 'zod';
import { FeatureVector } from './events/predictions.ts';

/**
 * Training rows (issue 13; docs/adr/0007-training-rows.md): one per delivered order joined to its checkout
 * precise prediction that came from the model, written by vendor-bff's events role in Postgres
 * (`training_rows`, services/vendor-bff/migrations/0003_training_rows.sql) and copied from there to
 * BigQuery (`<dataset>.training_rows`). Defined here once for the writer, the tests and any reader in
 * TypeScript; the retrain job (Python) reads the same columns.
 */

/** The only model whose answers become training rows: the one the retrain job retrains. */
export const TRAINING_ROW_MODEL = 'eta-precise';

/** BigQuery: the dataset when BIGQUERY_DATASET is unset, and the table's name in it. */
export const TRAINING_DATASET_DEFAULT = 'eta_training';
export const TRAINING_ROWS_TABLE = 'training_rows';

/** One row as the sink sends it to BigQuery (and as a reader gets it back, timestamps as RFC 3339). */
export const TrainingRow = z.object({
  order_id: z.string().min(1),
  /** The prediction event's eventId. */
  prediction_id: z.string().min(1),
  store_id: z.number().int().positive(),
  dong_code: z.string().regex(/^[0-9]{10}$/),
  ordered_at: z.string(),
  delivered_at: z.string(),
  predicted_at: z.string(),
  /** The day the order was placed, in Asia/Seoul (YYYY-MM-DD): the table's partition. */
  seoul_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  seoul_hour: z.number().int().min(0).max(23),
  /** `eta-precise`. */
  model: z.string().min(1),
  /** The version that answered, e.g. `2`. */
  model_version: z.string().min(1),
  /**
   * The row exactly as sent to the model: `{featureName: number|null}`, names as the model's
   * metadata.json `features[].name`. A JSON object in a STRING column (BigQuery arrays cannot hold null).
   */
  features: z.string(),
  /** The model's raw quantiles, in minutes (before the owner's settings and rounding). */
  p10: z.number(),
  p50: z.number(),
  p90: z.number(),
  /** The etaMinutes the customer was shown. */
  shown_minutes: z.number(),
  actual_minutes: z.number(),
  /** When the row was written in Postgres: readers keep the earliest copy of an order. */
  written_at: z.string(),
});
export type TrainingRow = z.infer<typeof TrainingRow>;

/** The features column parsed back (what a reader feeds the model). */
export const TrainingFeatures = FeatureVector;

export interface BigQueryField {
  readonly name: keyof TrainingRow;
  readonly type: 'STRING' | 'INT64' | 'FLOAT64' | 'TIMESTAMP' | 'DATE';
  readonly mode: 'REQUIRED';
  readonly description: string;
}

/**
 * The BigQuery table: these columns (all REQUIRED, as NOT NULL in Postgres), partitioned by day on
 * `seoul_date`, clustered by `store_id`. The sink creates it so when absent, and refuses to ship into a
 * table whose columns differ (the rows wait in Postgres).
 */
export const TRAINING_ROWS_BIGQUERY_FIELDS: readonly BigQueryField[] = [
  {
    name: 'order_id',
    type: 'STRING',
    mode: 'REQUIRED',
    description: 'The order; the key readers dedupe on.',
  },
  {
    name: 'prediction_id',
    type: 'STRING',
    mode: 'REQUIRED',
    description: 'eventId of the prediction event scored (the checkout estimate).',
  },
  { name: 'store_id', type: 'INT64', mode: 'REQUIRED', description: 'The store.' },
  { name: 'dong_code', type: 'STRING', mode: 'REQUIRED', description: "The destination's dong (10 digits)." },
  { name: 'ordered_at', type: 'TIMESTAMP', mode: 'REQUIRED', description: 'When the order was placed.' },
  {
    name: 'delivered_at',
    type: 'TIMESTAMP',
    mode: 'REQUIRED',
    description: 'ordered_at + actual_minutes (a replay compresses time; the minutes are real).',
  },
  {
    name: 'predicted_at',
    type: 'TIMESTAMP',
    mode: 'REQUIRED',
    description: 'When the estimate was answered.',
  },
  {
    name: 'seoul_date',
    type: 'DATE',
    mode: 'REQUIRED',
    description: 'The day the order was placed, in Asia/Seoul (the partition).',
  },
  { name: 'seoul_hour', type: 'INT64', mode: 'REQUIRED', description: 'The hour it was placed, Asia/Seoul.' },
  { name: 'model', type: 'STRING', mode: 'REQUIRED', description: 'The model that answered (eta-precise).' },
  { name: 'model_version', type: 'STRING', mode: 'REQUIRED', description: 'Its version, e.g. 2.' },
  {
    name: 'features',
    type: 'STRING',
    mode: 'REQUIRED',
    description: 'JSON object {featureName: number|null}: the row exactly as sent to the model.',
  },
  { name: 'p10', type: 'FLOAT64', mode: 'REQUIRED', description: "The model's 10th percentile, minutes." },
  { name: 'p50', type: 'FLOAT64', mode: 'REQUIRED', description: "The model's median, minutes." },
  { name: 'p90', type: 'FLOAT64', mode: 'REQUIRED', description: "The model's 90th percentile, minutes." },
  {
    name: 'shown_minutes',
    type: 'FLOAT64',
    mode: 'REQUIRED',
    description: 'The minutes the customer was shown.',
  },
  { name: 'actual_minutes', type: 'FLOAT64', mode: 'REQUIRED', description: 'The delivery took this long.' },
  {
    name: 'written_at',
    type: 'TIMESTAMP',
    mode: 'REQUIRED',
    description: 'When the sink wrote the row (readers keep the earliest copy per order).',
  },
];

/** Partitioning and clustering of the BigQuery table. */
export const TRAINING_ROWS_PARTITION_FIELD = 'seoul_date';
export const TRAINING_ROWS_CLUSTER_FIELDS: readonly string[] = ['store_id'];

/**
 * The reader query: one row per order between two Seoul days (inclusive, `@from` and `@to` as DATE
 * parameters). Streaming inserts with an insertId are deduplicated by BigQuery only on a best-effort basis
 * (and a sink that died between BigQuery's accept and its own bookkeeping sends a row again), so readers
 * must treat `order_id` as the key: this keeps the earliest written copy. Plain GoogleSQL; the WHERE both
 * prunes partitions and satisfies BigQuery's rule that QUALIFY comes with a WHERE, GROUP BY or HAVING.
 * `table` is `project.dataset.table`.
 */
export function trainingRowsReaderSql(table: string): string {
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]\.[A-Za-z0-9_]{1,1024}\.[A-Za-z0-9_]{1,1024}$/.test(table)) {
    throw new TypeError(`not a project.dataset.table name: ${JSON.stringify(table)}`);
  }
  const columns = TRAINING_ROWS_BIGQUERY_FIELDS.map((f) => f.name).join(', ');
  return (
    `SELECT ${columns} FROM \`${table}\`\n` +
    'WHERE seoul_date BETWEEN @from AND @to\n' +
    'QUALIFY ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY written_at) = 1'
  );
}

// ------------------------------------------------------------------------------------------- metrics

/** Counter: training rows written in Postgres (one per delivered order whose checkout answer was the model's). */
export const TRAINING_ROWS_WRITTEN_TOTAL = 'training_rows_written_total';
/** Counter: training rows BigQuery accepted and that were then marked shipped. */
export const TRAINING_ROWS_SHIPPED_TOTAL = 'training_rows_shipped_total';
/**
 * Counter by `stage`: failed shipping attempts. `ensure`: creating or checking the dataset and table;
 * `insert`: a batch refused or past its deadline; `mark`: the Postgres update after BigQuery accepted (that
 * batch goes again); `postgres`: reading the outbox or taking the shipper's lease.
 */
export const TRAINING_ROWS_SHIP_FAILURES_TOTAL = 'training_rows_ship_failures_total';
export const TRAINING_ROWS_SHIP_STAGES = ['ensure', 'insert', 'mark', 'postgres'] as const;
export type TrainingRowsShipStage = (typeof TRAINING_ROWS_SHIP_STAGES)[number];
/** Gauge: training rows in Postgres not yet shipped to BigQuery (read after each shipping round). */
export const TRAINING_ROWS_UNSHIPPED = 'training_rows_unshipped';
