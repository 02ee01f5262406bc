/**
 * A day of traffic against the cluster's response to it, second by second (services/prescaler/README.md,
 * "The simulator"). Per role: one Deployment with an autoscaling/v2 HPA on CPU utilization (hpa.ts, the
 * controller's own algorithm, every sync period), pods that take `podStartS` from being bound to a node to
 * Ready, a node pool of `podsPerNode` pods per node whose new nodes take `nodeDelayS` to arrive (the
 * cluster autoscaler asks for them as soon as a pod is pending), placeholder pods in the pool that a real
 * pod preempts at once, and schedules that set the HPA's minReplicas and the placeholders' replicas.
 *
 * Load and CPU: the offered rate is spread evenly over the Ready pods. A Ready pod's CPU utilization (% of
 * its request, what the HPA sees) = min(rate per pod / rpsPerPod x cpuAtCapacityPercent, maxCpuPercent);
 * pods not Ready use none. The metrics API serves, stamped at every multiple of metricsWindowS, each pod's
 * average over the window before the stamp (a pod bound for less than that window has no sample yet); the
 * HPA reads the newest sample stamped at least metricsDelayS before its sync.
 *
 * The SLO: a second is over when the offered rate exceeds the Ready pods' capacity (Ready pods x
 * rpsPerPod); a minute is above the SLO when any of its seconds is over (its p99 would be broken by the
 * queue that second builds). Replica-hours count the Deployment's pods (spec.replicas: pending and
 * starting ones too); placeholders and nodes are counted on their own.
 */
import { cronMatches } from './cron.ts';
import {
  type ControllerConfig,
  CONTROLLER_DEFAULTS,
  EMPTY_MEMORY,
  type HpaMemory,
  type HpaSpec,
  hpaStep,
  type PodView,
} from './hpa.ts';
import { byRole, type Sample } from './history.ts';
import { ceilReplicas } from './plan.ts';
import type { TargetId } from './targets.ts';
import { DAY_S } from './time.ts';
import type { ReplaySchedule } from './values.ts';

export interface RoleModel {
  readonly role: TargetId;
  readonly rpsPerPod: number;
  readonly cpuAtCapacityPercent: number;
  readonly maxCpuPercent: number;
  readonly podStartS: number;
  /** The pod's CPU request in millicores (only its rounding matters to the HPA). */
  readonly requestMilli: number;
  readonly hpa: HpaSpec;
}

export interface PoolModel {
  readonly name: string;
  readonly podsPerNode: number;
  /** Nodes at the start beyond what the initial pods and placeholders fill. */
  readonly spareNodes: number;
}

export interface ClusterModel {
  readonly nodeDelayS: number;
  /** The cluster autoscaler's --scale-down-unneeded-time: a node's worth of free room this long is removed. */
  readonly nodeScaleDownS: number;
  readonly controller: ControllerConfig;
  readonly metricsWindowS: number;
  readonly metricsDelayS: number;
  /** From a schedule's minute to its values being set (the CronJob's pod start and the prescaler's calls). */
  readonly cronDelayS: number;
}

export const CLUSTER_DEFAULTS: ClusterModel = {
  nodeDelayS: 240,
  nodeScaleDownS: 600,
  controller: CONTROLLER_DEFAULTS,
  metricsWindowS: 15,
  metricsDelayS: 15,
  cronDelayS: 10,
};

/** A schedule's values landing: the HPA's minReplicas and/or the pool's placeholders. */
export interface ControlEvent {
  readonly atS: number;
  readonly name: string;
  readonly minReplicas?: number | undefined;
  readonly placeholders?: number | undefined;
}

export type Control =
  /** The HPA, with schedules (none: reactive only). */
  | { readonly kind: 'hpa'; readonly events: readonly ControlEvent[] }
  /** No HPA: the Deployment's replicas set at the start of each minute (the oracle). */
  | { readonly kind: 'direct'; readonly replicasPerMinute: readonly number[] };

export interface MinuteRow {
  /** Epoch seconds of the minute's start. */
  readonly t: number;
  /** Mean offered rate. */
  readonly offeredRps: number;
  /** Deployment replicas at the minute's end. */
  readonly replicas: number;
  /** Fewest Ready pods during the minute. */
  readonly readyMin: number;
  readonly placeholders: number;
  readonly nodes: number;
  readonly hpaMin: number;
  readonly overSeconds: number;
}

