/**
 * The event publisher's metrics on the service's registry (names from @eta/contracts): what was
 * published, what was dropped and why, and how much waits in the buffer (read at scrape time).
 */
import {
  EVENT_DROP_REASONS,
  EVENTS_BUFFERED,
  EVENTS_DROPPED_TOTAL,
  EVENTS_PUBLISHED_TOTAL,
} from '@eta/contracts';
import type { PublisherMetrics } from '@eta/events';
import { Counter, Gauge, type Registry } from 'prom-client';

export function createPublisherMetrics(
  registry: Registry,
  topics: readonly string[],
  buffered: () => number,
): PublisherMetrics {
  const published = new Counter({
    name: EVENTS_PUBLISHED_TOTAL,
    help: 'Events the broker (or the in-process bus) acknowledged, by topic.',
    labelNames: ['topic'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: EVENTS_DROPPED_TOTAL,
    help: 'Events given up on before the broker had them, by topic and reason (buffer-full, invalid, send-failed, shutdown).',
    labelNames: ['topic', 'reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: EVENTS_BUFFERED,
    help: "Events waiting in the publisher's in-memory buffer, a send in flight included.",
    registers: [registry],
    collect() {
      this.set(buffered());
    },
  });
  // Every series from the start at 0, so a rate() over the first drop sees it rise rather than appear.
  for (const topic of topics) {
    published.inc({ topic }, 0);
    for (const reason of EVENT_DROP_REASONS) dropped.inc({ topic, reason }, 0);
  }
  return {
    published(topic, count) {
      published.inc({ topic }, count);
    },
    dropped(topic, reason, count) {
      dropped.inc({ topic, reason }, count);
    },
  };
}
