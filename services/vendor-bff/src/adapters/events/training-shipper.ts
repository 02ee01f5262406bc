/**
 * The training-row shipper (ROLE=events with BIGQUERY_PROJECT; docs/adr/0007-training-rows.md): a
 * background loop, never overlapping itself and never in the consumers' way, that copies the oldest
 * unshipped rows of Postgres' `training_rows` to BigQuery in batches (insertId = order_id) and marks them
 * shipped only after BigQuery accepted them. One pod ships at a time (a lease in Postgres). A failure backs
 * off (1 s doubling to TRAINING_ROWS_SHIP_MAX_BACKOFF) and the rows wait in Postgres; a BigQuery outage
 * never makes the pod unready, and nothing is dropped while it lasts.
 */
import {
  TRAINING_ROWS_SHIP_FAILURES_TOTAL,
  TRAINING_ROWS_SHIP_STAGES,
  TRAINING_ROWS_SHIPPED_TOTAL,
  TRAINING_ROWS_UNSHIPPED,
  type TrainingRowsShipStage,
} from '@eta/contracts';
import { Counter, Gauge, type Registry } from 'prom-client';
import { shipBackoffMs, toBigQueryRow, type TrainingRowsSink } from '../../domain/training-rows.ts';
import type { Database } from '../db/database.ts';
import {
  countUnshipped,
  markShipped,
  releaseShipperLease,
  takeShipperLease,
  unshippedRows,
} from '../db/training-rows.ts';

export interface TrainingShipperLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface TrainingShipperOptions {
  readonly db: Database;
  readonly sink: TrainingRowsSink;
  readonly registry: Registry;
  readonly log: TrainingShipperLog;
  /** This pod's name in the lease (unique per process). */
  readonly holder: string;
  /** Rows per insert request (BigQuery recommends about 500; a row is about 1 KB). */
  readonly batch: number;
  /** Time between rounds (a round ships until nothing is left, or MAX_BATCHES_PER_ROUND). */
  readonly intervalMs: number;
  /** The longest wait after failures in a row. */
  readonly maxBackoffMs: number;
  /** How long the lease lasts without renewal (renewed before each batch). */
  readonly leaseMs: number;
  readonly now?: () => Date;
  /**
   * Tests only: runs after BigQuery accepted a batch and before it is marked shipped. A throw here is the
   * crash between the two that makes a batch go to BigQuery twice.
   */
  readonly afterInsert?: (orderIds: readonly string[]) => Promise<void> | void;
}

/** What one round did. */
export interface ShipRound {
  readonly outcome: 'shipped' | 'idle' | 'backing-off' | 'not-leader' | 'failed' | 'closed';
  readonly shipped: number;
  readonly unshipped: number | null;
}

export interface TrainingShipper {
  /** Starts the rounds (every intervalMs). */
  start(): void;
  /** One round now, unless one is running (then its result); the timer's rounds are these too. */
  shipOnce(): Promise<ShipRound>;
  /** Stops the rounds, waits for the one in flight (bounded by the calls' deadlines), lets the lease go. */
  close(): Promise<void>;
}

/** A backlog drains this many batches per round before the next round (the lease is renewed per batch). */
const MAX_BATCHES_PER_ROUND = 40;

class ShipStageError extends Error {
  readonly stage: TrainingRowsShipStage;
  constructor(stage: TrainingRowsShipStage, cause: unknown) {
    super(`training rows: ${stage} failed`, { cause });
    this.stage = stage;
  }
}

