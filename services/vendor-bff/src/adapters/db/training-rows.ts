import type { StoredTrainingRow } from '../../domain/training-rows.ts';
import type { Queryable } from './database.ts';

/**
 * The training rows' outbox in Postgres (migrations/0003_training_rows.sql): the shipper reads the oldest
 * unshipped rows, sends them to BigQuery, and only then marks them shipped. The rows are written by the
 * consumers' join (live-events.ts); pruning is there too. docs/adr/0007-training-rows.md.
 */

/**
 * Takes or renews the shipper's lease for `holder` until `now + ttlMs`; answers whether it holds it. The
 * lease is free when nobody took it yet or its holder let it run out (a pod that died or hung).
 */
export async function takeShipperLease(
  db: Queryable,
  holder: string,
  now: Date,
  ttlMs: number,
): Promise<boolean> {
  const { rows } = await db.query<{ holder: string }>(
    `INSERT INTO training_rows_shipper AS s (id, holder, held_until) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, held_until = excluded.held_until
     WHERE s.holder = excluded.holder OR s.held_until < $3
     RETURNING holder`,
    [holder, new Date(now.getTime() + ttlMs), now],
  );
  return rows.length === 1;
}

/** Lets the lease go at shutdown, so another pod takes over at its next round instead of after the TTL. */
export async function releaseShipperLease(db: Queryable, holder: string): Promise<void> {
  await db.query('DELETE FROM training_rows_shipper WHERE id = 1 AND holder = $1', [holder]);
}

/** The oldest unshipped rows, at most `limit`. */
export async function unshippedRows(db: Queryable, limit: number): Promise<StoredTrainingRow[]> {
  const { rows } = await db.query<StoredTrainingRow>(
    `SELECT order_id, prediction_id::text AS prediction_id, store_id, dong_code, ordered_at, delivered_at,
       predicted_at, seoul_date::text AS seoul_date, seoul_hour, model, model_version, features::text AS features,
       p10, p50, p90, shown_minutes, actual_minutes, written_at
     FROM training_rows WHERE shipped_at IS NULL ORDER BY written_at, order_id LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Marks rows BigQuery accepted; answers how many were still unshipped. */
export async function markShipped(db: Queryable, orderIds: readonly string[], at: Date): Promise<number> {
  if (orderIds.length === 0) return 0;
  const { rowCount } = await db.query(
    'UPDATE training_rows SET shipped_at = $2 WHERE order_id = ANY($1::text[]) AND shipped_at IS NULL',
    [orderIds, at],
  );
  return rowCount;
}

export async function countUnshipped(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: string | number }>(
    'SELECT count(*) AS n FROM training_rows WHERE shipped_at IS NULL',
  );
  return Number(rows[0]?.n ?? 0);
}
