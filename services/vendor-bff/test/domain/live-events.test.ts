import type { OrderEvent, PrecisePrediction, RoughPrediction } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import {
  countEvents,
  deliveryRow,
  figuresOf,
  foldOrders,
  predictionRow,
  seoulDayHour,
  toMilliMinutes,
} from '../../src/domain/live-events.ts';

const base = {
  schemaVersion: 1 as const,
  occurredAt: '2026-12-06T10:00:00Z',
  orderId: 'o-1',
  storeId: 7,
  dongCode: '1144012000',
  orderedAt: '2026-12-06T09:50:00Z',
};
let n = 0;
const ev = (type: OrderEvent['type'], extra: Record<string, unknown> = {}): OrderEvent =>
  ({
    ...base,
    eventId: `0190a0a0-0000-7000-8000-${String(++n).padStart(12, '0')}`,
    type,
    ...extra,
  }) as OrderEvent;

describe('foldOrders', () => {
  it('keeps the furthest step whatever order the events came in, and the delivery minutes', () => {
    const [state] = foldOrders([
      ev('delivered', { actualMinutes: 31.5, occurredAt: '2026-12-06T10:21:30Z' }),
      ev('created'),
      ev('picked-up'),
    ]);
    expect(state).toMatchObject({ status: 'delivered', rank: 4, actualMinutes: 31.5 });
    expect(state!.deliveredAt).toBe('2026-12-06T10:21:30Z');
  });

  it('the first terminal step stays: a delivery after a cancellation does not revive the order', () => {
    const [state] = foldOrders([ev('created'), ev('cancelled'), ev('delivered', { actualMinutes: 20 })]);
    expect(state).toMatchObject({ status: 'cancelled', deliveredAt: null, actualMinutes: null });
  });

  it('one state per order, and counts per dong and type', () => {
    const other = { orderId: 'o-2', dongCode: '1111051500' };
    const events = [ev('created'), ev('created', other), ev('rider-assigned', other), ev('created')];
    expect(foldOrders(events).map((s) => [s.orderId, s.status])).toEqual([
      ['o-1', 'created'],
      ['o-2', 'rider-assigned'],
    ]);
    expect(countEvents(events)).toEqual([
      { dongCode: '1144012000', type: 'created', count: 2 },
      { dongCode: '1111051500', type: 'created', count: 1 },
      { dongCode: '1111051500', type: 'rider-assigned', count: 1 },
    ]);
  });
});

const served = {
  schemaVersion: 1 as const,
  type: 'prediction' as const,
  eventId: '0190a0a0-0000-7000-8000-00000000ffff',
  occurredAt: '2026-12-06T09:49:00Z',
  requestId: 'r-1',
  destinationCell: '8930e1d8a6bffff',
  features: { distance_km: 2.1 },
  shownMinutes: 35,
  shownRange: { low: 30, high: 42 },
  degraded: false,
};

describe('predictionRow', () => {
  it("scores the model's own p50 and p10-p90, not the shown (clamped, busy) minutes", () => {
    const p: PrecisePrediction = {
      ...served,
      kind: 'precise',
      orderId: 'o-1',
      storeId: 7,
      model: { name: 'eta-precise', version: '2' },
      quantiles: { p10: 24.25, p50: 29.1234, p90: 37.5 },
      source: 'model',
    };
    expect(predictionRow(p)).toMatchObject({
      model: 'eta-precise@2',
      predictedMm: 29123,
      lowMm: 24250,
      highMm: 37500,
    });
  });

  it('an answer with no model behind it is scored on what was shown, under its source', () => {
    const p: PrecisePrediction = {
      ...served,
      kind: 'precise',
      orderId: 'o-1',
      storeId: 7,
      model: null,
      features: null,
      quantiles: null,
      source: 'manual',
    };
    expect(predictionRow(p)).toMatchObject({
      model: 'manual',
      predictedMm: 35000,
      lowMm: 30000,
      highMm: 42000,
    });
  });

  it('nothing to join without an order id, or for a rough answer', () => {
    const precise = {
      ...served,
      kind: 'precise',
      orderId: null,
      storeId: 7,
      model: null,
      quantiles: null,
      source: 'fallback',
    } as PrecisePrediction;
    const rough = {
      ...served,
      kind: 'rough',
      items: [],
    } as unknown as RoughPrediction;
    expect(predictionRow(precise)).toBeNull();
    expect(predictionRow(rough)).toBeNull();
  });
});

describe('Seoul days and the figures', () => {
  it('days and hours are Asia/Seoul (UTC+9): 15:30 UTC is 00:30 the next day', () => {
    expect(seoulDayHour('2026-12-06T15:30:00Z')).toEqual({ date: '2026-12-07', hour: 0 });
    expect(seoulDayHour(new Date('2026-12-06T14:59:59Z'))).toEqual({ date: '2026-12-06', hour: 23 });
  });

  it('a delivery is dated by when its order was placed, delivered at placed + its minutes', () => {
    const d = deliveryRow(
      ev('delivered', { orderedAt: '2026-12-06T23:50:00+09:00', actualMinutes: 25.5 }) as Extract<
        OrderEvent,
        { type: 'delivered' }
      >,
    );
    expect(d).toMatchObject({ seoulDate: '2026-12-06', seoulHour: 23, actualMm: 25500 });
    expect(d.deliveredAt).toBe('2026-12-06T15:15:30.000Z');
  });

  it('figures are exact over milli-minutes and rounded once: 3 decimals of minutes, 4 of coverage', () => {
    expect(toMilliMinutes(12.34567)).toBe(12346);
    expect(figuresOf({ orders: 3, absErrorMm: 10_000, errorMm: -2_000, covered: 2 })).toEqual({
      orders: 3,
      maeMinutes: 3.333,
      biasMinutes: -0.667,
      coverage: 0.6667,
    });
    expect(figuresOf({ orders: 0, absErrorMm: 0, errorMm: 0, covered: 0 })).toEqual({
      orders: 0,
      maeMinutes: null,
      biasMinutes: null,
      coverage: null,
    });
  });
});
