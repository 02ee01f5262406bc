import { EVENT_BUS_BACKLOG, EVENT_BUS_DROPPED_TOTAL, ORDERS_TOPIC } from '@eta/contracts';
import { silentLog } from '@eta/events';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { openInProcessBus } from '../../src/adapters/events/bus.ts';

/** A metric's values by label set, as /metrics would show them. */
async function values(registry: Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const got = await metric.get();
  return Object.fromEntries(got.values.map((v) => [JSON.stringify(v.labels), v.value]));
}

const created = (n: number) => ({
  key: `o-${n}`,
  value: {
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    schemaVersion: 1 as const,
    type: 'created' as const,
    orderId: `o-${n}`,
    storeId: 1,
    dongCode: '1111010100',
    orderedAt: '2026-12-07T21:00:00+09:00',
    occurredAt: '2026-12-07T12:00:00.000Z',
  },
});

describe('the in-process bus of ROLE=all without Kafka', () => {
  it('shows each subscriber backlog and counts the events a subscriber was too far behind to get', async () => {
    const registry = new Registry();
    const bus = openInProcessBus({ registry, log: silentLog, maxBacklog: 2 });
    let unblock: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const sub = bus.subscriber({ groupId: 'live-accuracy' });
    sub.subscribe(ORDERS_TOPIC, () => blocked);
    await sub.start();
    try {
      await bus.publish(ORDERS_TOPIC, [1, 2, 3, 4, 5].map(created));
      const labels = JSON.stringify({ topic: ORDERS_TOPIC.name, group: 'live-accuracy' });
      expect(await values(registry, EVENT_BUS_BACKLOG)).toEqual({ [labels]: 2 });
      expect(await values(registry, EVENT_BUS_DROPPED_TOTAL)).toEqual({ [labels]: 3 });
      unblock();
      await bus.idle();
      expect(await values(registry, EVENT_BUS_BACKLOG)).toEqual({ [labels]: 0 });
    } finally {
      unblock();
      await bus.close();
    }
  });
});
