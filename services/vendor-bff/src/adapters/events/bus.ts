/**
 * The in-process event bus of a process without Kafka (ROLE=all, the run command's default), with its
 * metrics on the service's registry: how far behind each subscriber is, and what it was not given because
 * it was too far behind (@eta/events' `maxBacklog`).
 */
import { EVENT_BUS_BACKLOG, EVENT_BUS_DROPPED_TOTAL } from '@eta/contracts';
import { createEventBus, type EventBus, type EventLog } from '@eta/events';
import { Counter, Gauge, type Registry } from 'prom-client';

export function openInProcessBus(opts: {
  readonly registry: Registry;
  readonly log: EventLog;
  /** Default: @eta/events' (100,000 events per subscriber). */
  readonly maxBacklog?: number;
}): EventBus {
  const dropped = new Counter({
    name: EVENT_BUS_DROPPED_TOTAL,
    help: 'Events the in-process bus did not give a subscriber that was maxBacklog events behind, by topic and group.',
    labelNames: ['topic', 'group'] as const,
    registers: [opts.registry],
  });
  const bus = createEventBus({
    log: opts.log,
    ...(opts.maxBacklog !== undefined ? { maxBacklog: opts.maxBacklog } : {}),
    onDropped: (topic, group) => dropped.inc({ topic, group }),
  });
  new Gauge({
    name: EVENT_BUS_BACKLOG,
    help: 'Events the in-process bus holds for a subscriber that its handler has not finished, by topic and group.',
    labelNames: ['topic', 'group'] as const,
    registers: [opts.registry],
    collect() {
      this.reset();
      for (const { topic, groupId, events } of bus.backlog()) this.set({ topic, group: groupId }, events);
    },
  });
  return bus;
}
