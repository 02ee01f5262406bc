// Training rows in Postgres (migrations/0003_training_rows.sql), on embedded PGlite: written in the join's
// transaction for an eta-precise answer only, once per order whatever the arrival order or redeliveries,
// what the outbox hands the shipper, its lease, and the pruning rules with and without BigQuery.
import type { OrderDelivered, PrecisePrediction } from '@eta/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/adapters/db/index.ts';
import {
  applyOrderEvents,
  applyPredictions,
  prune,
  type Retention,
} from '../../src/adapters/db/live-events.ts';
import {
  countUnshipped,
  markShipped,
  releaseShipperLease,
  takeShipperLease,
  unshippedRows,
} from '../../src/adapters/db/training-rows.ts';
import { toBigQueryRow } from '../../src/domain/training-rows.ts';
import { migratedPglite } from './support.ts';

const NOW = new Date('2026-12-06T03:00:00Z');
let seq = 0;
const uuid = () => `0193a0c0-0000-7000-8000-${String(++seq).padStart(12, '0')}`;

const FEATURES = {
  distance_km: 2.345678,
  hour_of_day: 11,
  day_of_week: 6,
  region_class: 1,
  order_type: 0,
  weather: null,
  road_traffic: 2,
  rider_age: null,
  rider_rating: null,
  vehicle_type: 1,
  vehicle_condition: null,
  multiple_deliveries: null,
  festival: 0,
};

function prediction(orderId: string, over: Partial<PrecisePrediction> = {}): PrecisePrediction {
  return {
    schemaVersion: 1,
    type: 'prediction',
    kind: 'precise',
    eventId: uuid(),
    occurredAt: '2026-12-06T02:00:00.000Z',
    requestId: `req-${orderId}`,
    orderId,
    storeId: 42,
    destinationCell: '8930e1d8a6bffff',
    model: { name: 'eta-precise', version: '2' },
    features: FEATURES,
    quantiles: { p10: 21.123456789, p50: 27.5, p90: 36.000001 },
    shownMinutes: 28,
    shownRange: { low: 21, high: 36 },
    source: 'model',
    degraded: false,
    ...over,
  };
}

function delivered(orderId: string, actualMinutes = 31.23456): OrderDelivered {
  return {
    schemaVersion: 1,
    type: 'delivered',
    eventId: uuid(),
    orderId,
    storeId: 42,
    dongCode: '1144012000',
    orderedAt: '2026-12-06T01:59:30.000Z',
    occurredAt: '2026-12-06T02:31:00.000Z',
    actualMinutes,
  };
}

const deliver = (db: Database, e: OrderDelivered) =>
  applyOrderEvents(db, 'orders', [{ eventId: e.eventId, value: e }], NOW);

const count = async (db: Database, sql: string, params: unknown[] = []) =>
  Number((await db.query<{ n: string | number }>(sql, params)).rows[0]!.n);

