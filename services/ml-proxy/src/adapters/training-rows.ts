import pg from 'pg';
import { type ServedRow } from '../domain/promotion.ts';

/**
 * Reads delivered orders from the training rows table (issue 13's contract: one row per delivered order
 * with the features exactly as served and the actual minutes; services/vendor-bff's migration 0003). A
 * single connection with deadlines on connecting and on the query, closed before returning.
 */
export interface TrainingRowsQuery {
  /** postgres://... */
  readonly url: string;
  /** `training_rows` or `schema.training_rows`. */
  readonly table: string;
  readonly model: string;
  /**
   * Only rows written strictly after this time (ISO 8601): rows the retrain job could not have read when it
   * published. (Not delivered_at: that is the order time plus the actual minutes, which a time-compressed
   * replay puts ahead of the clock, so it would let in rows the candidate trained on.)
   */
  readonly writtenAfter: string;
  readonly limit: number;
  readonly timeoutMs: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** `training_rows` or `schema.training_rows` as a quoted identifier; throws on anything else. */
export function quoteTable(table: string): string {
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new Error(`table ${table}: expected a lower-case name or schema.name`);
  }
  return parts.map((p) => `"${p}"`).join('.');
}

export async function readTrainingRows(q: TrainingRowsQuery): Promise<ServedRow[]> {
  const client = new pg.Client({
    connectionString: q.url,
    connectionTimeoutMillis: q.timeoutMs,
    statement_timeout: q.timeoutMs,
    query_timeout: q.timeoutMs + 1000,
    application_name: 'ml-proxy-release',
  });
  await client.connect();
  try {
    const result = await client.query<{ features: unknown; actual_minutes: number }>(
      `SELECT features, actual_minutes FROM ${quoteTable(q.table)}
        WHERE model = $1 AND written_at > $2
        ORDER BY written_at, order_id
        LIMIT $3`,
      [q.model, q.writtenAfter, q.limit],
    );
    return result.rows.map((r) => ({
      features:
        r.features !== null && typeof r.features === 'object' ? (r.features as Record<string, unknown>) : {},
      actualMinutes: Number(r.actual_minutes),
    }));
  } finally {
    await client.end().catch(() => undefined);
  }
}
