// What the replay sends for one order, checked with the contract's own schemas: the checkout's precise
// estimate request and the four lifecycle events.
import { OrderEvent, PreciseEstimateRequest } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { orderEvent, preciseRequest, seoulTimeOfDayBefore } from '../lib/replay/messages.ts';
import { ORDER_STEPS, schedule, type PlannedOrder } from '../lib/replay/plan.ts';

const order = (over: Partial<PlannedOrder> = {}): PlannedOrder => ({
  orderId: 'r1-0xabc1',
  sourceId: '0xabc1',
  storeId: 42,
  homeStore: true,
  origin: { lat: 37.5572, lng: 126.9245 },
  destination: { lat: 37.5612, lng: 126.9421 },
  distanceM: 1_620,
  dongCode: '1144066000',
  regionClass: 'metropolitan',
  requiredClass: 'metropolitan',
  daySecond: 15 * 3600,
  minutes: { riderAssigned: 5, pickedUp: 10, delivered: 31 },
  pickupMoved: false,
  actualMinutes: 31,
  shifted: false,
  order: { type: 'meal', multipleDeliveries: 1, festival: false },
  rider: { vehicleType: 'scooter', vehicleCondition: 2, age: 30, rating: 4.7 },
  riderId: 'TESTRES01DEL01',
  ...over,
});

// Speed 60: a dataset minute is a wall second.
const [scheduled] = schedule([order()], { speed: 60, maxDurationMs: Infinity }).orders;
const START = Date.parse('2026-12-06T10:00:00.000Z');

describe('preciseRequest', () => {
  it("is a valid precise request with the order's id, details and rider, placed at its created time", () => {
    const body = PreciseEstimateRequest.parse(preciseRequest(scheduled!, Date.now()));
    expect(body).toMatchObject({
      storeId: 42,
      destination: { lat: 37.5612, lng: 126.9421 },
      orderId: 'r1-0xabc1',
      order: { type: 'meal', multipleDeliveries: 1, festival: false },
      rider: { vehicleType: 'scooter', vehicleCondition: 2, age: 30, rating: 4.7 },
    });
    expect(preciseRequest(scheduled!, START).orderedAt).toBe('2026-12-06T10:00:00.000Z');
  });

  it("with the dataset clock names the order's own time of day in Seoul, the day before the run", () => {
    // The order was placed at 19:00 (04:00 + 15 h); START is 19:00 on 2026-12-06 in Seoul.
    const body = PreciseEstimateRequest.parse(preciseRequest(scheduled!, START, 'dataset'));
    expect(Date.parse(body.orderedAt!)).toBe(Date.parse('2026-12-05T19:00:00+09:00'));
    expect(seoulTimeOfDayBefore(0, START)).toBe(Date.parse('2026-12-05T00:00:00+09:00'));
    expect(seoulTimeOfDayBefore(86_399, START)).toBe(Date.parse('2026-12-05T23:59:59+09:00'));
    // 15:00Z is already the next day in Seoul.
    expect(seoulTimeOfDayBefore(0, Date.parse('2026-12-06T15:00:00Z'))).toBe(
      Date.parse('2026-12-06T00:00:00+09:00'),
    );
  });

  it('leaves out what the row does not say: no rider, no order details', () => {
    const [bare] = schedule([order({ rider: null, order: {} })], {
      speed: 60,
      maxDurationMs: Infinity,
    }).orders;
    const body = PreciseEstimateRequest.parse(preciseRequest(bare!, Date.now()));
    expect(body).not.toHaveProperty('rider');
    expect(body).not.toHaveProperty('order');
  });
});

describe('orderEvent', () => {
  const events = ORDER_STEPS.map((kind, i) =>
    OrderEvent.parse(
      orderEvent(kind, scheduled!, {
        startMs: START,
        eventId: `0190c7a4-2b1e-7c00-8000-00000000000${i}`,
        dongCode: '1144066000',
      }),
    ),
  );

  it('builds the four lifecycle events, valid on the orders topic, at the compressed times', () => {
    expect(events.map((e) => e.type)).toEqual(['created', 'rider-assigned', 'picked-up', 'delivered']);
    expect(events.map((e) => e.occurredAt)).toEqual([
      '2026-12-06T10:00:00.000Z',
      '2026-12-06T10:00:05.000Z',
      '2026-12-06T10:00:10.000Z',
      '2026-12-06T10:00:31.000Z',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({
        schemaVersion: 1,
        orderId: 'r1-0xabc1',
        storeId: 42,
        dongCode: '1144066000',
        orderedAt: '2026-12-06T10:00:00.000Z',
      });
    }
  });

  it("carries the dataset's real minutes on delivered and the rider on rider-assigned", () => {
    expect(events[3]).toMatchObject({ type: 'delivered', actualMinutes: 31 });
    expect(events[1]).toMatchObject({ type: 'rider-assigned', riderId: 'TESTRES01DEL01' });
  });

  it('takes the dong it is given (Geo answered) over the plan', () => {
    const e = orderEvent('created', scheduled!, {
      startMs: START,
      eventId: events[0]!.eventId,
      dongCode: '1111053000',
    });
    expect(e.dongCode).toBe('1111053000');
  });
});