describe('training rows (PGlite)', () => {
  let db: Database;
  beforeEach(async () => {
    db = await migratedPglite();
  }, 30_000);
  afterEach(async () => {
    await db.close();
  });

  it('prediction first, then delivery: one row with what was served and the minutes as reported', async () => {
    const p = prediction('o-1');
    expect((await applyPredictions(db, [p], NOW)).trainingRows).toBe(0);
    const d = delivered('o-1');
    expect((await deliver(db, d)).trainingRows).toBe(1);

    const [row] = await unshippedRows(db, 10);
    expect(toBigQueryRow(row!)).toEqual({
      order_id: 'o-1',
      prediction_id: p.eventId,
      store_id: 42,
      dong_code: '1144012000',
      ordered_at: '2026-12-06T01:59:30.000Z',
      // ordered_at + the measured minutes, as live accuracy has it.
      delivered_at: new Date(Date.parse(d.orderedAt) + d.actualMinutes * 60_000).toISOString(),
      predicted_at: '2026-12-06T02:00:00.000Z',
      seoul_date: '2026-12-06',
      seoul_hour: 10,
      model: 'eta-precise',
      model_version: '2',
      features: expect.any(String),
      p10: 21.123456789,
      p50: 27.5,
      p90: 36.000001,
      shown_minutes: 28,
      actual_minutes: 31.23456,
      written_at: NOW.toISOString(),
    });
    expect(JSON.parse(toBigQueryRow(row!).features)).toEqual(FEATURES);
  });

  it('delivery first, then prediction: the same one row', async () => {
    expect((await deliver(db, delivered('o-2'))).trainingRows).toBe(0);
    expect((await applyPredictions(db, [prediction('o-2')], NOW)).trainingRows).toBe(1);
    expect(await count(db, 'SELECT count(*) AS n FROM training_rows')).toBe(1);
  });

  it('redelivered events and a later tracking estimate write nothing more and change nothing', async () => {
    const p = prediction('o-3');
    const d = delivered('o-3');
    await applyPredictions(db, [p], NOW);
    await deliver(db, d);
    const before = await unshippedRows(db, 10);
    expect((await applyPredictions(db, [p, p], NOW)).trainingRows).toBe(0);
    expect((await deliver(db, d)).trainingRows).toBe(0);
    // Same order, a new delivered event id (a producer that minted a second one): still one row.
    expect((await deliver(db, { ...d, eventId: uuid() })).trainingRows).toBe(0);
    const tracking = prediction('o-3', {
      occurredAt: '2026-12-06T02:10:00.000Z',
      quantiles: { p10: 1, p50: 2, p90: 3 },
    });
    expect((await applyPredictions(db, [tracking], NOW)).trainingRows).toBe(0);
    expect(await unshippedRows(db, 10)).toEqual(before);
  });

  it('a checkout estimate arriving after a tracking one (both before the delivery) is the one kept', async () => {
    const checkout = prediction('o-4');
    const tracking = prediction('o-4', {
      occurredAt: '2026-12-06T02:10:00.000Z',
      quantiles: { p10: 1, p50: 2, p90: 3 },
    });
    await applyPredictions(db, [tracking], NOW);
    await applyPredictions(db, [checkout], NOW);
    await deliver(db, delivered('o-4'));
    const [row] = await unshippedRows(db, 10);
    expect(row!.prediction_id).toBe(checkout.eventId);
    expect(Number(row!.p50)).toBe(27.5);
  });

  it('manual times, a region default and the eta-rough stand-in make no training row (but are scored)', async () => {
    const none = { model: null, features: null, quantiles: null };
    await applyPredictions(
      db,
      [
        prediction('m-1', { ...none, source: 'manual' }),
        prediction('f-1', { ...none, source: 'fallback', degraded: true }),
        prediction('r-1', {
          model: { name: 'eta-rough', version: '2' },
          features: { distance_km: 2, hour_of_day: 11 },
          source: 'rough',
          degraded: true,
        }),
      ],
      NOW,
    );
    const applied = await applyOrderEvents(
      db,
      'orders',
      ['m-1', 'f-1', 'r-1'].map((id) => {
        const e = delivered(id);
        return { eventId: e.eventId, value: e };
      }),
      NOW,
    );
    expect(applied.joined).toHaveLength(3);
    expect(applied.trainingRows).toBe(0);
    expect(await count(db, 'SELECT count(*) AS n FROM training_rows')).toBe(0);
  });

  it('hands the shipper the oldest unshipped rows and marks only what it is told', async () => {
    for (const id of ['a', 'b', 'c']) {
      await applyPredictions(db, [prediction(id)], NOW);
      await applyOrderEvents(
        db,
        'orders',
        [delivered(id)].map((e) => ({ eventId: e.eventId, value: e })),
        new Date(NOW.getTime() + id.charCodeAt(0)),
      );
    }
    expect((await unshippedRows(db, 2)).map((r) => r.order_id)).toEqual(['a', 'b']);
    expect(await markShipped(db, ['a', 'b'], NOW)).toBe(2);
    expect(await markShipped(db, ['a'], NOW)).toBe(0);
    expect((await unshippedRows(db, 10)).map((r) => r.order_id)).toEqual(['c']);
    expect(await countUnshipped(db)).toBe(1);
  });

  it('one shipper at a time: the lease is refused to another holder until it runs out or is let go', async () => {
    expect(await takeShipperLease(db, 'pod-a', NOW, 60_000)).toBe(true);
    expect(await takeShipperLease(db, 'pod-b', NOW, 60_000)).toBe(false);
    expect(await takeShipperLease(db, 'pod-a', new Date(NOW.getTime() + 30_000), 60_000)).toBe(true);
    // pod-a renewed until +90 s.
    expect(await takeShipperLease(db, 'pod-b', new Date(NOW.getTime() + 80_000), 60_000)).toBe(false);
    expect(await takeShipperLease(db, 'pod-b', new Date(NOW.getTime() + 91_000), 60_000)).toBe(true);
    await releaseShipperLease(db, 'pod-a'); // not the holder: no effect
    expect(await takeShipperLease(db, 'pod-a', new Date(NOW.getTime() + 92_000), 60_000)).toBe(false);
    await releaseShipperLease(db, 'pod-b');
    expect(await takeShipperLease(db, 'pod-a', new Date(NOW.getTime() + 92_000), 60_000)).toBe(true);
  });

  describe('pruning', () => {
    const day = 86_400_000;
    const base: Omit<Retention, 'trainingRows'> = {
      receiptsMs: 48 * 3_600_000,
      joinWindowMs: 6 * 3_600_000,
      ordersMs: 6 * 3_600_000,
      outcomesMs: 90 * day,
    };
    const rowsLeft = async () =>
      (await db.query<{ order_id: string }>('SELECT order_id FROM training_rows ORDER BY order_id')).rows.map(
        (r) => r.order_id,
      );

    beforeEach(async () => {
      for (const id of ['x', 'y']) {
        await applyPredictions(db, [prediction(id)], NOW);
        await deliver(db, delivered(id));
      }
      await markShipped(db, ['x'], NOW);
    });

    it('with BigQuery: a row goes only once shipped, and then only after the shipped retention', async () => {
      const retention = { ...base, trainingRows: { ageMs: 90 * day, shippedMs: 3_600_000 } };
      expect((await prune(db, retention, new Date(NOW.getTime() + 30 * 60_000))).trainingRows).toBe(0);
      expect((await prune(db, retention, new Date(NOW.getTime() + 61 * 60_000))).trainingRows).toBe(1);
      // The unshipped row stays, however old: BigQuery may be away for days.
      expect((await prune(db, retention, new Date(NOW.getTime() + 1_000 * day))).trainingRows).toBe(0);
      expect(await rowsLeft()).toEqual(['y']);
    });

    it('without BigQuery: every row is kept TRAINING_ROWS_RETENTION_DAYS after its Seoul day', async () => {
      const retention = { ...base, trainingRows: { ageMs: 90 * day, shippedMs: null } };
      // Seoul day 2026-12-06; 90 days later is 2027-03-06, the day it is last kept.
      expect((await prune(db, retention, new Date('2027-03-06T14:00:00Z'))).trainingRows).toBe(0);
      expect(await rowsLeft()).toEqual(['x', 'y']);
      expect((await prune(db, retention, new Date('2027-03-07T15:30:00Z'))).trainingRows).toBe(2);
    });
  });
});
