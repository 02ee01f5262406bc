/**
 * The HorizontalPodAutoscaler controller's decision for one HPA with one metric, CPU utilization
 * (autoscaling/v2 `type: Resource, target.type: Utilization`), as kube-controller-manager v1.36 makes it:
 * pkg/controller/podautoscaler/horizontal.go (reconcileAutoscaler, normalizeDesiredReplicas[WithBehaviors],
 * stabilizeRecommendation[WithBehaviors], convertDesiredReplicasWith{Rules,BehaviorRate},
 * calculateScale{Up,Down}Limit*, storeScaleEvent) and replica_calculator.go (GetResourceReplicas,
 * groupPods), re-written here, not copied. Defaults are kube-controller-manager's and the API server's.
 *
 * hpaStep is a pure function: (spec, controller config, memory, observation at time t) -> (desired
 * replicas, new memory). The memory is what the controller keeps in process per HPA (recent
 * recommendations, recent scale events); the observation is what it reads each sync (the scale
 * subresource's spec.replicas, the pods, their metrics). The simulator drives it every sync period; a
 * comparison with a real controller can drive it with the pods and metrics the real one saw.
 *
 * Left out: other metric types and several metrics, scale-to-zero (HPAScaleToZero), configurable
 * tolerances (HPAConfigurableTolerance, alpha), container metrics, pod-level resources, errors from the
 * API server. Times are seconds.
 */

export type PolicyType = 'Pods' | 'Percent';
export type SelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface ScalingPolicy {
  readonly type: PolicyType;
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  /** For scale-down, undefined means the controller's --horizontal-pod-autoscaler-downscale-stabilization. */
  readonly stabilizationWindowSeconds?: number | undefined;
  readonly selectPolicy: SelectPolicy;
  readonly policies: readonly ScalingPolicy[];
}

export interface Behavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

export interface HpaSpec {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** target.averageUtilization, % of the pods' CPU request. */
  readonly targetUtilization: number;
  /** spec.behavior after the API server's defaulting; null when the object has none (the older rules apply). */
  readonly behavior: Behavior | null;
}

/** kube-controller-manager flags (pkg/controller/podautoscaler/config/v1alpha1/defaults.go). */
export interface ControllerConfig {
  /** --horizontal-pod-autoscaler-sync-period */
  readonly syncPeriodS: number;
  /** --horizontal-pod-autoscaler-tolerance */
  readonly tolerance: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization */
  readonly downscaleStabilizationS: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period */
  readonly cpuInitializationPeriodS: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay */
  readonly initialReadinessDelayS: number;
}

export const CONTROLLER_DEFAULTS: ControllerConfig = {
  syncPeriodS: 15,
  tolerance: 0.1,
  downscaleStabilizationS: 300,
  cpuInitializationPeriodS: 300,
  initialReadinessDelayS: 30,
};

/** The API server's defaults for autoscaling/v2 behavior (pkg/apis/autoscaling/v2/defaults.go). */
export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationWindowSeconds: undefined,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** A behavior as written (any field may be missing), completed the way the API server defaults it. */
export interface BehaviorInput {
  readonly scaleUp?: Partial<ScalingRules> | undefined;
  readonly scaleDown?: Partial<ScalingRules> | undefined;
}

export function defaultBehavior(b: BehaviorInput): Behavior {
  const fill = (from: Partial<ScalingRules> | undefined, d: ScalingRules): ScalingRules => ({
    stabilizationWindowSeconds: from?.stabilizationWindowSeconds ?? d.stabilizationWindowSeconds,
    selectPolicy: from?.selectPolicy ?? d.selectPolicy,
    policies: from?.policies ?? d.policies,
  });
  return { scaleUp: fill(b.scaleUp, DEFAULT_SCALE_UP), scaleDown: fill(b.scaleDown, DEFAULT_SCALE_DOWN) };
}

export interface PodMetric {
  /** CPU use in millicores, averaged over the window ending at timestampS. */
  readonly valueMilli: number;
  readonly timestampS: number;
  readonly windowS: number;
}

/** One pod as the controller's pod lister and metrics client see it. */
export interface PodView {
  readonly name: string;
  readonly phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  readonly deleting?: boolean;
  /** The Ready condition; undefined when the pod has none yet. */
  readonly ready?: { readonly status: boolean; readonly lastTransitionS: number } | undefined;
  /** status.startTime (the kubelet accepted the pod); undefined before. */
  readonly startTimeS?: number | undefined;
  /** The pod's CPU request, millicores. */
  readonly requestMilli: number;
  /** Absent when the metrics API has no sample for the pod. */
  readonly metric?: PodMetric | undefined;
}

