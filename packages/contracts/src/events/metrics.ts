/**
 * Metric names of event publishing and consuming, defined once (the BFF's /metrics, dashboards, alerts).
 */

/** Counter by `topic`: events the broker (or the in-process bus) acknowledged. */
export const EVENTS_PUBLISHED_TOTAL = 'events_published_total';

/** Counter by `topic` and `reason` (EVENT_DROP_REASONS): events given up on before the broker had them. */
export const EVENTS_DROPPED_TOTAL = 'events_dropped_total';

/** Gauge: events waiting in the publisher's in-memory buffer (a send in flight included). */
export const EVENTS_BUFFERED = 'events_buffered';

/**
 * Gauge by `topic` and `group`: events the in-process bus (ROLE=all without Kafka) holds for a subscriber
 * that its handler has not finished.
 */
export const EVENT_BUS_BACKLOG = 'event_bus_backlog';

/**
 * Counter by `topic` and `group`: events the in-process bus did not give a subscriber because it was already
 * its `maxBacklog` behind (a handler that keeps failing); they are lost for that subscriber.
 */
export const EVENT_BUS_DROPPED_TOTAL = 'event_bus_dropped_total';

/**
 * The name of the thread the Kafka producer runs on inside a service (a Node Worker): its log lines carry it,
 * and the OS lists the thread under it (`/proc/<pid>/task/<tid>/comm`, `top -H`), so its CPU can be told apart.
 */
export const PRODUCER_THREAD_NAME = 'kafka-producer';

/**
 * Why an event was dropped:
 * - `buffer-full`: the bounded buffer was full (the broker slow or away for longer than it holds);
 * - `invalid`: it failed its topic's schema (a bug in the producer; logged);
 * - `send-failed`: the broker refused the batch or could not be reached within the send's deadline;
 * - `shutdown`: offered after close, or still buffered when the close's bound ran out.
 */
export const EVENT_DROP_REASONS = ['buffer-full', 'invalid', 'send-failed', 'shutdown'] as const;
export type EventDropReason = (typeof EVENT_DROP_REASONS)[number];

/** Counter by `topic` and `outcome` (applied, duplicate, ignored): events the consumers handled. */
export const EVENTS_CONSUMED_TOTAL = 'events_consumed_total';

/**
 * Counter by `topic` and `reason` (DLQ_REASONS): messages a consumer could not handle, sent to
 * `<topic>.dlq` (or, without a dead-letter producer, logged and skipped).
 */
export const EVENTS_DEAD_LETTERED_TOTAL = 'events_dead_lettered_total';

/** Histogram by `topic`: seconds to apply one batch (its database transaction included). */
export const EVENTS_BATCH_SECONDS = 'events_batch_seconds';

/** Counter by `model` (`eta-precise@2`, `manual`, ...): delivered orders joined to their prediction. */
export const LIVE_ACCURACY_ORDERS_TOTAL = 'live_accuracy_orders_total';
/** Counter by `model`: sum of |predicted - actual| minutes over the joined orders (MAE = this / orders). */
export const LIVE_ACCURACY_ABS_ERROR_MINUTES_TOTAL = 'live_accuracy_abs_error_minutes_total';
/**
 * Gauge by `model`: sum of (predicted - actual) minutes over the joined orders since the process started
 * (bias = this / orders); a gauge because it falls when deliveries take longer than predicted.
 */
export const LIVE_ACCURACY_ERROR_MINUTES_SUM = 'live_accuracy_error_minutes_sum';
/** Counter by `model`: joined orders whose actual minutes fell inside p10-p90 (coverage = this / orders). */
export const LIVE_ACCURACY_COVERED_TOTAL = 'live_accuracy_covered_total';

/** Gauge: when the live per-dong statistics were last written to Redis (seconds since the epoch). */
export const LIVE_DONG_STATS_WRITTEN_SECONDS = 'live_dong_stats_last_write_timestamp_seconds';
/** Gauge: dongs written at the last write. */
export const LIVE_DONG_STATS_DONGS = 'live_dong_stats_dongs';