export interface RoleRun {
  readonly role: TargetId;
  readonly overSeconds: number;
  /** Minute indexes (from the start) with at least one second over. */
  readonly minutesOver: readonly number[];
  /** Requests offered beyond the Ready capacity, summed over the seconds over. */
  readonly excessRequests: number;
  readonly replicaSeconds: number;
  readonly placeholderSeconds: number;
  readonly nodeSeconds: number;
  readonly maxReplicas: number;
  readonly minutes: readonly MinuteRow[];
}

interface Pod {
  readonly name: string;
  boundS: number | undefined;
  readyS: number | undefined;
}

export interface RoleSimInput {
  readonly startS: number;
  /** Offered requests/s for each second from startS. */
  readonly rates: Float64Array;
  readonly role: RoleModel;
  readonly pool: PoolModel;
  readonly cluster: ClusterModel;
  readonly control: Control;
  /** Values in effect at the start (the last schedule before it); default the HPA's own minReplicas, 0. */
  readonly initialMinReplicas?: number | undefined;
  readonly initialPlaceholders?: number | undefined;
}

/** Utilization % of a Ready pod when `ready` pods share `rps`. */
export function podUtilization(role: RoleModel, rps: number, ready: number): number {
  if (ready <= 0) return 0;
  return Math.min((rps / ready / role.rpsPerPod) * role.cpuAtCapacityPercent, role.maxCpuPercent);
}

/** Replicas at which the HPA is content with `rps`: utilization at its target. */
export function equilibriumReplicas(role: RoleModel, rps: number, minReplicas: number): number {
  const perPod = (role.rpsPerPod * role.hpa.targetUtilization) / role.cpuAtCapacityPercent;
  return Math.min(role.hpa.maxReplicas, Math.max(minReplicas, ceilReplicas(rps / perPod)));
}

