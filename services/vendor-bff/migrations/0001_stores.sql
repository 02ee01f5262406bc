-- Stores, their owners' delivery-time settings, and the audit trail of settings changes.
-- Applied by src/adapters/db/migrate.ts in one transaction; never edit once applied (its checksum is
-- recorded): add a new numbered file instead.

CREATE TABLE stores (
  id           bigint PRIMARY KEY CHECK (id > 0),
  name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  lat          double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lng          double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
  category     text NOT NULL CHECK (category IN ('snack', 'meal', 'drinks', 'buffet')),
  -- Region from Geo at creation time; null until known (the estimate path can fill it lazily).
  dong_code    text CHECK (dong_code ~ '^[0-9]{10}$'),
  gu_code      text CHECK (gu_code ~ '^[0-9]{5}$'),
  region_class text CHECK (region_class IN ('metropolitan', 'urban', 'semi-urban')),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE store_settings (
  store_id                bigint PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
  auto_prediction         boolean NOT NULL DEFAULT true,
  -- Upper bounds are sanity limits (4 h), so a typo cannot promise a customer a two-day wait.
  manual_prep_minutes     integer NOT NULL DEFAULT 15 CHECK (manual_prep_minutes BETWEEN 0 AND 240),
  manual_delivery_minutes integer NOT NULL DEFAULT 25 CHECK (manual_delivery_minutes BETWEEN 0 AND 240),
  min_shown_minutes       integer CHECK (min_shown_minutes BETWEEN 0 AND 240),
  max_shown_minutes       integer CHECK (max_shown_minutes BETWEEN 0 AND 240),
  -- A busy mode that adds nothing is no busy mode: extra minutes are at least 1 while busy.
  busy_extra_minutes      integer CHECK (busy_extra_minutes BETWEEN 1 AND 240),
  busy_until              timestamptz,
  updated_at              timestamptz NOT NULL DEFAULT now(),
  version                 integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  CONSTRAINT store_settings_shown_range CHECK (
    min_shown_minutes IS NULL OR max_shown_minutes IS NULL OR min_shown_minutes <= max_shown_minutes
  ),
  CONSTRAINT store_settings_busy_both_or_neither CHECK (
    (busy_extra_minutes IS NULL) = (busy_until IS NULL)
  )
);

CREATE TABLE settings_audit (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  store_id bigint NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
  actor    text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
  at       timestamptz NOT NULL DEFAULT now(),
  before   jsonb NOT NULL,
  after    jsonb NOT NULL
);

-- The admin history view lists one store's changes, newest first.
CREATE INDEX settings_audit_store_at ON settings_audit (store_id, at DESC);
