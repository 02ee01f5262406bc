import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '@eta/testing/kube';
import { type KubePod, type MetricsApi, startMetricsApi } from '@eta/testing/metrics-api';
import {
  type ControllerConfig,
  EMPTY_MEMORY,
  type HpaMemory,
  type HpaSpec,
  hpaStep,
  type PodView,
  type ScalingRules,
} from '../src/learn/hpa.ts';
import { podUtilization, type RoleModel } from '../src/learn/simulate.ts';

/**
 * The simulator's HPA step (src/learn/hpa.ts) against the real kube-controller-manager v1.36.3 of the
 * control-plane harness: same inputs, same replicas (services/prescaler/README.md, "The HPA step against
 * the real controller").
 *
 * Two Deployments of kwok pods, each with an autoscaling/v2 HPA on CPU utilization: `web` with the charts'
 * behavior (scale-up: +100 % or +4 pods per 15 s, the more; scale-down: the API's default policy and the
 * controller's window), `legacy` without a behavior (the older rules). The resource metrics API of
 * @eta/testing/metrics-api serves each Ready pod's CPU the way the simulator maps an offered rate to it:
 * the rate spread over the Ready pods, utilization = min(rate per pod / rpsPerPod x cpuAtCapacity, maxCpu)
 * of the pod's request. The test moves the rate through phases and waits for the controller to get where
 * each phase leads (conditions, no sleeps against a deadline).
 *
 * Compared is the algorithm, sync by sync, not two timelines: every time the controller asks for metrics
 * (one ask per sync per HPA), the metrics API records the pods as the API server lists them, what it
 * answered, and (read before it answers, so before the controller acts) the Deployment's spec.replicas and
 * the HPA as the controller left them after its previous sync. hpaStep is then driven with exactly that:
 * the controller's flags, the HPA's spec as stored (behavior as the API server defaulted it), the scale's
 * replicas, the pods and their metrics, the time of the answer. Its replicas must equal the replicas the
 * controller set in that sync (the spec.replicas read at the next one), and its utilization the
 * utilization the controller wrote into the HPA's status.
 */

const NS = 'hpa-compare';

/** The controller's flags, shortened for a test, and the same values for hpaStep. */
const CONTROLLER: ControllerConfig = {
  syncPeriodS: 1,
  tolerance: 0.1,
  downscaleStabilizationS: 10,
  cpuInitializationPeriodS: 300,
  initialReadinessDelayS: 30,
};
const CONTROLLER_FLAGS = [
  '--horizontal-pod-autoscaler-sync-period=1s',
  '--horizontal-pod-autoscaler-tolerance=0.1',
  '--horizontal-pod-autoscaler-downscale-stabilization=10s',
  '--horizontal-pod-autoscaler-cpu-initialization-period=5m',
  '--horizontal-pod-autoscaler-initial-readiness-delay=30s',
];

/** The metrics window, and how long a new pod has no sample (metrics-server needs two scrapes). */
const WINDOW_S = 5;
const FIRST_SAMPLE_AFTER_S = 2;

const MIN = 2;
const MAX = 12;
const TARGET = 50;
const REQUEST_MILLI = 1000;

/** The load model: what one pod serves at which CPU (simulate.ts maps rates to CPU with it). */
const ROLE: RoleModel = {
  role: 'geo',
  rpsPerPod: 100,
  cpuAtCapacityPercent: 100,
  maxCpuPercent: 300,
  podStartS: 0,
  requestMilli: REQUEST_MILLI,
  hpa: { minReplicas: MIN, maxReplicas: MAX, targetUtilization: TARGET, behavior: null },
};

/** The charts' scale-up rules (charts/geo/values.yaml); scale-down as the API server defaults it. */
const CHART_SCALE_UP = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
};

const TARGETS = { web: { scaleUp: CHART_SCALE_UP, scaleDown: {} }, legacy: undefined } as const;
type Target = keyof typeof TARGETS;

/** What the metrics API reads beside each list, before answering. */
interface Observed {
  readonly replicas: number;
  readonly hpa: KubeHpa;
}

interface KubeHpa {
  metadata: { resourceVersion: string };
  spec: {
    minReplicas?: number;
    maxReplicas: number;
    metrics: { resource: { target: { averageUtilization: number } } }[];
    behavior?: { scaleUp: KubeRules; scaleDown: KubeRules };
  };
  status?: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: { resource?: { current?: { averageUtilization?: number } } }[] | null;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}
interface KubeRules {
  stabilizationWindowSeconds?: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[];
}