export function simulateRole(input: RoleSimInput): RoleRun {
  const { startS, rates, role, pool, cluster, control } = input;
  const c = cluster.controller;
  const duration = rates.length;
  const ppn = pool.podsPerNode;
  let hpaMin = input.initialMinReplicas ?? role.hpa.minReplicas;
  let placeholderTarget = input.initialPlaceholders ?? 0;
  const rate0 = rates[0] ?? 0;
  let replicas =
    control.kind === 'direct'
      ? (control.replicasPerMinute[0] ?? 1)
      : equilibriumReplicas(role, rate0, hpaMin);
  let seq = 0;
  const pods: Pod[] = [];
  for (let i = 0; i < replicas; i++)
    pods.push({ name: `p${seq++}`, boundS: startS - 3600, readyS: startS - 3600 });
  let phBound = placeholderTarget;
  let phPending = 0;
  let nodes = Math.ceil((replicas + phBound) / ppn) + pool.spareNodes;
  const provisioning: number[] = [];
  let unneededSince: number | undefined;
  let memory: HpaMemory = EMPTY_MEMORY;
  const hpa: HpaSpec = role.hpa;
  // Per-second utilization of a Ready pod; before the start, the start's.
  const util = new Float64Array(duration);
  const util0 = podUtilization(role, rate0, replicas);
  const utilAt = (s: number) => (s < startS ? util0 : (util[s - startS] ?? 0));

  let eventIndex = 0;
  const events = control.kind === 'hpa' ? control.events : [];
  let overSeconds = 0;
  let excess = 0;
  let replicaSeconds = 0;
  let placeholderSeconds = 0;
  let nodeSeconds = 0;
  let maxReplicas = replicas;
  const minutesOver: number[] = [];
  const minutes: MinuteRow[] = [];
  let mOffered = 0;
  let mReadyMin = Infinity;
  let mOver = 0;

  const metricOf = (p: Pod, now: number): PodView['metric'] => {
    // The sample stamped ts covers the seconds [ts - w, ts), all simulated before this sync's second.
    const w = cluster.metricsWindowS;
    const ts = Math.floor((now - cluster.metricsDelayS) / w) * w;
    if (p.boundS === undefined || p.boundS > ts - w) return undefined;
    let sum = 0;
    for (let s = ts - w; s < ts; s++) if (p.readyS !== undefined && p.readyS <= s) sum += utilAt(s);
    return { valueMilli: (sum / w / 100) * role.requestMilli, timestampS: ts, windowS: w };
  };

  for (let k = 0; k < duration; k++) {
    const now = startS + k;
    // 1. Schedules, or the oracle's minute.
    while (eventIndex < events.length && events[eventIndex]!.atS <= now) {
      const e = events[eventIndex++]!;
      if (e.minReplicas !== undefined) hpaMin = e.minReplicas;
      if (e.placeholders !== undefined) placeholderTarget = e.placeholders;
    }
    if (control.kind === 'direct' && k % 60 === 0) {
      replicas = control.replicasPerMinute[Math.floor(k / 60)] ?? replicas;
    }
    // 2. Nodes arriving.
    for (let i = provisioning.length - 1; i >= 0; i--) {
      if (provisioning[i]! <= now) {
        provisioning.splice(i, 1);
        nodes++;
      }
    }
    // 3. The HPA's sync.
    if (control.kind === 'hpa' && now % c.syncPeriodS === 0) {
      const views: PodView[] = pods.map((p) => {
        const bound = p.boundS !== undefined;
        const isReady = p.readyS !== undefined && p.readyS <= now;
        return {
          name: p.name,
          phase: bound ? 'Running' : 'Pending',
          ready: bound ? { status: isReady, lastTransitionS: isReady ? p.readyS! : p.boundS! } : undefined,
          startTimeS: p.boundS,
          requestMilli: role.requestMilli,
          metric: metricOf(p, now),
        };
      });
      const r = hpaStep({ ...hpa, minReplicas: hpaMin }, c, memory, {
        nowS: now,
        specReplicas: replicas,
        pods: views,
      });
      memory = r.memory;
      replicas = r.replicas;
    }
    // 4. The ReplicaSets: create, or delete unscheduled, then starting, then the most recently Ready pods.
    while (pods.length < replicas) pods.push({ name: `p${seq++}`, boundS: undefined, readyS: undefined });
    if (pods.length > replicas) {
      const rank = (p: Pod) => (p.boundS === undefined ? 0 : p.readyS! > now ? 1 : 2);
      pods.sort((a, b) => rank(a) - rank(b) || (b.readyS ?? Infinity) - (a.readyS ?? Infinity));
      pods.splice(0, pods.length - replicas);
    }
    const phTotal = phBound + phPending;
    if (phTotal < placeholderTarget) phPending += placeholderTarget - phTotal;
    else if (phTotal > placeholderTarget) {
      let drop = phTotal - placeholderTarget;
      const fromPending = Math.min(drop, phPending);
      phPending -= fromPending;
      drop -= fromPending;
      phBound -= drop;
    }
    // 5. The scheduler: real pods first, preempting placeholders; then placeholders into what is left.
    let bound = 0;
    for (const p of pods) if (p.boundS !== undefined) bound++;
    let free = nodes * ppn - bound - phBound;
    let unbound = 0;
    for (const p of pods) {
      if (p.boundS !== undefined) continue;
      if (free <= 0 && phBound > 0) {
        phBound--;
        phPending++;
        free++;
      }
      if (free > 0) {
        p.boundS = now;
        p.readyS = now + role.podStartS;
        free--;
      } else unbound++;
    }
    const phBind = Math.min(phPending, Math.max(0, free));
    phPending -= phBind;
    phBound += phBind;
    free -= phBind;
    // 6. The cluster autoscaler: nodes for whatever is pending, beyond the nodes on their way; a node's worth
    //    of free room for nodeScaleDownS is removed.
    const pending = unbound + phPending;
    const coming = provisioning.length * ppn;
    if (pending > coming) {
      const add = Math.ceil((pending - coming) / ppn);
      for (let i = 0; i < add; i++) provisioning.push(now + cluster.nodeDelayS);
    }
    if (pending === 0 && free >= ppn) {
      unneededSince ??= now;
      if (now - unneededSince >= cluster.nodeScaleDownS) {
        nodes -= Math.floor(free / ppn);
        unneededSince = undefined;
      }
    } else unneededSince = undefined;
    // 7. This second's service.
    let ready = 0;
    for (const p of pods) if (p.readyS !== undefined && p.readyS <= now) ready++;
    const offered = rates[k]!;
    util[k] = podUtilization(role, offered, ready);
    const capacity = ready * role.rpsPerPod;
    if (offered > capacity + 1e-9) {
      overSeconds++;
      mOver++;
      excess += offered - capacity;
    }
    replicaSeconds += pods.length;
    placeholderSeconds += phBound + phPending;
    nodeSeconds += nodes + provisioning.length;
    maxReplicas = Math.max(maxReplicas, pods.length);
    mOffered += offered;
    mReadyMin = Math.min(mReadyMin, ready);
    if (k % 60 === 59 || k === duration - 1) {
      const len = (k % 60) + 1;
      const m = Math.floor(k / 60);
      if (mOver > 0) minutesOver.push(m);
      minutes.push({
        t: startS + m * 60,
        offeredRps: mOffered / len,
        replicas: pods.length,
        readyMin: mReadyMin,
        placeholders: phBound + phPending,
        nodes: nodes + provisioning.length,
        hpaMin,
        overSeconds: mOver,
      });
      mOffered = 0;
      mReadyMin = Infinity;
      mOver = 0;
    }
  }
  return {
    role: role.role,
    overSeconds,
    minutesOver,
    excessRequests: excess,
    replicaSeconds,
    placeholderSeconds,
    nodeSeconds,
    maxReplicas,
    minutes,
  };
}

