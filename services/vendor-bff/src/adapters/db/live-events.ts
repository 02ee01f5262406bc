import type { LiveDongStats, OrderDelivered, OrderEvent, PredictionEvent } from '@eta/contracts';
import {
  type AccuracySums,
  type DayAccuracyOverview,
  type StoreDayAccuracy,
  countEvents,
  deliveryRow,
  foldOrders,
  predictionRow,
  seoulDayHour,
  TERMINAL_RANK,
} from '../../domain/live-events.ts';
import type { Database, Queryable } from './database.ts';

/**
 * The event consumers' state in Postgres (migrations/0002_live_events.sql). Each apply* runs one batch in
 * one transaction, so a batch is applied whole or not at all, and its offsets are committed after it:
 * a redelivered batch meets its event ids in `event_receipts` (or the idempotent upserts) and changes
 * nothing.
 */

export interface Received<T> {
  readonly eventId: string;
  readonly value: T;
}

/** What one batch changed, for the consumers' metrics. */
export interface OrdersApplied {
  readonly received: number;
  /** Events not seen before (the rest were redeliveries). */
  readonly applied: number;
  readonly joined: readonly JoinedOutcome[];
  /** Training rows written (orders joined for the first time to an eta-precise answer). */
  readonly trainingRows: number;
}

export interface PredictionsApplied {
  readonly received: number;
  /** Precise predictions with an order id (the only ones the accuracy join uses). */
  readonly withOrder: number;
  readonly joined: readonly JoinedOutcome[];
  readonly trainingRows: number;
}

/** An order joined to its prediction for the first time. */
export interface JoinedOutcome {
  readonly model: string;
  readonly predictedMm: number;
  readonly lowMm: number;
  readonly highMm: number;
  readonly actualMm: number;
}

