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
 * Why an event was dropped:
 * - `buffer-full`: the bounded buffer was full (the broker slow or away for longer than it holds);
 * - `invalid`: it failed its topic's schema (a bug in the producer; logged);
 * - `send-failed`: the broker refused the batch or could not be reached within the send's deadline;
 * - `shutdown`: offered after close, or still buffered when the close's bound ran out.
 */
export const EVENT_DROP_REASONS = ['buffer-full', 'invalid', 'send-failed', 'shutdown'] as const;
export type EventDropReason = (typeof EVENT_DROP_REASONS)[number];
