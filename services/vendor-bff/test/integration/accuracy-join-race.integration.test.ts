// The accuracy join when an order's delivery and its prediction are applied at the same moment, on real
// Postgres: the two come from two topics, so two transactions (two lanes of the in-process bus, two
// consumer pods) can each hold one half at once. The first is held open just before its commit until the
// second has gone as far as it can (finished, or waiting on a lock); then both finish. Each order must be
// joined exactly once whichever side came first. Without the per-order lock each transaction's join saw
// only its own half, both committed, and the order was never joined: seen as a flaky end-to-end test.
import type { OrderDelivered, PrecisePrediction } from '@eta/contracts';
import { newEventId } from '@eta/events';
import { pollUntil } from '@eta/testing';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations, type Database, type Queryable } from '../../src/adapters/db/index.ts';
import { applyOrderEvents, applyPredictions } from '../../src/adapters/db/live-events.ts';
import { postgresSchema, type SchemaDb, silentLog } from '../db/support.ts';

const TOPIC = 'orders';
const STORE = 7;

let pg: SchemaDb;

beforeAll(async () => {
  pg = await postgresSchema('joinrace');
  await runMigrations(pg.db, silentLog);
}, 60_000);

afterAll(async () => {
  await pg?.drop();
});

function delivered(orderId: string): OrderDelivered {
  const orderedAt = new Date(Date.now() - 40 * 60_000).toISOString();
  return {
    schemaVersion: 1,
    eventId: newEventId(),
    type: 'delivered',
    orderId,
    storeId: STORE,
    dongCode: '1144012000',
    orderedAt,
    occurredAt: new Date().toISOString(),
    actualMinutes: 38.5,
  };
}

function predicted(orderId: string): PrecisePrediction {
  return {
    schemaVersion: 1,
    type: 'prediction',
    kind: 'precise',
    eventId: newEventId(),
    occurredAt: new Date(Date.now() - 41 * 60_000).toISOString(),
    requestId: `req-${orderId}`,
    orderId,
    storeId: STORE,
    destinationCell: '8930e1d8a6bffff',
    model: { name: 'eta-precise', version: '2' },
    features: { distance_km: 2 },
    quantiles: { p10: 25, p50: 31.25, p90: 40 },
    shownMinutes: 31,
    shownRange: { low: 25, high: 40 },
    source: 'model',
    degraded: false,
  };
}

/**
 * The database with its transactions held open after their work, before COMMIT, until `release` resolves;
 * `pid` resolves to the transaction's backend, read as its first statement, and `atCommit` once the work
 * is done and the transaction waits.
 */
function heldBeforeCommit(
  db: Database,
  release: Promise<void>,
): { db: Database; pid: Promise<number>; atCommit: Promise<void> } {
  const pid = Promise.withResolvers<number>();
  const atCommit = Promise.withResolvers<void>();
  const held: Database = {
    ...db,
    query: (sql, params) => db.query(sql, params),
    transaction: (fn) =>
      db.transaction(async (tx: Queryable) => {
        pid.resolve((await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
        const result = await fn(tx);
        atCommit.resolve();
        await release;
        return result;
      }),
  };
  return { db: held, pid: pid.promise, atCommit: atCommit.promise };
}

/** The database with `pid` resolving to its transaction's backend, read as the transaction's first statement. */
function watched(db: Database): { db: Database; pid: Promise<number> } {
  return heldBeforeCommit(db, Promise.resolve());
}

/** Settles when `work` settled or its backend waits for a lock that another transaction holds. */
async function goneAsFarAsItCan(work: Promise<unknown>, pid: Promise<number>): Promise<void> {
  let settled = false;
  void work.then(
    () => (settled = true),
    () => (settled = true),
  );
  const backend = await pid;
  await pollUntil(
    async () =>
      settled ||
      Number(
        (
          await pg.db.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_locks WHERE pid = $1 AND NOT granted',
            [backend],
          )
        ).rows[0]!.n,
      ) > 0,
    (done) => done,
    30_000,
    20,
  );
}

const outcomes = async (orderId: string) =>
  (
    await pg.db.query<{ predicted_mm: string; actual_mm: string }>(
      'SELECT predicted_mm, actual_mm FROM accuracy_outcomes WHERE order_id = $1',
      [orderId],
    )
  ).rows.map((r) => ({ predictedMm: Number(r.predicted_mm), actualMm: Number(r.actual_mm) }));

const trainingRows = async (orderId: string) =>
  Number(
    (
      await pg.db.query<{ n: string }>('SELECT count(*) AS n FROM training_rows WHERE order_id = $1', [
        orderId,
      ])
    ).rows[0]!.n,
  );

describe('the accuracy join with both halves of an order in flight at once (real Postgres)', () => {
  for (const first of ['delivery', 'prediction'] as const) {
    it(`joins the order once when the ${first} is applied first and commits after the other was tried`, async () => {
      const orderId = `race-${first}-${randomUUID()}`;
      const delivery = delivered(orderId);
      const prediction = predicted(orderId);
      const now = new Date();
      const release = Promise.withResolvers<void>();
      const held = heldBeforeCommit(pg.db, release.promise);
      const other = watched(pg.db);

      const applyDelivery = (db: Database) =>
        applyOrderEvents(db, TOPIC, [{ eventId: delivery.eventId, value: delivery }], now);
      const applyPrediction = (db: Database) => applyPredictions(db, [prediction], now);

      // The first side does all its work and waits just before COMMIT.
      const firstWork = first === 'delivery' ? applyDelivery(held.db) : applyPrediction(held.db);
      await held.atCommit;
      // The other side runs as far as it can while the first is uncommitted; then the first commits.
      const secondWork = first === 'delivery' ? applyPrediction(other.db) : applyDelivery(other.db);
      await goneAsFarAsItCan(secondWork, other.pid);
      release.resolve();
      const [a, b] = await Promise.all([firstWork, secondWork]);

      expect(await outcomes(orderId)).toEqual([{ predictedMm: 31_250, actualMm: 38_500 }]);
      // Reported as joined by exactly one of the two, so the metrics count it once.
      expect(a.joined.length + b.joined.length).toBe(1);
      expect(await trainingRows(orderId)).toBe(1);
    }, 60_000);
  }
});
