import { describe, expect, it } from 'vitest';
import {
  CONTROLLER_DEFAULTS as C,
  defaultBehavior,
  EMPTY_MEMORY,
  type HpaMemory,
  type HpaSpec,
  hpaStep,
  type PodView,
  resourceReplicas,
} from '../../src/learn/hpa.ts';

/** resourceReplicas, failing the test on an error answer. */
function calc(...args: Parameters<typeof resourceReplicas>): { replicas: number; utilization: number } {
  const r = resourceReplicas(...args);
  if ('error' in r) throw new Error(r.error);
  return r;
}

/** An HPA as the API server stores one with `behavior: {}`: the default scale-up and scale-down rules. */
const spec = (over: Partial<HpaSpec> = {}): HpaSpec => ({
  minReplicas: 2,
  maxReplicas: 20,
  targetUtilization: 60,
  behavior: defaultBehavior({}),
  ...over,
});

/** `n` pods Ready for an hour, each using `util` % of a 1-core request over the last 15 s window. */
function ready(n: number, util: number, now: number, prefix = 'r'): PodView[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${i}`,
    phase: 'Running' as const,
    ready: { status: true, lastTransitionS: now - 3500 },
    startTimeS: now - 3600,
    requestMilli: 1000,
    metric: { valueMilli: util * 10, timestampS: now - 15, windowS: 15 },
  }));
}
const pending = (n: number): PodView[] =>
  Array.from({ length: n }, (_, i) => ({ name: `p${i}`, phase: 'Pending' as const, requestMilli: 1000 }));

/** Syncs one HPA at the given times with `pods(t, replicas)`; returns the replicas after each sync. */
function run(
  s: HpaSpec,
  start: number,
  times: number[],
  pods: (t: number, replicas: number) => PodView[],
  c = C,
) {
  let memory: HpaMemory = EMPTY_MEMORY;
  let replicas = start;
  return times.map((t) => {
    const r = hpaStep(s, c, memory, { nowS: t, specReplicas: replicas, pods: pods(t, replicas) });
    memory = r.memory;
    replicas = r.replicas;
    return replicas;
  });
}

describe('tolerance: 10 % either way', () => {
  it('does not scale at a ratio of 1.05 (63 % against 60 %), and does at 1.12 (67 %)', () => {
    const within = hpaStep(spec(), C, EMPTY_MEMORY, {
      nowS: 1000,
      specReplicas: 4,
      pods: ready(4, 63, 1000),
    });
    expect(within).toMatchObject({ replicas: 4, rescale: false, proposal: 4, utilization: 63 });
    // 67 / 60 = 1.117: ceil(1.117 x 4) = 5
    const beyond = hpaStep(spec(), C, EMPTY_MEMORY, {
      nowS: 1000,
      specReplicas: 4,
      pods: ready(4, 67, 1000),
    });
    expect(beyond).toMatchObject({ replicas: 5, rescale: true, proposal: 5 });
  });

  it('reads utilization as whole percent of the requests, as the controller does', () => {
    // 66.9 % truncates to 66: 66 / 60 = 1.1, still within.
    const pods = ready(4, 66.9, 1000);
    expect(calc(4, 60, pods, 1000, C)).toEqual({ replicas: 4, utilization: 66 });
    // 54 % is 0.9, within; 53 % is 0.883: ceil(0.883 x 10) = 9.
    expect(calc(10, 60, ready(10, 54, 1000), 1000, C)).toEqual({ replicas: 10, utilization: 54 });
    expect(calc(10, 60, ready(10, 53, 1000), 1000, C)).toEqual({ replicas: 9, utilization: 53 });
  });
});

describe('scale-up policies', () => {
  const hot = (t: number, n: number) => ready(n, 1000, t);

  it('adds at most max(4 pods, 100 %) per 15 s by default: 3 -> 7 -> 14 -> 20 (maxReplicas)', () => {
    expect(run(spec(), 3, [0, 15, 30, 45], hot)).toEqual([7, 14, 20, 20]);
  });

  it('counts the pods added in the last period: a sync 10 s later may not add more', () => {
    // At 10 s, the +4 of 0 s is inside the 15 s period: the period started at 3 pods, the limit is 7.
    expect(run(spec(), 3, [0, 10, 15], hot)).toEqual([7, 7, 14]);
  });

  it('takes the smaller change with selectPolicy Min: 3 -> 6 (100 %) rather than 7 (+4)', () => {
    const b = defaultBehavior({ scaleUp: { selectPolicy: 'Min' } });
    expect(run(spec({ behavior: b }), 3, [0], hot)).toEqual([6]);
  });

  it('without a behavior, applies the older rule: at most max(2 x current, 4) per sync', () => {
    expect(run(spec({ behavior: null }), 3, [0, 15, 30], hot)).toEqual([6, 12, 20]);
    // From 1 pod, the 4 wins over doubling.
    expect(run(spec({ behavior: null, minReplicas: 1 }), 1, [0], hot)).toEqual([4]);
  });
});

describe('scale-down stabilization', () => {
  // 10 pods at 30 % of a 60 % target: the metric asks for 5.
  const cool = (t: number, n: number) => ready(n, 30, t);
  const every15 = (from: number, to: number) =>
    Array.from({ length: (to - from) / 15 + 1 }, (_, i) => from + i * 15);

  it('holds the highest recommendation of the last 300 s: 10 until 285 s, 5 at 300 s', () => {
    const out = run(spec(), 10, every15(0, 315), cool);
    expect(out.slice(0, 20).every((r) => r === 10)).toBe(true); // 0 .. 285 s
    expect(out[20]).toBe(5); // 300 s: the first recommendation (10, at 0 s) is no longer after the cutoff
  });

  it('follows the chart’s own behavior: a 600 s window, then 10 % or 1 pod a minute', () => {
    const b = defaultBehavior({
      scaleDown: {
        stabilizationWindowSeconds: 600,
        selectPolicy: 'Max',
        policies: [
          { type: 'Percent', value: 10, periodSeconds: 60 },
          { type: 'Pods', value: 1, periodSeconds: 60 },
        ],
      },
    });
    const times = every15(0, 660);
    const out = run(spec({ behavior: b }), 10, times, cool);
    expect(out[times.indexOf(585)]).toBe(10);
    // 600 s: trunc(10 x 0.9) = 9 and 10 - 1 = 9.
    expect(out[times.indexOf(600)]).toBe(9);
    // Within the minute after, the period still starts at 10 pods: no further step.
    expect(out[times.indexOf(645)]).toBe(9);
    // 660 s: the step of 600 s is a full period old.
    expect(out[times.indexOf(660)]).toBe(8);
  });

  it('without a behavior, keeps a recommendation exactly at the window’s edge one sync longer', () => {
    const out = run(spec({ behavior: null }), 10, every15(0, 315), cool);
    expect(out[20]).toBe(10); // 300 s: the older rule counts a recommendation at the cutoff
    expect(out[21]).toBe(5);
  });

  it('uses the controller’s --horizontal-pod-autoscaler-downscale-stabilization when the behavior has no window', () => {
    const out = run(spec(), 10, every15(0, 120), cool, { ...C, downscaleStabilizationS: 60 });
    expect(out.slice(0, 4)).toEqual([10, 10, 10, 10]);
    expect(out[4]).toBe(5); // 60 s
  });
});

describe('minReplicas and maxReplicas', () => {
  it('raises a target below minReplicas to it without reading metrics (a pre-scale schedule’s raise)', () => {
    const r = hpaStep(spec({ minReplicas: 8 }), C, EMPTY_MEMORY, { nowS: 0, specReplicas: 2, pods: [] });
    expect(r).toMatchObject({
      replicas: 8,
      rescale: true,
      reason: 'Current number of replicas below Spec.MinReplicas',
    });
    // A raise is a scale event: the next 15 s may add only 100 % or 4 pods from 8.
    const next = hpaStep(spec({ minReplicas: 8 }), C, r.memory, {
      nowS: 10,
      specReplicas: 8,
      pods: ready(8, 1000, 10),
    });
    expect(next.replicas).toBe(8);
  });

  it('lowers a target above maxReplicas, caps the metric at maxReplicas and floors it at minReplicas', () => {
    expect(hpaStep(spec(), C, EMPTY_MEMORY, { nowS: 0, specReplicas: 25, pods: [] }).replicas).toBe(20);
    // 18 pods at 200 %: the metric asks for 60, the maximum is 20.
    expect(
      hpaStep(spec(), C, EMPTY_MEMORY, { nowS: 0, specReplicas: 18, pods: ready(18, 200, 0) }),
    ).toMatchObject({ replicas: 20, proposal: 60 });
    // 4 idle pods after the window: the metric asks for 0, minReplicas is 2.
    const idle = run(spec(), 4, [0, 300], (t, n) => ready(n, 0, t));
    expect(idle).toEqual([4, 2]);
  });

  it('leaves a target scaled to zero alone', () => {
    expect(hpaStep(spec(), C, EMPTY_MEMORY, { nowS: 0, specReplicas: 0, pods: [] })).toMatchObject({
      replicas: 0,
      rescale: false,
    });
  });
});

describe('pods that are not ready, or have no metrics', () => {
  it('counts unready pods as using nothing on a scale-up: 2 at 90 % + 1 pending stays at 3', () => {
    // ratio 90/60 = 1.5 > 1 with an unready pod: (90 + 90 + 0) / 3 = 60 % -> 1.0, within tolerance.
    const pods = [...ready(2, 90, 0), ...pending(1)];
    expect(calc(3, 60, pods, 0, C)).toEqual({ replicas: 3, utilization: 90 });
    // 2 at 150 % + 1 pending: (150 + 150 + 0) / 3 = 100 % -> ceil(1.667 x 3) = 5, not ceil(2.5 x 3) = 8.
    expect(calc(3, 60, [...ready(2, 150, 0), ...pending(1)], 0, C).replicas).toBe(5);
    // 2 at 100 % + 1 pending: (100 + 100 + 0) / 3 = 66 % (whole percent) -> 1.1, within: 3; leaving the
    // pending pod out would ask for ceil(1.667 x 2) = 4.
    expect(calc(3, 60, [...ready(2, 100, 0), ...pending(1)], 0, C).replicas).toBe(3);
  });

  it('leaves pending pods out of a scale-down (a running pod without metrics would count as 100 %)', () => {
    // 2 at 30 % + 1 pending: 30 / 60 = 0.5 over the 2 ready pods -> ceil(0.5 x 2) = 1.
    expect(calc(3, 60, [...ready(2, 30, 0), ...pending(1)], 0, C).replicas).toBe(1);
  });

  it('does not turn a scale-up into a scale-down because of them: 2 at 80 % + 2 pending stays at 4', () => {
    // (80 + 80 + 0 + 0) / 4 = 40 % -> 0.67: the direction would flip, so no change (not ceil(1.33 x 2) = 3).
    expect(calc(4, 60, [...ready(2, 80, 0), ...pending(2)], 0, C).replicas).toBe(4);
  });

  it('counts pods without metrics as using 100 % on a scale-down: 2 at 30 % + 2 without stays at 4', () => {
    const noMetric: PodView[] = ready(2, 0, 0, 'm').map(({ metric: _m, ...p }) => p);
    // (30 + 30 + 100 + 100) / 4 = 65 % -> 1.08: the direction would flip.
    expect(calc(4, 60, [...ready(2, 30, 0), ...noMetric], 0, C).replicas).toBe(4);
    // and as using nothing on a scale-up: (120 + 120 + 0 + 0) / 4 = 60 % -> within: 4
    expect(calc(4, 60, [...ready(2, 120, 0), ...noMetric], 0, C).replicas).toBe(4);
  });

  it('ignores a fresh pod’s first metric window after it turned ready (CPU initialization period)', () => {
    const now = 1000;
    const fresh: PodView = {
      name: 'fresh',
      phase: 'Running',
      startTimeS: now - 60,
      ready: { status: true, lastTransitionS: now - 20 },
      requestMilli: 1000,
      // its window began before it was ready: 0 % mostly from warming up
      metric: { valueMilli: 0, timestampS: now - 10, windowS: 15 },
    };
    // Counted, it would halve the utilization; ignored, the ready pod's 90 % stands.
    expect(calc(2, 60, [...ready(1, 90, now), fresh], now, C).utilization).toBe(90);
    const settled = {
      ...fresh,
      metric: { valueMilli: 0, timestampS: now, windowS: 15 },
      ready: { status: true, lastTransitionS: now - 40 },
    };
    expect(calc(2, 60, [...ready(1, 90, now), settled], now, C).utilization).toBe(45);
  });

  it('after the initialization period, ignores only a pod that was never ready', () => {
    const now = 1000;
    const base = {
      phase: 'Running' as const,
      startTimeS: now - 400,
      requestMilli: 1000,
      metric: { valueMilli: 0, timestampS: now, windowS: 15 },
    };
    const neverReady: PodView = { ...base, name: 'n', ready: { status: false, lastTransitionS: now - 390 } };
    const wasReady: PodView = { ...base, name: 'w', ready: { status: false, lastTransitionS: now - 100 } };
    expect(calc(2, 60, [...ready(1, 90, now), neverReady], now, C).utilization).toBe(90);
    expect(calc(2, 60, [...ready(1, 90, now), wasReady], now, C).utilization).toBe(45);
  });

  it('does nothing when no pod has a usable metric', () => {
    const r = hpaStep(spec(), C, EMPTY_MEMORY, { nowS: 0, specReplicas: 3, pods: pending(3) });
    expect(r).toMatchObject({ replicas: 3, rescale: false });
    expect(r.error).toMatch(/did not receive metrics/);
  });
});

describe('a pure step', () => {
  it('never changes the memory it was given, and repeats itself for the same input', () => {
    const memory = hpaStep(spec(), C, EMPTY_MEMORY, {
      nowS: 0,
      specReplicas: 10,
      pods: ready(10, 30, 0),
    }).memory;
    const frozen = JSON.stringify(memory);
    const obs = { nowS: 15, specReplicas: 10, pods: ready(10, 200, 15) };
    const a = hpaStep(spec(), C, memory, obs);
    const b = hpaStep(spec(), C, memory, obs);
    expect(JSON.stringify(memory)).toBe(frozen);
    expect(a).toEqual(b);
    expect(EMPTY_MEMORY).toEqual({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });
  });
});