/** Offered rate per second over [startS, startS + duration): each sample holds until the next. */
export function ratesPerSecond(samples: readonly Sample[], startS: number, duration: number): Float64Array {
  const out = new Float64Array(duration);
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  let i = 0;
  let current = sorted[0]?.rps ?? 0;
  for (let k = 0; k < duration; k++) {
    const now = startS + k;
    while (i < sorted.length && sorted[i]!.t <= now) current = sorted[i++]!.rps;
    out[k] = current;
  }
  return out;
}

/** Firings of the schedules from `fromS` (a week before the simulation, to know the values at its start) to `toS`. */
export function firings(
  schedules: readonly ReplaySchedule[],
  fromS: number,
  toS: number,
  offsetS: number,
): { atS: number; schedule: ReplaySchedule }[] {
  const out: { atS: number; schedule: ReplaySchedule }[] = [];
  const firstDay = Math.floor((fromS + offsetS) / DAY_S);
  const lastDay = Math.floor((toS + offsetS) / DAY_S);
  for (let day = firstDay; day <= lastDay; day++) {
    for (const s of schedules) {
      for (const h of s.cron.hours) {
        for (const m of s.cron.minutes) {
          const local = day * DAY_S + h * 3600 + m * 60;
          const at = local - offsetS;
          if (at < fromS || at >= toS) continue;
          if (cronMatches(s.cron, new Date(local * 1000))) out.push({ atS: at, schedule: s });
        }
      }
    }
  }
  // Two CronJobs at one minute race; name order stands in for the race.
  return out.sort((a, b) => a.atS - b.atS || (a.schedule.name < b.schedule.name ? -1 : 1));
}

export interface PolicyInput {
  readonly name: string;
  /** Replayed schedules; empty = the HPA alone. Ignored for the oracle. */
  readonly schedules: readonly ReplaySchedule[];
  readonly oracle?: boolean;
}

export interface DayInput {
  readonly startS: number;
  readonly durationS: number;
  readonly offsetS: number;
  readonly samples: readonly Sample[];
  readonly roles: readonly RoleModel[];
  /** Per role, its pool (the placeholder pool whose workload it is, or a pool of its own). */
  readonly pools: Partial<Record<TargetId, PoolModel>>;
  readonly cluster: ClusterModel;
  readonly policies: readonly PolicyInput[];
  /** Oracle: replicas = max(floor, ceil(rate / rpsPerPod x headroom)), floor per role. */
  readonly oracleHeadroom: number;
  readonly oracleFloor: Partial<Record<TargetId, number>>;
}

export interface PolicyResult {
  readonly policy: string;
  readonly minutesAboveSlo: number;
  readonly overSeconds: number;
  readonly excessRequests: number;
  readonly replicaHours: number;
  readonly placeholderHours: number;
  readonly nodeHours: number;
  /** Replica-hours over the oracle's, in % (undefined without an oracle). */
  readonly vsOraclePercent?: number;
  readonly roles: readonly RoleRun[];
}