export interface Observation {
  readonly nowS: number;
  /** The scale subresource's spec.replicas (the Deployment's replicas). */
  readonly specReplicas: number;
  readonly pods: readonly PodView[];
}

interface Recommendation {
  readonly replicas: number;
  readonly atS: number;
}
interface ScaleEvent {
  readonly change: number;
  readonly atS: number;
  readonly outdated: boolean;
}

/** What the controller remembers per HPA between syncs (in process: lost when it restarts). */
export interface HpaMemory {
  readonly recommendations: readonly Recommendation[];
  readonly scaleUpEvents: readonly ScaleEvent[];
  readonly scaleDownEvents: readonly ScaleEvent[];
}

export const EMPTY_MEMORY: HpaMemory = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

export interface StepResult {
  /** The replicas the controller leaves the target at (unchanged when it does not rescale). */
  readonly replicas: number;
  readonly rescale: boolean;
  readonly memory: HpaMemory;
  /** Why, in the controller's words (its rescale reason, or why it computed nothing). */
  readonly reason: string;
  /** The metric's proposal before normalization, and the utilization it saw (integer %), when computed. */
  readonly proposal?: number;
  readonly utilization?: number;
  /** "did not receive metrics ..." and the like: the controller does not scale this sync. */
  readonly error?: string;
}

function isWithin(ratio: number, tolerance: number): boolean {
  return 1.0 - tolerance <= ratio && ratio <= 1.0 + tolerance;
}

type Grouped = { readyPodCount: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> };

/** groupPods, for the CPU resource. */
export function groupPods(pods: readonly PodView[], nowS: number, c: ControllerConfig): Grouped {
  const g: Grouped = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') {
      g.ignored.add(pod.name);
      continue;
    }
    if (pod.phase === 'Pending') {
      g.unready.add(pod.name);
      continue;
    }
    const metric = pod.metric;
    if (!metric) {
      g.missing.add(pod.name);
      continue;
    }
    let unready: boolean;
    const cond = pod.ready;
    if (cond === undefined || pod.startTimeS === undefined) {
      unready = true;
    } else if (pod.startTimeS + c.cpuInitializationPeriodS > nowS) {
      // Within the initialization period: unready, or no full metric window since it turned ready.
      unready = !cond.status || metric.timestampS < cond.lastTransitionS + metric.windowS;
    } else {
      // Past it: ignored only if unready and never ready since it started.
      unready = !cond.status && pod.startTimeS + c.initialReadinessDelayS > cond.lastTransitionS;
    }
    if (unready) {
      g.unready.add(pod.name);
      continue;
    }
    g.readyPodCount++;
  }
  return g;
}

/** GetResourceUtilizationRatio: integer utilization % of the requests, and its ratio to the target. */
function utilizationRatio(
  metrics: ReadonlyMap<string, number>,
  requests: ReadonlyMap<string, number>,
  target: number,
): { ratio: number; utilization: number } | undefined {
  let used = 0;
  let requested = 0;
  for (const [name, value] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue;
    used += value;
    requested += r;
  }
  if (requested === 0) return undefined;
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization };
}