export function openTrainingShipper(opts: TrainingShipperOptions): TrainingShipper {
  const now = opts.now ?? (() => new Date());
  const shippedTotal = new Counter({
    name: TRAINING_ROWS_SHIPPED_TOTAL,
    help: 'Training rows BigQuery accepted and that were marked shipped in Postgres.',
    registers: [opts.registry],
  });
  const failures = new Counter({
    name: TRAINING_ROWS_SHIP_FAILURES_TOTAL,
    help:
      'Failed shipping attempts, by stage (ensure: dataset/table; insert: a batch refused or timed out; mark: ' +
      'the Postgres update after BigQuery accepted, so that batch goes again; postgres: reading the outbox).',
    labelNames: ['stage'] as const,
    registers: [opts.registry],
  });
  for (const stage of TRAINING_ROWS_SHIP_STAGES) failures.inc({ stage }, 0);
  const unshippedGauge = new Gauge({
    name: TRAINING_ROWS_UNSHIPPED,
    help: 'Training rows in Postgres not yet shipped to BigQuery (read after each shipping round).',
    registers: [opts.registry],
  });

  let closed = false;
  let ensured = false;
  let failuresInARow = 0;
  let backoffUntil = 0;
  let running: Promise<ShipRound> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function failed(err: unknown, stage: TrainingRowsShipStage): void {
    failures.inc({ stage });
    failuresInARow += 1;
    const wait = shipBackoffMs(failuresInARow, opts.maxBackoffMs);
    backoffUntil = Date.now() + wait;
    const detail = (err as { errors?: unknown } | null)?.errors;
    opts.log.warn(
      { err, stage, table: opts.sink.table, failuresInARow, retryInMs: wait, ...(detail ? { detail } : {}) },
      stage === 'mark'
        ? 'training rows: BigQuery accepted a batch that could not be marked shipped; it will be sent again (readers dedupe on order_id)'
        : 'training rows: shipping failed; the rows wait in Postgres',
    );
  }

  async function stage<T>(name: TrainingRowsShipStage, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ShipStageError(name, err);
    }
  }

  async function round(): Promise<ShipRound> {
    if (closed) return { outcome: 'closed', shipped: 0, unshipped: null };
    if (Date.now() < backoffUntil) return { outcome: 'backing-off', shipped: 0, unshipped: null };
    let shipped = 0;
    try {
      const leader = await stage('postgres', () =>
        takeShipperLease(opts.db, opts.holder, now(), opts.leaseMs),
      );
      if (!leader) {
        const unshipped = await stage('postgres', () => countUnshipped(opts.db));
        unshippedGauge.set(unshipped);
        return { outcome: 'not-leader', shipped: 0, unshipped };
      }
      if (!ensured) {
        await stage('ensure', () => opts.sink.ensure());
        ensured = true;
        opts.log.info({ table: opts.sink.table }, 'training rows: shipping to BigQuery');
      }
      for (let i = 0; i < MAX_BATCHES_PER_ROUND && !closed; i++) {
        if (i > 0) await stage('postgres', () => takeShipperLease(opts.db, opts.holder, now(), opts.leaseMs));
        const rows = await stage('postgres', () => unshippedRows(opts.db, opts.batch));
        if (rows.length === 0) break;
        const ids = rows.map((r) => r.order_id);
        await stage('insert', () => opts.sink.insert(rows.map(toBigQueryRow)));
        const marked = await stage('mark', async () => {
          await opts.afterInsert?.(ids);
          return markShipped(opts.db, ids, now());
        });
        shipped += marked;
        shippedTotal.inc(marked);
        failuresInARow = 0;
        if (rows.length < opts.batch) break;
      }
      const unshipped = await stage('postgres', () => countUnshipped(opts.db));
      unshippedGauge.set(unshipped);
      return { outcome: shipped > 0 ? 'shipped' : 'idle', shipped, unshipped };
    } catch (err) {
      const s = err instanceof ShipStageError ? err.stage : 'postgres';
      const cause = err instanceof ShipStageError ? err.cause : err;
      // A table that vanished (404) is created again at the next round.
      if (s === 'insert' && (cause as { code?: unknown } | null)?.code === 404) ensured = false;
      failed(cause, s);
      return { outcome: 'failed', shipped, unshipped: null };
    }
  }

  function shipOnce(): Promise<ShipRound> {
    if (running !== undefined) return running;
    const p = round().finally(() => {
      running = undefined;
    });
    running = p;
    return p;
  }

  return {
    start() {
      if (timer !== undefined || closed) return;
      timer = setInterval(() => {
        if (running === undefined) void shipOnce();
      }, opts.intervalMs);
      timer.unref();
    },
    shipOnce,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
      await releaseShipperLease(opts.db, opts.holder).catch((err: unknown) =>
        opts.log.warn(
          { err },
          'training rows: could not let the shipper lease go; another pod takes it after it runs out',
        ),
      );
      await opts.sink.close();
    },
  };
}
