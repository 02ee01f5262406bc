/**
 * Plays a schedule on the wall clock: at each step's time, the checkout estimate goes out (not awaited: a
 * slow BFF never holds the stream up) or the step's event is built, validated with the contract and handed
 * to every sink's queue. Ends when the last step is done and every estimate answered and every queue
 * drained, or early when `signal` aborts (what was due by then is still sent).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderEvent, type PreciseEstimateRequest } from '@eta/contracts';
import { EstimateTally, type EstimateCall, type EstimateFigures } from './estimates.ts';
import { orderEvent, preciseRequest, type EstimateClock } from './messages.ts';
import type { Schedule, ScheduledOrder } from './plan.ts';
import type { EventQueue, SinkFigures } from './sinks.ts';

export interface RunDeps {
  /** null: no estimates (events only). */
  readonly estimate: EstimateCall | null;
  readonly queues: readonly EventQueue[];
  readonly newEventId: () => string;
  /** The destination's dong for the events (Geo's answer, or the plan's). */
  readonly dongOf: (s: ScheduledOrder) => string;
  /** Which time of day the estimate's `orderedAt` names (messages.ts, EstimateClock); default wall. */
  readonly estimateClock?: EstimateClock;
  readonly signal?: AbortSignal;
  /** Called about every `progressEveryMs` while running. */
  readonly progress?: (p: Progress) => void;
  readonly progressEveryMs?: number;
}

export interface Progress {
  readonly elapsedMs: number;
  readonly plannedMs: number;
  readonly ordersCreated: number;
  readonly orders: number;
  readonly estimates: EstimateFigures;
  readonly backlog: number;
}

export interface RunFigures {
  readonly startedAt: string;
  /** From start until every estimate answered and every queue drained. */
  readonly wallMs: number;
  readonly plannedMs: number;
  readonly stepsDone: number;
  readonly steps: number;
  readonly ordersCreated: number;
  /** True when the run was interrupted before its last step. */
  readonly aborted: boolean;
  /** How late the worst step ran after its time, ms (a late loop, not a slow server). */
  readonly maxLagMs: number;
  readonly estimates: EstimateFigures;
  readonly events: readonly SinkFigures[];
}

/** Steps done in one go before yielding to I/O, when the loop has fallen behind. */
const MAX_STEPS_PER_TURN = 1_000;

export async function runSchedule(plan: Schedule, deps: RunDeps): Promise<RunFigures> {
  const tally = new EstimateTally();
  const inFlight = new Set<Promise<void>>();
  const startMs = Date.now();
  const t0 = performance.now();
  let i = 0;
  let created = 0;
  let maxLagMs = 0;
  let nextProgress = deps.progressEveryMs ?? Infinity;

  const checkout = (body: PreciseEstimateRequest) => {
    tally.sent();
    const p: Promise<void> = deps.estimate!(body)
      .then((o) => tally.record(o))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const steps = plan.steps;
  while (i < steps.length && deps.signal?.aborted !== true) {
    const elapsed = performance.now() - t0;
    if (elapsed >= nextProgress) {
      nextProgress += deps.progressEveryMs!;
      deps.progress?.({
        elapsedMs: Math.round(elapsed),
        plannedMs: plan.durationMs,
        ordersCreated: created,
        orders: plan.orders.length,
        estimates: tally.figures(),
        backlog: deps.queues.reduce((n, q) => n + q.backlog, 0),
      });
    }
    const wait = steps[i]!.atMs - elapsed;
    if (wait > 0) {
      const until = Math.min(wait, nextProgress - elapsed);
      await sleep(until, undefined, deps.signal ? { signal: deps.signal } : {}).catch(() => {});
      continue;
    }
    for (let n = 0; n < MAX_STEPS_PER_TURN && i < steps.length; n++, i++) {
      const step = steps[i]!;
      const lag = performance.now() - t0 - step.atMs;
      if (lag < 0) break;
      maxLagMs = Math.max(maxLagMs, lag);
      if (step.kind === 'checkout') {
        if (deps.estimate !== null)
          checkout(preciseRequest(step.scheduled, startMs, deps.estimateClock ?? 'wall'));
        continue;
      }
      if (step.kind === 'created') created++;
      // Validated here, so a bug in building one fails loudly instead of costing its batch a 400.
      const event = OrderEvent.parse(
        orderEvent(step.kind, step.scheduled, {
          startMs,
          eventId: deps.newEventId(),
          dongCode: deps.dongOf(step.scheduled),
        }),
      );
      for (const q of deps.queues) q.push(event);
    }
    // Let the sends of what was just due start before the next wait.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const stepsDone = i;
  while (inFlight.size > 0) await Promise.all(inFlight);
  await Promise.all(deps.queues.map((q) => q.drain()));
  return {
    startedAt: new Date(startMs).toISOString(),
    wallMs: Math.round(performance.now() - t0),
    plannedMs: plan.durationMs,
    stepsDone,
    steps: steps.length,
    ordersCreated: created,
    aborted: stepsDone < steps.length,
    maxLagMs: Math.round(maxLagMs),
    estimates: tally.figures(),
    events: deps.queues.map((q) => q.figures()),
  };
}