/** GetResourceReplicas: the replicas the CPU metric asks for, or an error (then the controller does nothing). */
export function resourceReplicas(
  currentReplicas: number,
  targetUtilization: number,
  pods: readonly PodView[],
  nowS: number,
  c: ControllerConfig,
): { replicas: number; utilization: number } | { error: string } {
  if (pods.length === 0) return { error: 'no pods returned by selector while calculating replica count' };
  const metrics = new Map<string, number>();
  for (const p of pods) if (p.metric) metrics.set(p.name, Math.round(p.metric.valueMilli));
  const { readyPodCount, unready, missing, ignored } = groupPods(pods, nowS, c);
  for (const name of [...ignored, ...unready]) metrics.delete(name);
  if (metrics.size === 0)
    return { error: 'did not receive metrics for targeted pods (pods might be unready)' };
  const requests = new Map(pods.map((p) => [p.name, p.requestMilli]));
  const first = utilizationRatio(metrics, requests, targetUtilization);
  if (!first) return { error: 'no metrics returned matched known pods' };
  const { ratio: usageRatio, utilization } = first;

  const scaleUpWithUnready = unready.size > 0 && usageRatio > 1.0;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (isWithin(usageRatio, c.tolerance)) return { replicas: currentReplicas, utilization };
    return { replicas: Math.ceil(usageRatio * readyPodCount), utilization };
  }
  if (missing.size > 0) {
    if (usageRatio < 1.0) {
      // Scale-down: a pod without metrics counts as using 100 % of its request (or the target, if above).
      const fallback = Math.max(100, targetUtilization);
      for (const name of missing) metrics.set(name, Math.trunc((requests.get(name)! * fallback) / 100));
    } else if (usageRatio > 1.0) {
      // Scale-up: as using nothing.
      for (const name of missing) metrics.set(name, 0);
    }
  }
  if (scaleUpWithUnready) {
    // Scale-up: an unready pod counts as using nothing, so the load it will take is not asked for twice.
    for (const name of unready) metrics.set(name, 0);
  }
  const second = utilizationRatio(metrics, requests, targetUtilization);
  if (!second) return { error: 'no metrics returned matched known pods' };
  const newRatio = second.ratio;
  if (
    isWithin(newRatio, c.tolerance) ||
    (usageRatio < 1.0 && newRatio > 1.0) ||
    (usageRatio > 1.0 && newRatio < 1.0)
  ) {
    return { replicas: currentReplicas, utilization };
  }
  const newReplicas = Math.ceil(newRatio * metrics.size);
  if (
    (newRatio < 1.0 && newReplicas > currentReplicas) ||
    (newRatio > 1.0 && newReplicas < currentReplicas)
  ) {
    return { replicas: currentReplicas, utilization };
  }
  return { replicas: newReplicas, utilization };
}

function changeInPeriod(periodS: number, events: readonly ScaleEvent[], nowS: number): number {
  const cutoff = nowS - periodS;
  let sum = 0;
  for (const e of events) if (e.atS > cutoff) sum += e.change;
  return sum;
}