let plane: ControlPlane;
let metrics: MetricsApi<Observed | undefined>;
/** The offered rate, requests/s, per target; the test moves it. */
let rate = 100;

const seconds = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso) / 1000);
const readyCondition = (pod: KubePod) => pod.status?.conditions?.find((c) => c.type === 'Ready');
const isReady = (pod: KubePod) =>
  !pod.metadata.deletionTimestamp &&
  pod.status?.phase === 'Running' &&
  readyCondition(pod)?.status === 'True';

function milli(q: string | undefined): number {
  if (q === undefined) return 0;
  if (q.endsWith('m')) return Number(q.slice(0, -1));
  if (q.endsWith('n')) return Number(q.slice(0, -1)) / 1e6;
  return Number(q) * 1000;
}

/** Each Ready pod's CPU, as simulate.ts maps the rate: spread over the Ready pods, capped at maxCpu. */
function usage(pod: KubePod, pods: readonly KubePod[], nowMs: number) {
  if (!isReady(pod)) return undefined;
  const readySince = seconds(readyCondition(pod)!.lastTransitionTime) ?? 0;
  const stamp = Math.floor(nowMs / 1000);
  if (stamp - readySince < FIRST_SAMPLE_AFTER_S) return undefined;
  const ready = pods.filter(isReady).length;
  const utilization = podUtilization(ROLE, rate, ready);
  return {
    cpuMilli: Math.round((utilization / 100) * REQUEST_MILLI),
    timestampMs: stamp * 1000,
    windowS: WINDOW_S,
  };
}

const syncsOf = (t: Target) => metrics.lists.filter((l) => l.labelSelector === `app=${t}`);

/** A sync at `replicas` whose pods all had their sample and had it for a whole window (none unready). */
function settledAt(l: (typeof metrics.lists)[number], replicas: number): boolean {
  if (l.observed?.replicas !== replicas) return false;
  const live = l.pods.filter((p) => !p.metadata.deletionTimestamp);
  if (live.length !== replicas) return false;
  return live.every((p) => {
    const m = l.items.find((i) => i.metadata.name === p.metadata.name);
    const readySince = seconds(readyCondition(p)?.lastTransitionTime);
    return m !== undefined && readySince !== undefined && seconds(m.timestamp)! >= readySince + WINDOW_S;
  });
}

