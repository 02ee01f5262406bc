import { describe, expect, it } from 'vitest';
import { parseCron } from '../../src/learn/cron.ts';
import { defaultBehavior } from '../../src/learn/hpa.ts';
import type { Sample } from '../../src/learn/history.ts';
import {
  CLUSTER_DEFAULTS,
  equilibriumReplicas,
  firings,
  formatTable,
  oracleReplicas,
  podUtilization,
  ratesPerSecond,
  type RoleModel,
  simulateDay,
  simulateRole,
} from '../../src/learn/simulate.ts';
import type { ReplaySchedule } from '../../src/learn/values.ts';

// 2026-03-02 09:00 UTC = 18:00 Seoul, a multiple of 60 (and so of the 15 s sync).
const T0 = 1_772_442_000;
const SEOUL = 9 * 3600;

/** 100 rps per pod at 100 % CPU (up to 200 %), HPA on 50 % between 2 and 10, pods ready 60 s after binding. */
const role: RoleModel = {
  role: 'vendor-bff-precise',
  rpsPerPod: 100,
  cpuAtCapacityPercent: 100,
  maxCpuPercent: 200,
  podStartS: 60,
  requestMilli: 1000,
  hpa: { minReplicas: 2, maxReplicas: 10, targetUtilization: 50, behavior: defaultBehavior({}) },
};
/** `a` rps for the first `at` seconds, `b` after, for `duration` seconds. */
const step = (a: number, b: number, at: number, duration: number) =>
  Float64Array.from({ length: duration }, (_, k) => (k < at ? a : b));

describe('load and CPU', () => {
  it('spreads the rate over Ready pods, up to the CPU ceiling', () => {
    expect(podUtilization(role, 300, 2)).toBe(150);
    expect(podUtilization(role, 1000, 2)).toBe(200);
    expect(podUtilization({ ...role, cpuAtCapacityPercent: 76 }, 100, 1)).toBe(76);
    expect(podUtilization(role, 300, 0)).toBe(0);
    // At the 50 % target a pod serves 50 rps: 1,000 rps -> 20, clamped to 10; 60 -> 2 (the minimum).
    expect(equilibriumReplicas(role, 1000, 2)).toBe(10);
    expect(equilibriumReplicas({ ...role, hpa: { ...role.hpa, maxReplicas: 30 } }, 1000, 2)).toBe(20);
    expect(equilibriumReplicas(role, 60, 2)).toBe(2);
  });

  it('holds each sample until the next', () => {
    const samples: Sample[] = [
      { t: T0 + 2, role: role.role, rps: 5 },
      { t: T0 + 4, role: role.role, rps: 7 },
    ];
    expect([...ratesPerSecond(samples, T0, 6)]).toEqual([5, 5, 5, 5, 7, 7]);
  });
});