/** calculateScaleUpLimitWithScalingRules */
export function scaleUpLimit(
  current: number,
  up: readonly ScaleEvent[],
  down: readonly ScaleEvent[],
  rules: ScalingRules,
  nowS: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start =
      current - changeInPeriod(p.periodSeconds, up, nowS) + changeInPeriod(p.periodSeconds, down, nowS);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors */
export function scaleDownLimit(
  current: number,
  up: readonly ScaleEvent[],
  down: readonly ScaleEvent[],
  rules: ScalingRules,
  nowS: number,
): number {
  if (rules.selectPolicy === 'Disabled') return current;
  // For scaling down the smallest change is the largest result.
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start =
      current - changeInPeriod(p.periodSeconds, up, nowS) + changeInPeriod(p.periodSeconds, down, nowS);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function withBehaviors(
  spec: HpaSpec,
  behavior: Behavior,
  c: ControllerConfig,
  memory: HpaMemory,
  current: number,
  desired: number,
  nowS: number,
): { replicas: number; recommendations: Recommendation[] } {
  // maybeInitScaleDownStabilizationWindow
  const downWindow = behavior.scaleDown.stabilizationWindowSeconds ?? c.downscaleStabilizationS;
  const upWindow = behavior.scaleUp.stabilizationWindowSeconds ?? 0;
  // stabilizeRecommendationWithBehaviors
  const upCutoff = nowS - upWindow;
  const downCutoff = nowS - downWindow;
  let upRec = desired;
  let downRec = desired;
  let oldIndex = -1;
  memory.recommendations.forEach((r, i) => {
    if (r.atS > upCutoff) upRec = Math.min(r.replicas, upRec);
    if (r.atS > downCutoff) downRec = Math.max(r.replicas, downRec);
    if (r.atS < upCutoff && r.atS < downCutoff) oldIndex = i;
  });
  let stabilized = current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const recommendations = [...memory.recommendations];
  const rec = { replicas: desired, atS: nowS };
  if (oldIndex >= 0) recommendations[oldIndex] = rec;
  else recommendations.push(rec);

  // convertDesiredReplicasWithBehaviorRate
  let replicas = stabilized;
  if (stabilized > current) {
    let limit = scaleUpLimit(current, memory.scaleUpEvents, memory.scaleDownEvents, behavior.scaleUp, nowS);
    if (limit < current) limit = current;
    const maximum = Math.min(spec.maxReplicas, limit);
    if (stabilized > maximum) replicas = maximum;
  } else if (stabilized < current) {
    let limit = scaleDownLimit(
      current,
      memory.scaleUpEvents,
      memory.scaleDownEvents,
      behavior.scaleDown,
      nowS,
    );
    if (limit > current) limit = current;
    const minimum = Math.max(spec.minReplicas, limit);
    if (stabilized < minimum) replicas = minimum;
  }
  return { replicas, recommendations };
}

function withoutBehaviors(
  spec: HpaSpec,
  c: ControllerConfig,
  memory: HpaMemory,
  current: number,
  desired: number,
  nowS: number,
): { replicas: number; recommendations: Recommendation[] } {
  // stabilizeRecommendation: the highest recommendation of the last downscale-stabilization window.
  const cutoff = nowS - c.downscaleStabilizationS;
  let max = desired;
  let oldIndex = -1;
  memory.recommendations.forEach((r, i) => {
    if (r.atS < cutoff) oldIndex = i;
    else if (r.replicas > max) max = r.replicas;
  });
  const recommendations = [...memory.recommendations];
  const rec = { replicas: desired, atS: nowS };
  if (oldIndex >= 0) recommendations[oldIndex] = rec;
  else recommendations.push(rec);
  // convertDesiredReplicasWithRules: at least min, at most max and max(2 x current, 4).
  const upLimit = Math.trunc(Math.max(2 * current, 4));
  const maximum = Math.min(spec.maxReplicas, upLimit);
  const replicas = max < spec.minReplicas ? spec.minReplicas : max > maximum ? maximum : max;
  return { replicas, recommendations };
}

/** storeScaleEvent */
function storeEvent(
  memory: HpaMemory,
  behavior: Behavior | null,
  prev: number,
  next: number,
  nowS: number,
): HpaMemory {
  if (!behavior) return memory;
  const up = next > prev;
  const rules = up ? behavior.scaleUp : behavior.scaleDown;
  const longest = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  const cutoff = nowS - longest;
  const events = (up ? memory.scaleUpEvents : memory.scaleDownEvents).map((e) =>
    e.atS < cutoff ? { ...e, outdated: true } : e,
  );
  let oldIndex = -1;
  events.forEach((e, i) => {
    if (e.outdated) oldIndex = i;
  });
  const event = { change: Math.abs(next - prev), atS: nowS, outdated: false };
  if (oldIndex >= 0) events[oldIndex] = event;
  else events.push(event);
  return up ? { ...memory, scaleUpEvents: events } : { ...memory, scaleDownEvents: events };
}

/** One sync of one HPA (reconcileAutoscaler). */
export function hpaStep(spec: HpaSpec, c: ControllerConfig, memory: HpaMemory, obs: Observation): StepResult {
  const current = obs.specReplicas;
  // recordInitialRecommendation
  let mem: HpaMemory =
    memory.recommendations.length === 0
      ? { ...memory, recommendations: [{ replicas: current, atS: obs.nowS }] }
      : memory;
  const minReplicas = spec.minReplicas;

  let desired: number;
  let reason: string;
  let proposal: number | undefined;
  let utilization: number | undefined;
  if (current === 0) {
    return {
      replicas: 0,
      rescale: false,
      memory: mem,
      reason: 'scaling is disabled since the replica count of the target is zero',
    };
  } else if (current > spec.maxReplicas) {
    desired = spec.maxReplicas;
    reason = 'Current number of replicas above Spec.MaxReplicas';
  } else if (current < minReplicas) {
    desired = minReplicas;
    reason = 'Current number of replicas below Spec.MinReplicas';
  } else {
    const r = resourceReplicas(current, spec.targetUtilization, obs.pods, obs.nowS, c);
    if ('error' in r)
      return { replicas: current, rescale: false, memory: mem, reason: r.error, error: r.error };
    proposal = r.replicas;
    utilization = r.utilization;
    desired = r.replicas;
    reason =
      desired > current
        ? 'cpu resource utilization (percentage of request) above target'
        : desired < current
          ? 'All metrics below target'
          : '';
    const normalized = spec.behavior
      ? withBehaviors(spec, spec.behavior, c, mem, current, desired, obs.nowS)
      : withoutBehaviors(spec, c, mem, current, desired, obs.nowS);
    mem = { ...mem, recommendations: normalized.recommendations };
    desired = normalized.replicas;
  }
  const rescale = desired !== current;
  if (rescale) mem = storeEvent(mem, spec.behavior, current, desired, obs.nowS);
  return {
    replicas: rescale ? desired : current,
    rescale,
    memory: mem,
    reason: rescale ? reason : 'Decided not to scale',
    ...(proposal !== undefined && { proposal }),
    ...(utilization !== undefined && { utilization }),
  };
}