/** The oracle's replicas per minute: each minute's need, placed `leadS` earlier (max over the minutes ahead). */
export function oracleReplicas(
  rates: Float64Array,
  role: RoleModel,
  headroom: number,
  floor: number,
  leadS: number,
): number[] {
  const minutes = Math.ceil(rates.length / 60);
  const need: number[] = [];
  for (let m = 0; m < minutes; m++) {
    let peak = 0;
    for (let k = m * 60; k < Math.min(rates.length, (m + 1) * 60); k++) peak = Math.max(peak, rates[k]!);
    need.push(
      Math.min(role.hpa.maxReplicas, Math.max(floor, ceilReplicas((peak / role.rpsPerPod) * headroom))),
    );
  }
  const ahead = Math.ceil(leadS / 60);
  // Past the end, the last minute's need holds.
  return need.map((_, m) => {
    let r = 0;
    for (let j = m; j <= m + ahead; j++) r = Math.max(r, need[Math.min(j, minutes - 1)]!);
    return r;
  });
}

export function simulateDay(input: DayInput): PolicyResult[] {
  const perRole = byRole(input.samples);
  const weekBefore = input.startS - 7 * DAY_S;
  const endS = input.startS + input.durationS;
  const results = input.policies.map((policy) => {
    const fired = policy.oracle ? [] : firings(policy.schedules, weekBefore, endS, input.offsetS);
    const runs = input.roles.map((role) => {
      const pool = input.pools[role.role] ?? { name: role.role, podsPerNode: 1, spareNodes: 0 };
      const rates = ratesPerSecond(perRole.get(role.role) ?? [], input.startS, input.durationS);
      let control: Control;
      let initialMinReplicas: number | undefined;
      let initialPlaceholders: number | undefined;
      if (policy.oracle) {
        const leadS = role.podStartS + input.cluster.nodeDelayS;
        const floor = input.oracleFloor[role.role] ?? role.hpa.minReplicas;
        control = {
          kind: 'direct',
          replicasPerMinute: oracleReplicas(rates, role, input.oracleHeadroom, floor, leadS),
        };
      } else {
        const events: ControlEvent[] = [];
        for (const f of fired) {
          const min = f.schedule.minReplicas[role.role];
          const ph = f.schedule.placeholders[pool.name];
          if (min === undefined && ph === undefined) continue;
          if (f.atS < input.startS) {
            // Before the day: what was in effect when it began.
            if (min !== undefined) initialMinReplicas = min;
            if (ph !== undefined) initialPlaceholders = ph;
          } else {
            events.push({
              atS: f.atS + input.cluster.cronDelayS,
              name: f.schedule.name,
              minReplicas: min,
              placeholders: ph,
            });
          }
        }
        control = { kind: 'hpa', events };
      }
      return simulateRole({
        startS: input.startS,
        rates,
        role,
        pool,
        cluster: input.cluster,
        control,
        initialMinReplicas,
        initialPlaceholders,
      });
    });
    const over = new Set<number>();
    for (const r of runs) for (const m of r.minutesOver) over.add(m);
    const sum = (f: (r: RoleRun) => number) => runs.reduce((a, r) => a + f(r), 0);
    return {
      policy: policy.name,
      minutesAboveSlo: over.size,
      overSeconds: sum((r) => r.overSeconds),
      excessRequests: sum((r) => r.excessRequests),
      replicaHours: sum((r) => r.replicaSeconds) / 3600,
      placeholderHours: sum((r) => r.placeholderSeconds) / 3600,
      nodeHours: sum((r) => r.nodeSeconds) / 3600,
      roles: runs,
    };
  });
  const oracle = results.find((_, i) => input.policies[i]!.oracle);
  return results.map((r) =>
    oracle && oracle.replicaHours > 0
      ? { ...r, vsOraclePercent: (r.replicaHours / oracle.replicaHours - 1) * 100 }
      : r,
  );
}

/** The table the simulate command prints. */
export function formatTable(results: readonly PolicyResult[]): string {
  const rows = [
    [
      'policy',
      'minutes above SLO',
      'seconds over',
      'replica-hours',
      'vs oracle',
      'placeholder-h',
      'node-hours',
    ],
    ...results.map((r) => [
      r.policy,
      String(r.minutesAboveSlo),
      String(r.overSeconds),
      r.replicaHours.toFixed(1),
      r.vsOraclePercent === undefined
        ? ''
        : `${r.vsOraclePercent >= 0 ? '+' : ''}${r.vsOraclePercent.toFixed(1)} %`,
      r.placeholderHours.toFixed(1),
      r.nodeHours.toFixed(1),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

export { CONTROLLER_DEFAULTS };