describe('nodes and placeholders', () => {
  const pool = { name: 'precise', podsPerNode: 2, spareNodes: 0 };
  // 200 rps, then 400 from 60 s: 2 pods, then 4; replicas set directly (no HPA in the way).
  const direct = { kind: 'direct' as const, replicasPerMinute: [2, 4, 4, 4, 4, 4, 4, 4] };

  it('makes new pods wait for a new node: 240 s, then 60 s to start, 300 s over', () => {
    const r = simulateRole({
      startS: T0,
      rates: step(200, 400, 60, 480),
      role,
      pool,
      cluster: CLUSTER_DEFAULTS,
      control: direct,
    });
    expect(r.overSeconds).toBe(300); // 60 .. 359: 2 Ready pods, 200 rps short
    expect(r.minutesOver).toEqual([1, 2, 3, 4, 5]);
    expect(r.excessRequests).toBe(300 * 200);
    expect(r.replicaSeconds).toBe(2 * 60 + 4 * 420);
    expect(r.minutes.map((m) => m.nodes)).toEqual([1, 2, 2, 2, 2, 2, 2, 2]);
    expect(r.minutes.map((m) => m.readyMin)).toEqual([2, 2, 2, 2, 2, 2, 4, 4]);
  });

  it('lets them preempt placeholders instead: ready 60 s later, while the placeholders wait for the node', () => {
    const r = simulateRole({
      startS: T0,
      rates: step(200, 400, 60, 480),
      role,
      pool,
      cluster: CLUSTER_DEFAULTS,
      control: direct,
      initialPlaceholders: 2,
    });
    expect(r.overSeconds).toBe(60); // 60 .. 119
    expect(r.minutesOver).toEqual([1]);
    // 2 nodes (2 pods, 2 placeholders); a third asked for at 60 s for the preempted placeholders, up at 300 s.
    expect(r.minutes.map((m) => m.nodes)).toEqual([2, 3, 3, 3, 3, 3, 3, 3]);
    expect(r.nodeSeconds).toBe(2 * 60 + 3 * 420);
    expect(r.placeholderSeconds).toBe(2 * 480);
  });

  it('removes pods still starting before Ready ones on a scale-down', () => {
    // 2 more pods at 60 s, taking 90 s to start; back to 2 at 120 s: the starting pair goes.
    const r = simulateRole({
      startS: T0,
      rates: step(200, 200, 0, 240),
      role: { ...role, podStartS: 90 },
      pool: { name: 'precise', podsPerNode: 4, spareNodes: 0 },
      cluster: CLUSTER_DEFAULTS,
      control: { kind: 'direct', replicasPerMinute: [2, 4, 2, 2] },
    });
    expect(r.minutes.map((m) => m.replicas)).toEqual([2, 4, 2, 2]);
    expect(r.overSeconds).toBe(0);
    expect(r.minutes.map((m) => m.readyMin)).toEqual([2, 2, 2, 2]);
  });

  it('removes a node’s worth of free room after 10 minutes', () => {
    const r = simulateRole({
      startS: T0,
      rates: step(400, 200, 60, 780),
      role,
      pool,
      cluster: CLUSTER_DEFAULTS,
      control: { kind: 'direct', replicasPerMinute: [4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] },
    });
    // Free from 60 s; removed at 660 s.
    expect(r.minutes[10]!.nodes).toBe(2);
    expect(r.minutes[11]!.nodes).toBe(1);
    expect(r.overSeconds).toBe(0);
  });
});

describe('the reactive HPA, worked by hand', () => {
  // 100 rps on 2 pods (50 %, at target); 300 rps from 60 s. Node room for 4 pods.
  const run = (duration: number) =>
    simulateRole({
      startS: T0,
      rates: step(100, 300, 60, duration),
      role,
      pool: { name: 'precise', podsPerNode: 4, spareNodes: 0 },
      cluster: CLUSTER_DEFAULTS,
      control: { kind: 'hpa', events: [] },
    });

  it('reads the step 15 s late through a 15 s window: nothing at 75 s, 2 -> 6 at 90 s', () => {
    // The sync of 75 s reads the sample stamped 60 s: [45, 60), all at 50 %. At 90 s, the one stamped
    // 75 s: [60, 75), 150 % -> 3.0 -> 6, within max(+4, +100 %) of 2.
    expect(run(90).minutes.at(-1)!.replicas).toBe(2);
    expect(run(91).minutes.at(-1)!.replicas).toBe(6);
  });

  it('binds two new pods on the node’s free room, the other two wait for a node', () => {
    const r = run(600);
    // 60 .. 149: 2 Ready pods = 200 rps < 300. From 150 s (bound at 90 s + 60 s), 4 pods.
    expect(r.overSeconds).toBe(90);
    expect(r.minutesOver).toEqual([1, 2]);
    expect(r.minutes[2]!.readyMin).toBe(2);
    expect(r.minutes[3]!.readyMin).toBe(4);
    expect(r.minutes[1]!.nodes).toBe(2); // one on its way from 90 s
  });

  it('reads fresh metrics with no delay: 2 -> 6 at 75 s', () => {
    const r = simulateRole({
      startS: T0,
      rates: step(100, 300, 60, 76),
      role,
      pool: { name: 'precise', podsPerNode: 4, spareNodes: 0 },
      cluster: { ...CLUSTER_DEFAULTS, metricsDelayS: 0 },
      control: { kind: 'hpa', events: [] },
    });
    expect(r.minutes.at(-1)!.replicas).toBe(6);
  });
});

