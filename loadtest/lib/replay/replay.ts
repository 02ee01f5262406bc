/**
 * One replay from options to report: read the file, load the suite's stores and Geo's index, plan, ask
 * Geo, then play the schedule against the BFF and the sinks. The CLI (loadtest/replay.ts) is this plus
 * argument parsing, signals and printing.
 */
import { join } from 'node:path';
import { Agent } from 'undici';
import { devServiceToken } from '../suite.ts';
import { readOrdersFile } from './dataset.ts';
import { loadEventsPackage, type EventsPackage } from './events-package.ts';
import { estimateClient } from './estimates.ts';
import { checkWithGeo, type GeoCheck } from './geo.ts';
import type { ReplayOptions } from './options.ts';
import { planReplay, schedule } from './plan.ts';
import { planFigures, type ReplayReport } from './report.ts';
import { applyShift, describeShift } from './shift.ts';
import { runSchedule, type Progress } from './runner.ts';
import { EventQueue, httpSink, kafkaSink, type EventSink } from './sinks.ts';
import { loadWorld } from './world.ts';

export interface ReplayContext {
  /** The checkout whose services' code and data describe the suite (stores, Geo's index). */
  readonly root: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
  /** Lines for a human while it runs (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/** The shared dataset beside the checkout, where the model's loader finds it too. */
export function defaultDataPath(root: string): string {
  return join(root, '..', 'shared', 'data', 'food-delivery-india', 'orders-train.csv.gz');
}

export async function runReplay(opts: ReplayOptions, ctx: ReplayContext): Promise<ReplayReport> {
  const [dataset, world] = await Promise.all([
    readOrdersFile(opts.data ?? defaultDataPath(ctx.root)),
    loadWorld(ctx.root, opts.stores),
  ]);
  const planned = planReplay(dataset.orders, world, opts);
  const shifted = opts.shift === null ? null : applyShift(planned.orders, opts.shift);
  const plan = shifted === null ? planned : { ...planned, orders: shifted.orders };
  const sched = schedule(plan.orders, opts);
  const base = {
    runId: opts.runId,
    seed: opts.seed,
    speed: opts.speed,
    dataset: { rowsRead: dataset.rowsRead, usable: dataset.orders.length, skipped: dataset.skipped },
    plan: planFigures(plan, sched),
    shift:
      opts.shift === null
        ? null
        : {
            label: describeShift(opts.shift),
            ...opts.shift,
            ordersShifted: sched.orders.filter((s) => s.order.shifted).length,
          },
  };
  if (base.shift !== null) ctx.log(`${base.shift.label} (${base.shift.ordersShifted} scheduled orders)`);
  ctx.log(
    `replay ${opts.runId}: ${sched.orders.length} orders over ${(sched.durationMs / 1000).toFixed(1)} s ` +
      `(speed ${opts.speed}x, seed ${opts.seed})`,
  );
  if (opts.dryRun) return { ...base, geo: null, run: null };

  const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  const sinks: EventSink[] = [];
  try {
    let geo: GeoCheck | null = null;
    if (opts.geoUrl !== null) {
      geo = await checkWithGeo(
        opts.geoUrl,
        sched.orders.map((s) => s.order),
        dispatcher,
        opts.timeoutMs,
      );
    }
    const needsToken = opts.estimates || opts.sinks.includes('http');
    const token = needsToken ? ctx.env.REPLAY_TOKEN?.trim() || devServiceToken(ctx.root, 'replay') : '';
    const events: EventsPackage = await loadEventsPackage(ctx.root);
    for (const name of opts.sinks) {
      sinks.push(
        name === 'http'
          ? httpSink({ baseUrl: opts.bffUrl, token, dispatcher, timeoutMs: opts.timeoutMs })
          : await kafkaSink({ brokers: opts.brokers, topicPrefix: opts.topicPrefix, events }),
      );
    }
    const queues = sinks.map(
      (s) =>
        new EventQueue(s, { retryForMs: opts.retryForMs, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
    );
    const run = await runSchedule(sched, {
      estimate: opts.estimates
        ? estimateClient({ baseUrl: opts.bffUrl, token, dispatcher, timeoutMs: opts.timeoutMs })
        : null,
      queues,
      newEventId: () => events.newEventId(),
      dongOf: (s) => geo?.dongs.get(s.order.orderId) ?? s.order.dongCode,
      estimateClock: opts.estimateClock,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      progressEveryMs: 10_000,
      progress: (p) => ctx.log(progressLine(p)),
    });
    return { ...base, geo: geo === null ? null : geoFigures(geo), run };
  } finally {
    await Promise.all(sinks.map((s) => s.close()));
    await dispatcher.close();
  }
}

function geoFigures({ dongs: _, ...figures }: GeoCheck): Omit<GeoCheck, 'dongs'> {
  return figures;
}

function progressLine(p: Progress): string {
  const e = p.estimates;
  return (
    `  ${(p.elapsedMs / 1000).toFixed(0)}/${(p.plannedMs / 1000).toFixed(0)} s: ` +
    `${p.ordersCreated}/${p.orders} orders; estimates ${e.answered} ok, ${e.degraded} degraded, ` +
    `${e.failed} failed; ${p.backlog} events waiting`
  );
}