/** Inserts the receipts; answers the event ids that were new. */
async function receive(
  tx: Queryable,
  topic: string,
  ids: readonly string[],
  now: Date,
): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await tx.query<{ event_id: string }>(
    `INSERT INTO event_receipts (event_id, topic, received_at)
     SELECT id, $2, $3 FROM unnest($1::uuid[]) AS id
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [ids, topic, now],
  );
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Serialises the two sides of the accuracy join per order. The delivery and the prediction of one order
 * come from two topics, so two transactions can hold them at once (two lanes of the in-process bus, two
 * consumer pods); at READ COMMITTED each one's join then sees only its own uncommitted half, both commit,
 * and the order is never joined. Each side first takes a transaction-scoped advisory lock per order it may
 * store (a redelivered one included), so the second waits for the first to commit and its statements
 * after the lock see the first's row. Taken before any other write and in one sorted order, so no two
 * batches wait on each other in a cycle; in a key space of this schema's own (two deployments, or tests,
 * on one database never wait on each other).
 */
const LOCK_ORDERS = `SELECT pg_advisory_xact_lock(hashtext('vendor-bff:accuracy-join:' || current_schema()), k)
  FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[]) AS id ORDER BY k) AS keys`;

async function lockOrders(tx: Queryable, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length > 0) await tx.query(LOCK_ORDERS, [orderIds]);
}

const JOIN = `INSERT INTO accuracy_outcomes AS o (order_id, store_id, dong_code, ordered_at, delivered_at, seoul_date,
    seoul_hour, actual_mm, predicted_at, prediction_id, model, predicted_mm, low_mm, high_mm, joined_at)
  SELECT d.order_id, d.store_id, d.dong_code, d.ordered_at, d.delivered_at, d.seoul_date, d.seoul_hour,
    d.actual_mm, p.predicted_at, p.event_id, p.model, p.predicted_mm, p.low_mm, p.high_mm, $2
  FROM accuracy_deliveries d JOIN accuracy_predictions p ON p.order_id = d.order_id
  WHERE d.order_id = ANY($1::text[])
  ON CONFLICT (order_id) DO UPDATE SET
    predicted_at = excluded.predicted_at, prediction_id = excluded.prediction_id, model = excluded.model,
    predicted_mm = excluded.predicted_mm, low_mm = excluded.low_mm, high_mm = excluded.high_mm
  WHERE excluded.predicted_at < o.predicted_at
  RETURNING (xmax = 0) AS inserted, model, predicted_mm, low_mm, high_mm, actual_mm`;

interface JoinRow {
  inserted: boolean;
  model: string;
  predicted_mm: string | number;
  low_mm: string | number;
  high_mm: string | number;
  actual_mm: string | number;
}

/**
 * A training row for every given order whose delivery and prediction are both here and whose prediction was
 * an eta-precise answer (features kept): in the join's transaction, so a row exists exactly when its join
 * committed. The first row of an order stays (ON CONFLICT DO NOTHING): a redelivered event, or a later
 * tracking estimate of a joined order, writes nothing, and what was shipped to BigQuery is never changed
 * under it. docs/adr/0007-training-rows.md.
 */
const TRAIN = `INSERT INTO training_rows (order_id, prediction_id, store_id, dong_code, ordered_at, delivered_at,
    predicted_at, seoul_date, seoul_hour, model, model_version, features, p10, p50, p90, shown_minutes,
    actual_minutes, written_at)
  SELECT d.order_id, p.event_id, d.store_id, d.dong_code, d.ordered_at, d.delivered_at, p.predicted_at,
    d.seoul_date, d.seoul_hour, p.model_name, p.model_version, p.features, p.p10, p.p50, p.p90, p.shown_minutes,
    COALESCE(d.actual_minutes, d.actual_mm / 1000.0), $2
  FROM accuracy_deliveries d JOIN accuracy_predictions p ON p.order_id = d.order_id
  WHERE d.order_id = ANY($1::text[]) AND p.features IS NOT NULL
  ON CONFLICT (order_id) DO NOTHING`;

async function writeTrainingRows(tx: Queryable, orderIds: readonly string[], now: Date): Promise<number> {
  if (orderIds.length === 0) return 0;
  return (await tx.query(TRAIN, [orderIds, now])).rowCount;
}

/**
 * Joins the given orders' deliveries to their predictions. An order joined before is updated only by an
 * earlier prediction (the checkout's estimate is the one scored, whichever arrived first).
 */
async function join(tx: Queryable, orderIds: readonly string[], now: Date): Promise<JoinedOutcome[]> {
  if (orderIds.length === 0) return [];
  const { rows } = await tx.query<JoinRow>(JOIN, [orderIds, now]);
  return rows
    .filter((r) => r.inserted)
    .map((r) => ({
      model: r.model,
      predictedMm: Number(r.predicted_mm),
      lowMm: Number(r.low_mm),
      highMm: Number(r.high_mm),
      actualMm: Number(r.actual_mm),
    }));
}

export async function applyOrderEvents(
  db: Database,
  topic: string,
  events: readonly Received<OrderEvent>[],
  now: Date,
): Promise<OrdersApplied> {
  const delivered = events.filter((e) => e.value.type === 'delivered').map((e) => e.value.orderId);
  return db.transaction(async (tx) => {
    // Before any other write: a lock taken after this transaction's own row locks (receipts, counts) could
    // wait in a cycle with another batch's.
    await lockOrders(tx, delivered);
    const fresh = await receive(
      tx,
      topic,
      events.map((e) => e.eventId),
      now,
    );
    // One batch may hold one event twice (a producer retry): apply each id once.
    const seen = new Set<string>();
    const applied = events
      .filter((e) => fresh.has(e.eventId) && !seen.has(e.eventId) && seen.add(e.eventId))
      .map((e) => e.value);
    if (applied.length === 0) return { received: events.length, applied: 0, joined: [], trainingRows: 0 };

    const counts = countEvents(applied);
    await tx.query(
      `INSERT INTO order_event_counts (dong_code, type, count)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
       ON CONFLICT (dong_code, type) DO UPDATE SET count = order_event_counts.count + excluded.count`,
      [counts.map((c) => c.dongCode), counts.map((c) => c.type), counts.map((c) => c.count)],
    );

    const states = foldOrders(applied);
    await tx.query(
      `INSERT INTO live_orders AS l (order_id, store_id, dong_code, ordered_at, status, status_rank, delivered_at,
         actual_minutes, updated_at)
       SELECT o, s, d, oa, st, r, da, am, $9 FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[],
         $5::text[], $6::smallint[], $7::timestamptz[], $8::float8[]) AS t(o, s, d, oa, st, r, da, am)
       ON CONFLICT (order_id) DO UPDATE SET
         status = CASE WHEN excluded.status_rank > l.status_rank THEN excluded.status ELSE l.status END,
         delivered_at = COALESCE(l.delivered_at,
           CASE WHEN excluded.status_rank > l.status_rank THEN excluded.delivered_at END),
         actual_minutes = COALESCE(l.actual_minutes,
           CASE WHEN excluded.status_rank > l.status_rank THEN excluded.actual_minutes END),
         status_rank = GREATEST(l.status_rank, excluded.status_rank),
         updated_at = excluded.updated_at`,
      [
        states.map((s) => s.orderId),
        states.map((s) => s.storeId),
        states.map((s) => s.dongCode),
        states.map((s) => s.orderedAt),
        states.map((s) => s.status),
        states.map((s) => s.rank),
        states.map((s) => s.deliveredAt),
        states.map((s) => s.actualMinutes),
        now,
      ],
    );

    const deliveries = applied
      .filter((e): e is OrderDelivered => e.type === 'delivered')
      .map((e) => deliveryRow(e));
    if (deliveries.length === 0) {
      return { received: events.length, applied: applied.length, joined: [], trainingRows: 0 };
    }
    await tx.query(
      `INSERT INTO accuracy_deliveries (order_id, event_id, store_id, dong_code, ordered_at, delivered_at,
         actual_mm, seoul_date, seoul_hour, actual_minutes, received_at)
       SELECT *, $11::timestamptz FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::text[], $5::timestamptz[],
         $6::timestamptz[], $7::bigint[], $8::date[], $9::smallint[], $10::float8[])
       ON CONFLICT (order_id) DO NOTHING`,
      [
        deliveries.map((d) => d.orderId),
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.storeId),
        deliveries.map((d) => d.dongCode),
        deliveries.map((d) => d.orderedAt),
        deliveries.map((d) => d.deliveredAt),
        deliveries.map((d) => d.actualMm),
        deliveries.map((d) => d.seoulDate),
        deliveries.map((d) => d.seoulHour),
        deliveries.map((d) => d.actualMinutes),
        now,
      ],
    );
    const ids = deliveries.map((d) => d.orderId);
    const joined = await join(tx, ids, now);
    const trainingRows = await writeTrainingRows(tx, ids, now);
    return { received: events.length, applied: applied.length, joined, trainingRows };
  });
}

export async function applyPredictions(
  db: Database,
  events: readonly PredictionEvent[],
  now: Date,
): Promise<PredictionsApplied> {
  // Earliest per order within the batch too (one upsert per row and statement).
  const byOrder = new Map<string, NonNullable<ReturnType<typeof predictionRow>>>();
  for (const e of events) {
    const row = predictionRow(e);
    if (row === null) continue;
    const before = byOrder.get(row.orderId);
    if (before === undefined || Date.parse(row.predictedAt) < Date.parse(before.predictedAt)) {
      byOrder.set(row.orderId, row);
    }
  }
  const rows = [...byOrder.values()];
  if (rows.length === 0) return { received: events.length, withOrder: 0, joined: [], trainingRows: 0 };
  const ids = rows.map((r) => r.orderId);
  return db.transaction(async (tx) => {
    await lockOrders(tx, ids);
    await tx.query(
      `INSERT INTO accuracy_predictions AS p (order_id, event_id, predicted_at, store_id, model, predicted_mm, low_mm,
         high_mm, model_name, model_version, features, p10, p50, p90, shown_minutes, received_at)
       SELECT *, $16::timestamptz FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::bigint[], $5::text[],
         $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::jsonb[], $12::float8[],
         $13::float8[], $14::float8[], $15::float8[])
       ON CONFLICT (order_id) DO UPDATE SET
         event_id = excluded.event_id, predicted_at = excluded.predicted_at, store_id = excluded.store_id,
         model = excluded.model, predicted_mm = excluded.predicted_mm, low_mm = excluded.low_mm,
         high_mm = excluded.high_mm, model_name = excluded.model_name, model_version = excluded.model_version,
         features = excluded.features, p10 = excluded.p10, p50 = excluded.p50, p90 = excluded.p90,
         shown_minutes = excluded.shown_minutes
       WHERE excluded.predicted_at < p.predicted_at`,
      [
        rows.map((r) => r.orderId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.predictedAt),
        rows.map((r) => r.storeId),
        rows.map((r) => r.model),
        rows.map((r) => r.predictedMm),
        rows.map((r) => r.lowMm),
        rows.map((r) => r.highMm),
        rows.map((r) => r.training?.modelName ?? null),
        rows.map((r) => r.training?.modelVersion ?? null),
        // jsonb[] from text: each row's features serialised once here, parsed by Postgres.
        rows.map((r) => (r.training !== null ? JSON.stringify(r.training.features) : null)),
        rows.map((r) => r.training?.p10 ?? null),
        rows.map((r) => r.training?.p50 ?? null),
        rows.map((r) => r.training?.p90 ?? null),
        rows.map((r) => r.shownMinutes),
        now,
      ],
    );
    const joined = await join(tx, ids, now);
    const trainingRows = await writeTrainingRows(tx, ids, now);
    return { received: events.length, withOrder: rows.length, joined, trainingRows };
  });
}

// ---------------------------------------------------------------------------------------------------
// Reads

/** Orders ordered longer ago than this and never finished are no longer counted in flight. */
export const IN_FLIGHT_MAX_AGE_MS = 3 * 3_600_000;
export const LIVE_WINDOW_MS = 20 * 60_000;

/** Per-dong live statistics from the orders table, for every dong with an order in the last hours. */
export async function liveDongStats(db: Queryable, now: Date): Promise<Map<string, LiveDongStats>> {
  const { rows } = await db.query<{
    dong_code: string;
    in_flight: string | number;
    deliveries: string | number;
    avg_minutes: number | null;
  }>(
    `SELECT dong_code,
       count(*) FILTER (WHERE status_rank < $3 AND ordered_at > $1) AS in_flight,
       count(*) FILTER (WHERE status = 'delivered' AND delivered_at > $2) AS deliveries,
       avg(actual_minutes) FILTER (WHERE status = 'delivered' AND delivered_at > $2) AS avg_minutes
     FROM live_orders WHERE updated_at > $1 GROUP BY dong_code`,
    [new Date(now.getTime() - IN_FLIGHT_MAX_AGE_MS), new Date(now.getTime() - LIVE_WINDOW_MS), TERMINAL_RANK],
  );
  const out = new Map<string, LiveDongStats>();
  for (const r of rows) {
    out.set(r.dong_code, {
      ordersInFlight: Number(r.in_flight),
      deliveries20m: Number(r.deliveries),
      avgDeliveryMinutes20m: r.avg_minutes === null ? null : Math.round(Number(r.avg_minutes) * 100) / 100,
      updatedAt: now.toISOString(),
    });
  }
  return out;
}

/** Order events counted per dong and type (exactly once each). */
export async function orderEventCounts(
  db: Queryable,
): Promise<{ dongCode: string; type: string; count: number }[]> {
  const { rows } = await db.query<{ dong_code: string; type: string; count: string | number }>(
    'SELECT dong_code, type, count FROM order_event_counts ORDER BY dong_code, type',
  );
  return rows.map((r) => ({ dongCode: r.dong_code, type: r.type, count: Number(r.count) }));
}

const SUMS = `count(*) AS orders, COALESCE(sum(abs(predicted_mm - actual_mm)), 0) AS abs_error,
  COALESCE(sum(predicted_mm - actual_mm), 0) AS error,
  count(*) FILTER (WHERE actual_mm BETWEEN low_mm AND high_mm) AS covered`;

interface SumsRow {
  orders: string | number;
  abs_error: string | number;
  error: string | number;
  covered: string | number;
}

const sumsOf = (r: SumsRow | undefined): AccuracySums => ({
  orders: Number(r?.orders ?? 0),
  absErrorMm: Number(r?.abs_error ?? 0),
  errorMm: Number(r?.error ?? 0),
  covered: Number(r?.covered ?? 0),
});

export async function storeDayAccuracy(
  db: Queryable,
  storeId: number,
  date: string,
  pointsLimit: number,
): Promise<StoreDayAccuracy> {
  const where = 'WHERE store_id = $1 AND seoul_date = $2::date';
  const [day, hours, models, points] = await Promise.all([
    db.query<SumsRow>(`SELECT ${SUMS} FROM accuracy_outcomes ${where}`, [storeId, date]),
    db.query<SumsRow & { hour: number }>(
      `SELECT seoul_hour AS hour, ${SUMS} FROM accuracy_outcomes ${where} GROUP BY seoul_hour ORDER BY seoul_hour`,
      [storeId, date],
    ),
    db.query<SumsRow & { model: string }>(
      `SELECT model, ${SUMS} FROM accuracy_outcomes ${where} GROUP BY model ORDER BY model`,
      [storeId, date],
    ),
    db.query<{
      order_id: string;
      delivered_at: Date | string;
      predicted_mm: string | number;
      low_mm: string | number;
      high_mm: string | number;
      actual_mm: string | number;
      model: string;
    }>(
      `SELECT * FROM (SELECT order_id, delivered_at, predicted_mm, low_mm, high_mm, actual_mm, model
         FROM accuracy_outcomes ${where} ORDER BY delivered_at DESC, order_id DESC LIMIT $3) newest
       ORDER BY delivered_at, order_id`,
      [storeId, date, pointsLimit],
    ),
  ]);
  return {
    day: sumsOf(day.rows[0]),
    hours: hours.rows.map((r) => ({ hour: Number(r.hour), ...sumsOf(r) })),
    models: models.rows.map((r) => ({ model: r.model, ...sumsOf(r) })),
    points: points.rows.map((r) => ({
      orderId: r.order_id,
      deliveredAt: new Date(r.delivered_at),
      predictedMm: Number(r.predicted_mm),
      lowMm: Number(r.low_mm),
      highMm: Number(r.high_mm),
      actualMm: Number(r.actual_mm),
      model: r.model,
    })),
  };
}

export async function dayAccuracyOverview(
  db: Queryable,
  date: string,
  storesLimit: number,
): Promise<DayAccuracyOverview> {
  const where = 'WHERE seoul_date = $1::date';
  const [day, models, stores] = await Promise.all([
    db.query<SumsRow>(`SELECT ${SUMS} FROM accuracy_outcomes ${where}`, [date]),
    db.query<SumsRow & { model: string }>(
      `SELECT model, ${SUMS} FROM accuracy_outcomes ${where} GROUP BY model ORDER BY model`,
      [date],
    ),
    db.query<SumsRow & { store_id: string | number }>(
      `SELECT store_id, ${SUMS} FROM accuracy_outcomes ${where} GROUP BY store_id
       ORDER BY count(*) DESC, store_id LIMIT $2`,
      [date, storesLimit],
    ),
  ]);
  return {
    day: sumsOf(day.rows[0]),
    models: models.rows.map((r) => ({ model: r.model, ...sumsOf(r) })),
    stores: stores.rows.map((r) => ({ storeId: Number(r.store_id), ...sumsOf(r) })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Retention

export interface Retention {
  /** Receipts older than this are dropped: redeliveries come from uncommitted offsets, minutes old. */
  readonly receiptsMs: number;
  /** The late-join window: a prediction or delivery waits this long for its other half. */
  readonly joinWindowMs: number;
  /** Finished or abandoned orders leave the live table after this. */
  readonly ordersMs: number;
  /** Joined outcomes are kept this long (the accuracy API's history). */
  readonly outcomesMs: number;
  /**
   * Training rows. With BigQuery (`shippedMs` set) a row leaves Postgres only once shipped, `shippedMs`
   * after; an unshipped one is never dropped, however long BigQuery is away. Without BigQuery, Postgres is
   * where they are read, and a row is kept `ageMs` after its Seoul day.
   */
  readonly trainingRows: { readonly ageMs: number; readonly shippedMs: number | null };
}

export interface Pruned {
  readonly receipts: number;
  /** Predictions whose order never reported a delivery within the window (and rows already joined). */
  readonly predictions: number;
  readonly deliveries: number;
  readonly orders: number;
  readonly outcomes: number;
  readonly trainingRows: number;
}

export async function prune(db: Queryable, retention: Retention, now: Date): Promise<Pruned> {
  const before = (ms: number) => new Date(now.getTime() - ms);
  const del = async (sql: string, ms: number) => (await db.query(sql, [before(ms)])).rowCount;
  return {
    receipts: await del('DELETE FROM event_receipts WHERE received_at < $1', retention.receiptsMs),
    predictions: await del('DELETE FROM accuracy_predictions WHERE received_at < $1', retention.joinWindowMs),
    deliveries: await del('DELETE FROM accuracy_deliveries WHERE received_at < $1', retention.joinWindowMs),
    orders: await del('DELETE FROM live_orders WHERE updated_at < $1', retention.ordersMs),
    outcomes: await del('DELETE FROM accuracy_outcomes WHERE joined_at < $1', retention.outcomesMs),
    trainingRows:
      retention.trainingRows.shippedMs !== null
        ? await del('DELETE FROM training_rows WHERE shipped_at < $1', retention.trainingRows.shippedMs)
        : (
            await db.query('DELETE FROM training_rows WHERE seoul_date < $1::date', [
              seoulDayHour(before(retention.trainingRows.ageMs)).date,
            ])
          ).rowCount,
  };
}
