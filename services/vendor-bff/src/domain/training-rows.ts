import { TRAINING_ROWS_BIGQUERY_FIELDS, type TrainingRow } from '@eta/contracts';

/**
 * Rules of the training-row shipper (ROLE=events; docs/adr/0007-training-rows.md) that need no I/O: the
 * row as BigQuery takes it, the check of an existing table's columns, the backoff after a failure, and the
 * port the BigQuery adapter fills.
 */

/** Where the shipper sends rows (adapters/bigquery.ts against BigQuery or its emulator). */
export interface TrainingRowsSink {
  /** `project.dataset.table`, for logs. */
  readonly table: string;
  /**
   * Creates the dataset and the table when absent (idempotent), and fails when an existing table's columns
   * are not the contract's (rows would be refused one batch at a time otherwise).
   */
  ensure(): Promise<void>;
  /**
   * Streams the rows with insertId = order_id. Resolves only when BigQuery accepted every row (a request
   * with an invalid row inserts nothing: skipInvalidRows is off); rejects otherwise, or past its deadline.
   */
  insert(rows: readonly TrainingRow[]): Promise<void>;
  close(): Promise<void>;
}

/** A training row as read from Postgres (pg returns bigint as string, timestamps as Date). */
export interface StoredTrainingRow {
  readonly order_id: string;
  readonly prediction_id: string;
  readonly store_id: string | number;
  readonly dong_code: string;
  readonly ordered_at: Date | string;
  readonly delivered_at: Date | string;
  readonly predicted_at: Date | string;
  /** `YYYY-MM-DD` (read as text: a Date would shift it by the client's time zone). */
  readonly seoul_date: string;
  readonly seoul_hour: number | string;
  readonly model: string;
  readonly model_version: string;
  /** jsonb comes back parsed (pg) or as text (a cast). */
  readonly features: Record<string, number | null> | string;
  readonly p10: number | string;
  readonly p50: number | string;
  readonly p90: number | string;
  readonly shown_minutes: number | string;
  readonly actual_minutes: number | string;
  readonly written_at: Date | string;
}

const iso = (t: Date | string): string => (t instanceof Date ? t : new Date(t)).toISOString();

/** The row BigQuery gets: timestamps RFC 3339 in UTC, the date as text, the features as a JSON string. */
export function toBigQueryRow(r: StoredTrainingRow): TrainingRow {
  return {
    order_id: r.order_id,
    prediction_id: r.prediction_id,
    store_id: Number(r.store_id),
    dong_code: r.dong_code,
    ordered_at: iso(r.ordered_at),
    delivered_at: iso(r.delivered_at),
    predicted_at: iso(r.predicted_at),
    seoul_date: r.seoul_date,
    seoul_hour: Number(r.seoul_hour),
    model: r.model,
    model_version: r.model_version,
    features: typeof r.features === 'string' ? r.features : JSON.stringify(r.features),
    p10: Number(r.p10),
    p50: Number(r.p50),
    p90: Number(r.p90),
    shown_minutes: Number(r.shown_minutes),
    actual_minutes: Number(r.actual_minutes),
    written_at: iso(r.written_at),
  };
}

/** BigQuery answers a table's schema in legacy type names whatever the table was created with. */
const TYPE_ALIASES: Readonly<Record<string, string>> = {
  INTEGER: 'INT64',
  FLOAT: 'FLOAT64',
  BOOLEAN: 'BOOL',
};

/**
 * What keeps an existing table from taking the rows: a contract column missing or of another type, or a
 * REQUIRED column the rows do not carry. Extra NULLABLE columns are fine (a reader may have added some).
 */
export function schemaIssues(
  fields: readonly { name?: string; type?: string; mode?: string }[] | undefined,
): string[] {
  const issues: string[] = [];
  const byName = new Map((fields ?? []).map((f) => [f.name ?? '', f]));
  for (const want of TRAINING_ROWS_BIGQUERY_FIELDS) {
    const got = byName.get(want.name);
    if (got === undefined) {
      issues.push(`column ${want.name} is missing`);
      continue;
    }
    const type = (got.type ?? '').toUpperCase();
    if ((TYPE_ALIASES[type] ?? type) !== want.type) {
      issues.push(`column ${want.name} is ${type}, not ${want.type}`);
    }
    if ((got.mode ?? 'NULLABLE').toUpperCase() === 'REPEATED') issues.push(`column ${want.name} is REPEATED`);
  }
  const known = new Set<string>(TRAINING_ROWS_BIGQUERY_FIELDS.map((f) => f.name));
  for (const f of fields ?? []) {
    if (!known.has(f.name ?? '') && (f.mode ?? '').toUpperCase() === 'REQUIRED') {
      issues.push(`column ${f.name ?? '?'} is REQUIRED and not one the sink writes`);
    }
  }
  return issues;
}

/** After `failures` failed rounds in a row: 1 s, 2 s, 4 s ... up to `maxMs` (a BigQuery outage is minutes). */
export function shipBackoffMs(failures: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, 1_000 * 2 ** Math.min(failures - 1, 20));
}