async function until(what: string, ok: () => boolean, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) {
      const recent = syncsOf('web')
        .slice(-5)
        .map((l) => `${l.observed?.replicas} replicas, ${l.items.length}/${l.pods.length} pods with metrics`);
      throw new Error(
        `${what}: not within ${timeoutMs / 1000} s; last syncs: ${recent.join('; ')}\n${await plane.logs(15)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sets the rate, then waits until `web` has been settled at `replicas` for `syncs` syncs. */
async function phase(what: string, rps: number, replicas: number, syncs = 3): Promise<void> {
  const mark = syncsOf('web').length;
  rate = rps;
  await until(`${what}: web settled at ${replicas}`, () => {
    const s = syncsOf('web').slice(mark);
    const first = s.findIndex((l) => settledAt(l, replicas));
    return first >= 0 && s.slice(first).filter((l) => settledAt(l, replicas)).length >= syncs;
  });
}

function specOf(hpa: KubeHpa): HpaSpec {
  const rules = (r: KubeRules): ScalingRules => ({
    stabilizationWindowSeconds: r.stabilizationWindowSeconds,
    selectPolicy: r.selectPolicy,
    policies: r.policies,
  });
  const b = hpa.spec.behavior;
  return {
    minReplicas: hpa.spec.minReplicas ?? 1,
    maxReplicas: hpa.spec.maxReplicas,
    targetUtilization: hpa.spec.metrics[0]!.resource.target.averageUtilization,
    behavior: b ? { scaleUp: rules(b.scaleUp), scaleDown: rules(b.scaleDown) } : null,
  };
}

function viewsOf(l: (typeof metrics.lists)[number]): PodView[] {
  return l.pods.map((p) => {
    const ready = readyCondition(p);
    const m = l.items.find((i) => i.metadata.name === p.metadata.name);
    const phase = (p.status?.phase ?? 'Pending') as PodView['phase'];
    return {
      name: p.metadata.name,
      phase,
      deleting: p.metadata.deletionTimestamp !== undefined,
      ready: ready
        ? { status: ready.status === 'True', lastTransitionS: seconds(ready.lastTransitionTime)! }
        : undefined,
      startTimeS: seconds(p.status?.startTime),
      requestMilli: p.spec.containers.reduce((a, c) => a + milli(c.resources?.requests?.cpu), 0),
      metric: m && {
        valueMilli: m.containers.reduce((a, c) => a + milli(c.usage.cpu), 0),
        timestampS: seconds(m.timestamp)!,
        windowS: Number(m.window.replace(/s$/, '')),
      },
    };
  });
}

interface Compared {
  readonly atS: number;
  readonly current: number;
  readonly controller: number;
  readonly step: number;
  readonly proposal: number | undefined;
  readonly controllerUtilization: number | undefined;
  readonly stepUtilization: number | undefined;
  readonly stepError: string | undefined;
  readonly conditions: string;
  readonly pods: string;
}

/** Drives hpaStep through the controller's syncs of one target; one row per sync whose outcome is known. */
function compare(t: Target): Compared[] {
  const syncs = syncsOf(t);
  let memory: HpaMemory = EMPTY_MEMORY;
  const rows: Compared[] = [];
  for (let k = 0; k + 1 < syncs.length; k++) {
    const l = syncs[k]!;
    const next = syncs[k + 1]!.observed!;
    const pods = viewsOf(l);
    const r = hpaStep(specOf(l.observed!.hpa), CONTROLLER, memory, {
      nowS: l.answeredMs / 1000,
      specReplicas: l.observed!.replicas,
      pods,
    });
    memory = r.memory;
    const status = next.hpa.status;
    rows.push({
      atS: l.answeredMs / 1000,
      current: l.observed!.replicas,
      controller: next.replicas,
      step: r.replicas,
      proposal: r.proposal,
      controllerUtilization: status?.currentMetrics?.[0]?.resource?.current?.averageUtilization,
      stepUtilization: r.utilization,
      stepError: r.error,
      conditions: (status?.conditions ?? [])
        .filter((c) => c.type !== 'AbleToScale' || c.reason !== 'SucceededGetScale')
        .map((c) => `${c.type}=${c.status}/${c.reason}`)
        .join(' '),
      pods: pods
        .map((p) =>
          p.deleting
            ? 'd'
            : p.phase === 'Pending'
              ? 'p'
              : !p.metric
                ? 'm'
                : p.metric.timestampS < (p.ready?.lastTransitionS ?? 0) + p.metric.windowS
                  ? 'u'
                  : 'r',
        )
        .sort()
        .join(''),
    });
  }
  return rows;
}

/** "2x12 6x15 10x20": each replica count the controller set, and for how many syncs in a row. */
function runs(values: readonly number[]): string {
  const out: string[] = [];
  let prev: number | undefined;
  let n = 0;
  for (const v of values) {
    if (v === prev) n++;
    else {
      if (prev !== undefined) out.push(`${prev}x${n}`);
      prev = v;
      n = 1;
    }
  }
  if (prev !== undefined) out.push(`${prev}x${n}`);
  return out.join(' ');
}

beforeAll(async () => {
  plane = await startControlPlane({
    nodes: [
      { name: 'node-a', allocatable: { cpu: '32' } },
      { name: 'node-b', allocatable: { cpu: '32' } },
    ],
    controllerManagerArgs: CONTROLLER_FLAGS,
  });
  metrics = await startMetricsApi<Observed | undefined>({
    plane,
    usage,
    observe: async (ns, selector, get) => {
      const t = /^app=(\w+)$/.exec(selector)?.[1];
      if (ns !== NS || t === undefined) return undefined;
      const [deployment, hpa] = (await Promise.all([
        get(`/apis/apps/v1/namespaces/${NS}/deployments/${t}`),
        get(`/apis/autoscaling/v2/namespaces/${NS}/horizontalpodautoscalers/${t}`),
      ])) as [{ spec: { replicas: number } }, KubeHpa];
      return { replicas: deployment.spec.replicas, hpa };
    },
  });
  const objects: unknown[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }];
  for (const t of Object.keys(TARGETS) as Target[]) {
    objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: t, namespace: NS },
      spec: {
        replicas: MIN,
        selector: { matchLabels: { app: t } },
        template: {
          metadata: { labels: { app: t } },
          spec: {
            containers: [
              {
                name: 'c',
                image: 'registry.k8s.io/pause:3.10',
                resources: { requests: { cpu: `${REQUEST_MILLI}m` } },
              },
            ],
          },
        },
      },
    });
  }
  await plane.must('kubectl', ['create', '-f', '-'], {
    input: objects.map((o) => JSON.stringify(o)).join('\n---\n'),
  });
  // The scale subresource needs the Deployment's status.selector before an HPA can read it.
  for (const t of Object.keys(TARGETS) as Target[])
    await plane.must('kubectl', ['rollout', 'status', `deployment/${t}`, '-n', NS, '--timeout=180s']);
  const hpas = (Object.entries(TARGETS) as [Target, (typeof TARGETS)[Target]][]).map(([t, behavior]) => ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: t, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: t },
      minReplicas: MIN,
      maxReplicas: MAX,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: TARGET } },
        },
      ],
      ...(behavior && { behavior }),
    },
  }));
  await plane.must('kubectl', ['create', '-f', '-'], {
    input: hpas.map((o) => JSON.stringify(o)).join('\n---\n'),
  });
}, 15 * 60_000);

afterAll(async () => {
  await metrics?.close();
  await plane?.stop();
});

describe('hpaStep against kube-controller-manager', () => {
  let web: Compared[] = [];
  let legacy: Compared[] = [];

  it(
    'drives both HPAs through the load phases',
    async () => {
      // 100 rps on 2 pods: 50 %, on target.
      await phase('start', 100, 2);
      // 500 rps: 250 % on 2 pods asks for 10; +100 % / +4 pods per 15 s allow 6, then 10 (50 %).
      await phase('scale-up', 500, 10);
      // 540 rps: 54 %, within the 10 % tolerance: no change.
      await phase('tolerance', 540, 10, 5);
      // 200 rps: 20 % asks for 4; the 10 s window holds 10, then lets go.
      await phase('scale-down', 200, 4);
      // 2,000 rps: 300 % (the CPU cap) and more pods than maxReplicas: clamped at 12.
      await phase('max', 2000, 12, 5);
      // 50 rps: 4 % asks for 1: held by the window, then clamped at minReplicas.
      await phase('min', 50, 2);
      web = compare('web');
      legacy = compare('legacy');
    },
    15 * 60_000,
  );

  for (const t of ['web', 'legacy'] as const) {
    it(`${t}: hpaStep sets the replicas the controller set, at every sync`, () => {
      const rows = t === 'web' ? web : legacy;
      expect(rows.length).toBeGreaterThan(30);
      const table = rows.map(
        (r) =>
          `${r.atS.toFixed(3)} ${r.current} -> controller ${r.controller} step ${r.step} (proposal ${r.proposal}, util ${r.controllerUtilization}/${r.stepUtilization}${r.stepError ? `, ${r.stepError}` : ''}) pods ${r.pods} ${r.conditions}`,
      );
      console.log(
        `${t}: ${rows.length} syncs compared; replicas set: ${runs(rows.map((r) => r.controller))}`,
      );
      const wrong = rows.flatMap((r, i) => (r.controller !== r.step ? [table[i]] : []));
      expect(wrong, table.join('\n')).toEqual([]);
      const utilization = rows.flatMap((r, i) =>
        r.stepUtilization !== undefined && r.controllerUtilization !== r.stepUtilization ? [table[i]] : [],
      );
      expect(utilization, table.join('\n')).toEqual([]);
    });
  }

  it('web went through every case: policy-limited scale-up, tolerance, stabilized scale-down, max and min clamps', () => {
    const has = (pred: (r: Compared) => boolean) => web.some(pred);
    // Scale-up limited by +100 % / +4 pods per 15 s: the controller says so, hpaStep proposed more than it set.
    expect(
      has((r) => r.conditions.includes('ScalingLimited=True/ScaleUpLimit') && r.proposal! > r.step),
    ).toBe(true);
    // Within tolerance: 54 % against 50 %, nothing changes.
    expect(has((r) => r.stepUtilization === 54 && r.controller === r.current)).toBe(true);
    // Scale-down held by the window (a lower proposal, replicas kept), then released.
    expect(
      has(
        (r) =>
          r.conditions.includes('AbleToScale=True/ScaleDownStabilized') &&
          r.proposal! < r.current &&
          r.controller === r.current,
      ),
    ).toBe(true);
    expect(has((r) => r.current === 10 && r.controller === 4)).toBe(true);
    // maxReplicas and minReplicas.
    expect(
      has((r) => r.conditions.includes('ScalingLimited=True/TooManyReplicas') && r.controller === MAX),
    ).toBe(true);
    expect(
      has((r) => r.conditions.includes('ScalingLimited=True/TooFewReplicas') && r.controller === MIN),
    ).toBe(true);
    // New pods counted as unready (a sample younger than its window) or without a sample, during a scale-up.
    expect(has((r) => /[um]/.test(r.pods) && r.stepUtilization! > TARGET)).toBe(true);
  });
});