describe('schedules', () => {
  const schedule = (name: string, cron: string, min: number): ReplaySchedule => ({
    name,
    cron: parseCron(cron),
    minReplicas: { 'vendor-bff-precise': min },
    placeholders: {},
  });

  it('fires at the local minute, in UTC seconds', () => {
    const f = firings(
      [schedule('a', '40 10 * * *', 6), schedule('b', '0 0 * * 1', 3)],
      T0 - 2 * 86400,
      T0 + 86400,
      SEOUL,
    );
    // 10:40 Seoul = 01:40 UTC; Monday 00:00 Seoul (2026-03-02) = Sunday 15:00 UTC.
    // From 2026-02-28 09:00 UTC to 2026-03-03 09:00 UTC.
    expect(f.map((x) => [x.schedule.name, new Date(x.atS * 1000).toISOString()])).toEqual([
      ['a', '2026-03-01T01:40:00.000Z'],
      ['b', '2026-03-01T15:00:00.000Z'],
      ['a', '2026-03-02T01:40:00.000Z'],
      ['a', '2026-03-03T01:40:00.000Z'],
    ]);
  });

  it('starts the day with the values in effect, and lowers minReplicas as the HPA allows', () => {
    // 12:00 Seoul: the 10:40 raise to 6 is in effect; at 12:05 (+10 s) minReplicas falls to 3, and the
    // next sync (12:05:15) may lower the pods, the recommendations of the last 300 s being all low
    // except the initial 6 of 12:00:00.
    const noon = T0 - 6 * 3600;
    const [result] = simulateDay({
      startS: noon,
      durationS: 600,
      offsetS: SEOUL,
      samples: [{ t: noon, role: role.role, rps: 60 }],
      roles: [role],
      pools: {},
      cluster: CLUSTER_DEFAULTS,
      policies: [
        { name: 'cron', schedules: [schedule('up', '40 10 * * *', 6), schedule('down', '5 12 * * *', 3)] },
      ],
      oracleHeadroom: 1.2,
      oracleFloor: {},
    });
    const m = result!.roles[0]!.minutes;
    expect(m[0]!.hpaMin).toBe(6);
    expect(m[0]!.replicas).toBe(6);
    expect(m[4]!.replicas).toBe(6);
    expect(m[5]!.hpaMin).toBe(3);
    expect(m[5]!.replicas).toBe(3);
  });
});

describe('the oracle and the comparison', () => {
  it('places each minute’s need the lead earlier, and lowers when the need falls', () => {
    const rates = Float64Array.from({ length: 600 }, (_, k) => (k >= 180 && k < 360 ? 1000 : 100));
    // need per minute: [2, 2, 2, 10, 10, 10, 2, 2, 2, 2]; lead 120 s = 2 minutes ahead.
    expect(oracleReplicas(rates, role, 1, 2, 120)).toEqual([2, 10, 10, 10, 10, 10, 2, 2, 2, 2]);
    // headroom 1.2: 1,000 / 100 x 1.2 = 12, capped at maxReplicas 10; 100 x 1.2 / 100 = 1.2 -> 2.
    expect(oracleReplicas(rates, { ...role, hpa: { ...role.hpa, maxReplicas: 30 } }, 1.2, 1, 0)[3]).toBe(12);
  });

  it('reports replica-hours against the oracle’s', () => {
    // 1,000 rps flat: the HPA settles at 1,000 / 50 = 20 pods, the oracle at 1,000 / 100 x 1.2 = 12.
    const big = { ...role, hpa: { ...role.hpa, maxReplicas: 30 } };
    const results = simulateDay({
      startS: T0,
      durationS: 600,
      offsetS: SEOUL,
      samples: [{ t: T0, role: role.role, rps: 1000 }],
      roles: [big],
      pools: { 'vendor-bff-precise': { name: 'precise', podsPerNode: 8, spareNodes: 0 } },
      cluster: CLUSTER_DEFAULTS,
      policies: [
        { name: 'reactive', schedules: [] },
        { name: 'oracle', schedules: [], oracle: true },
      ],
      oracleHeadroom: 1.2,
      oracleFloor: {},
    });
    expect(results.map((r) => r.replicaHours)).toEqual([(20 * 600) / 3600, (12 * 600) / 3600]);
    expect(results[0]!.vsOraclePercent).toBeCloseTo((20 / 12 - 1) * 100, 9);
    expect(results[1]!.vsOraclePercent).toBe(0);
    expect(results.map((r) => r.minutesAboveSlo)).toEqual([0, 0]);
    const table = formatTable(results);
    expect(table).toMatch(/^policy\s+minutes above SLO/);
    expect(table).toMatch(/reactive\s+0\s+0\s+3\.3\s+\+66\.7 %/);
  });
});
