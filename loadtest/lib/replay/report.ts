/** The replay's report: what was planned from the file, what Geo said, and what the suite answered. */
import type { RegionClass } from '@eta/contracts';
import { formatTable, type Cell } from '../table.ts';
import type { ParsedDataset } from './dataset.ts';
import type { GeoCheck } from './geo.ts';
import type { Plan, Schedule } from './plan.ts';
import type { RunFigures } from './runner.ts';
import type { ShiftOptions } from './shift.ts';

export interface PlanFigures {
  readonly selected: number;
  readonly unplaceable: number;
  readonly beyondMaxDuration: number;
  /** Orders in the schedule: what the run plays. */
  readonly scheduled: number;
  /** Share of scheduled orders at their dataset restaurant's store. */
  readonly homeStoreShare: number;
  readonly stores: number;
  readonly byRegionClass: Readonly<Record<RegionClass, number>>;
  /** Orders whose City was NaN (any class allowed). */
  readonly unconstrained: number;
  readonly pickupMoved: number;
  readonly plannedMs: number;
}

export interface ReplayReport {
  readonly runId: string;
  readonly seed: number;
  readonly speed: number;
  readonly dataset: {
    readonly rowsRead: number;
    readonly usable: number;
    readonly skipped: ParsedDataset['skipped'];
  };
  readonly plan: PlanFigures;
  /** The simulated shift this run applied on top of the real orders (shift.ts), or null. */
  readonly shift: (ShiftOptions & { readonly label: string; readonly ordersShifted: number }) | null;
  /** null: Geo not asked (--geo-url none or a dry run). */
  readonly geo: Omit<GeoCheck, 'dongs'> | null;
  /** null: a dry run. */
  readonly run: RunFigures | null;
}

export function planFigures(plan: Plan, sched: Schedule): PlanFigures {
  const byRegionClass: Record<RegionClass, number> = { metropolitan: 0, urban: 0, 'semi-urban': 0 };
  let home = 0;
  let unconstrained = 0;
  let pickupMoved = 0;
  const stores = new Set<number>();
  for (const { order } of sched.orders) {
    byRegionClass[order.regionClass]++;
    if (order.homeStore) home++;
    if (order.requiredClass === null) unconstrained++;
    if (order.pickupMoved) pickupMoved++;
    stores.add(order.storeId);
  }
  const n = sched.orders.length;
  return {
    selected: plan.orders.length + plan.unplaceable.length,
    unplaceable: plan.unplaceable.length,
    beyondMaxDuration: sched.beyondMaxDuration,
    scheduled: n,
    homeStoreShare: n === 0 ? 0 : Math.round((home / n) * 1000) / 1000,
    stores: stores.size,
    byRegionClass,
    unconstrained,
    pickupMoved,
    plannedMs: sched.durationMs,
  };
}

const count = (r: Readonly<Record<string, number>>) =>
  Object.entries(r)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '-';

/** The report as a two-column table for a terminal. */
export function formatReport(r: ReplayReport): string {
  const rows: [string, Cell][] = [
    ['run id', r.runId],
    ['seed / speed', `${r.seed} / ${r.speed}x`],
    ['dataset rows read / usable', `${r.dataset.rowsRead} / ${r.dataset.usable}`],
    ['rows skipped', count(r.dataset.skipped)],
    ['orders selected / unplaceable', `${r.plan.selected} / ${r.plan.unplaceable}`],
    ['orders beyond max duration', r.plan.beyondMaxDuration],
    ['orders scheduled', r.plan.scheduled],
    ['stores used (home-store share)', `${r.plan.stores} (${r.plan.homeStoreShare})`],
    ['destination region classes', `${count(r.plan.byRegionClass)} (City NaN: ${r.plan.unconstrained})`],
    ['pickup moved before delivery', r.plan.pickupMoved],
    ['planned duration s', r.plan.plannedMs / 1000],
  ];
  if (r.shift !== null)
    rows.unshift(['SIMULATED SHIFT', `${r.shift.label}; ${r.shift.ordersShifted} orders shifted`]);
  if (r.geo === null) rows.push(['geo check', 'not asked (dongs from the plan)']);
  else {
    rows.push(
      [
        'geo checked / dong / class disagreements',
        `${r.geo.checked} / ${r.geo.dongDisagreements} / ${r.geo.classDisagreements}`,
      ],
      ['geo max distance error m', Math.round(r.geo.maxDistanceErrorM * 1000) / 1000],
    );
  }
  const run = r.run;
  if (run === null) rows.push(['run', 'dry run: nothing sent']);
  else {
    const e = run.estimates;
    rows.push(
      ['orders created', `${run.ordersCreated}${run.aborted ? ' (interrupted)' : ''}`],
      ['estimates sent', e.sent],
      ['estimates answered / degraded / failed', `${e.answered} / ${e.degraded} / ${e.failed}`],
      ['estimate sources', count(e.sources)],
      ['estimate failures', count(e.failures)],
      ['estimate p50 / p99 / max ms', `${e.latency.p50} / ${e.latency.p99} / ${e.latency.max}`],
    );
    for (const s of run.events) {
      rows.push(
        [`events ${s.sink}: queued / accepted / failed`, `${s.queued} / ${s.accepted} / ${s.failed}`],
        [`events ${s.sink}: requests (retries)`, `${s.requests} (${s.retries})`],
      );
      if (s.lastError !== null)
        rows.push([`events ${s.sink}: errors`, `${count(s.errors)}; last: ${s.lastError}`]);
    }
    rows.push(
      ['wall time s (planned)', `${run.wallMs / 1000} (${run.plannedMs / 1000})`],
      ['max step lag ms', run.maxLagMs],
    );
  }
  return formatTable(
    rows.map(([what, value]) => ({ what, value: String(value) })),
    ['what', 'value'],
  );
}

/** A run lost something: an estimate failed, or an event was not accepted by every sink. */
export function runFailed(r: ReplayReport): boolean {
  if (r.run === null) return false;
  return r.run.estimates.failed > 0 || r.run.events.some((s) => s.failed > 0 || s.accepted < s.queued);
}
