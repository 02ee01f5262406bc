-- The event consumers' state (vendor-bff ROLE=events, docs/adr/0006-event-consumers.md): what they have
-- received, the orders in flight per dong, and the live-accuracy join of predictions to deliveries.
-- Every write is idempotent: a redelivered event (Kafka is at-least-once) changes nothing.

-- Event ids already applied, for the counts that are not idempotent by themselves. Pruned after
-- EVENTS_RECEIPT_RETENTION_HOURS: a redelivery comes from an uncommitted offset, minutes old, never days.
CREATE TABLE event_receipts (
  event_id    uuid PRIMARY KEY,
  topic       text NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE INDEX event_receipts_received_at ON event_receipts (received_at);

-- Order events counted per dong and type: every event counted exactly once (the receipts above).
CREATE TABLE order_event_counts (
  dong_code  text NOT NULL CHECK (dong_code ~ '^[0-9]{10}$'),
  type       text NOT NULL CHECK (type IN ('created', 'rider-assigned', 'picked-up', 'delivered', 'cancelled')),
  count      bigint NOT NULL CHECK (count >= 0),
  PRIMARY KEY (dong_code, type)
);

-- One row per order in flight or recently finished: the furthest step seen wins, whatever order the
-- events came in (created 1, rider-assigned 2, picked-up 3, delivered or cancelled 4).
CREATE TABLE live_orders (
  order_id       text PRIMARY KEY,
  store_id       bigint NOT NULL,
  dong_code      text NOT NULL CHECK (dong_code ~ '^[0-9]{10}$'),
  ordered_at     timestamptz NOT NULL,
  status         text NOT NULL,
  status_rank    smallint NOT NULL CHECK (status_rank BETWEEN 1 AND 4),
  -- When the delivered event happened, and its minutes.
  delivered_at   timestamptz,
  actual_minutes double precision,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX live_orders_dong ON live_orders (dong_code, status_rank);
CREATE INDEX live_orders_updated_at ON live_orders (updated_at);

-- Live accuracy. The earliest precise prediction logged with an order id (the checkout's) ...
CREATE TABLE accuracy_predictions (
  order_id      text PRIMARY KEY,
  event_id      uuid NOT NULL,
  predicted_at  timestamptz NOT NULL,
  store_id      bigint NOT NULL,
  -- `eta-precise@2`, or the source (`manual`, `fallback`) of an answer with no model.
  model         text NOT NULL,
  -- Minutes are kept as integer thousandths (milli-minutes): sums over them are exact, so a figure is
  -- the same whatever order the rows are added in.
  predicted_mm  bigint NOT NULL,
  low_mm        bigint NOT NULL,
  high_mm       bigint NOT NULL,
  received_at   timestamptz NOT NULL
);
CREATE INDEX accuracy_predictions_received_at ON accuracy_predictions (received_at);

-- ... the order's delivery ...
CREATE TABLE accuracy_deliveries (
  order_id       text PRIMARY KEY,
  event_id       uuid NOT NULL,
  store_id       bigint NOT NULL,
  dong_code      text NOT NULL,
  ordered_at     timestamptz NOT NULL,
  delivered_at   timestamptz NOT NULL,
  actual_mm      bigint NOT NULL,
  -- The day and hour the order was placed, in Asia/Seoul.
  seoul_date     date NOT NULL,
  seoul_hour     smallint NOT NULL CHECK (seoul_hour BETWEEN 0 AND 23),
  received_at    timestamptz NOT NULL
);
CREATE INDEX accuracy_deliveries_received_at ON accuracy_deliveries (received_at);

-- ... and the two joined: one row per delivered order that had a prediction. The figures are computed
-- from these rows when asked (sums over a store's day are small), so they are exact and never drift.
CREATE TABLE accuracy_outcomes (
  order_id          text PRIMARY KEY,
  store_id          bigint NOT NULL,
  dong_code         text NOT NULL,
  ordered_at        timestamptz NOT NULL,
  delivered_at      timestamptz NOT NULL,
  seoul_date        date NOT NULL,
  seoul_hour        smallint NOT NULL,
  actual_mm         bigint NOT NULL,
  predicted_at      timestamptz NOT NULL,
  prediction_id     uuid NOT NULL,
  model             text NOT NULL,
  predicted_mm      bigint NOT NULL,
  low_mm            bigint NOT NULL,
  high_mm           bigint NOT NULL,
  joined_at         timestamptz NOT NULL
);
CREATE INDEX accuracy_outcomes_store_day ON accuracy_outcomes (store_id, seoul_date);
CREATE INDEX accuracy_outcomes_day ON accuracy_outcomes (seoul_date);
