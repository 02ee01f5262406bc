-- Training rows (issue 13, docs/adr/0007-training-rows.md): one row per delivered order joined to its
-- checkout prediction when that answer came from the eta-precise model, written in the same transaction as
-- the live-accuracy join (0002), then copied to BigQuery by the events role's shipper when BigQuery is
-- configured. Postgres is the outbox: a row is shipped from here, and marked only once BigQuery accepted it.

-- What the join needs to make a training row: the served model, its input row and raw quantiles, and the
-- minutes shown. Null for an answer with no model behind it (manual times, a region default), which is
-- scored for live accuracy but never becomes a training row. Rows from before this migration stay null.
ALTER TABLE accuracy_predictions
  ADD COLUMN model_name    text,
  ADD COLUMN model_version text,
  ADD COLUMN features      jsonb,
  ADD COLUMN p10           double precision,
  ADD COLUMN p50           double precision,
  ADD COLUMN p90           double precision,
  ADD COLUMN shown_minutes double precision;

-- The delivery's minutes as reported (actual_mm is rounded to thousandths for exact accuracy sums).
ALTER TABLE accuracy_deliveries ADD COLUMN actual_minutes double precision;

-- The shared contract of issue 13 (the retrain job reads these columns).
CREATE TABLE training_rows (
  order_id        text PRIMARY KEY,
  prediction_id   uuid NOT NULL,            -- the prediction event's eventId
  store_id        bigint NOT NULL,
  dong_code       text NOT NULL,
  ordered_at      timestamptz NOT NULL,
  delivered_at    timestamptz NOT NULL,
  predicted_at    timestamptz NOT NULL,
  seoul_date      date NOT NULL,            -- day the order was placed, Asia/Seoul
  seoul_hour      smallint NOT NULL,
  model           text NOT NULL,            -- 'eta-precise'
  model_version   text NOT NULL,            -- the version that answered, e.g. '2'
  features        jsonb NOT NULL,           -- the row exactly as sent to the model: {featureName: number|null}, names = the model's metadata.json features[].name
  p10             double precision NOT NULL,-- the model's raw quantiles
  p50             double precision NOT NULL,
  p90             double precision NOT NULL,
  shown_minutes   double precision NOT NULL,
  actual_minutes  double precision NOT NULL,
  written_at      timestamptz NOT NULL,
  shipped_at      timestamptz               -- when copied to BigQuery; null while not, or when no BigQuery is configured
);
CREATE INDEX training_rows_seoul_date ON training_rows (seoul_date);
-- The shipper's queue (oldest first) and the prune of shipped rows; both small beside the table.
CREATE INDEX training_rows_unshipped ON training_rows (written_at, order_id) WHERE shipped_at IS NULL;
CREATE INDEX training_rows_shipped_at ON training_rows (shipped_at) WHERE shipped_at IS NOT NULL;

-- Which events pod ships (the role runs two or more): a lease, taken and renewed by one at a time, so two
-- pods never send the same rows at once. A holder that died is replaced once its lease ran out.
CREATE TABLE training_rows_shipper (
  id          smallint PRIMARY KEY CHECK (id = 1),
  holder      text NOT NULL,
  held_until  timestamptz NOT NULL
);
