import { describe, expect, it } from 'vitest';
import {
  overloadGoalMet,
  recoveredAfter,
  type OverloadFigures,
  type RecoveryWindow,
} from '../scenarios/bff-chain.bench.ts';

const run = (o: Partial<OverloadFigures>): OverloadFigures => ({
  offeredRate: 6000,
  scheduled: 120_000,
  withinSlo: 0.5,
  withinFast: 0.4,
  refused: 0.45,
  other: 0.05,
  refusalP50Ms: 1,
  refusalP99Ms: 3,
  recoverySeconds: 4,
  recoveryWindowsSeconds: 4,
  ...o,
});

describe("bff-chain's overload goal", () => {
  it('is met with 90 % of the admitted within the SLO, refusals under 5 ms and recovery within 10 s', () => {
    expect(overloadGoalMet(run({}))).toBe(true);
  });

  it('is missed by slow refusals, too few admitted within the SLO, or a late or missing recovery', () => {
    expect(overloadGoalMet(run({ refusalP99Ms: 5 }))).toBe(false);
    expect(overloadGoalMet(run({ withinSlo: 0.49 }))).toBe(false);
    expect(overloadGoalMet(run({ recoverySeconds: 11 }))).toBe(false);
    expect(overloadGoalMet(run({ recoverySeconds: null }))).toBe(false);
  });

  it('is met by a run that refused nothing and answered within the SLO, whose 503 latencies are NaN', () => {
    const none = { refused: 0, refusalP50Ms: Number.NaN, refusalP99Ms: Number.NaN, other: 0 };
    expect(overloadGoalMet(run({ ...none, withinSlo: 0.996 }))).toBe(true);
    expect(overloadGoalMet(run({ ...none, withinSlo: 0.8 }))).toBe(false);
  });
});

describe("bff-chain's recovery after an overload", () => {
  /** 20 seconds of 1,000 requests each at `base` ms, with the given seconds' slowest requests replaced. */
  function run(base: number, slow: Record<number, { n: number; ms: number }> = {}, errors: number[] = []) {
    return Array.from({ length: 20 }, (_, second): RecoveryWindow => {
      const latenciesMs = Array.from({ length: 1000 }, (_, i) => base + (i % 10) * 0.1);
      const s = slow[second];
      if (s !== undefined) for (let i = 0; i < s.n; i++) latenciesMs[i] = s.ms;
      return { second, latenciesMs, errors: errors.includes(second) ? 1 : 0 };
    });
  }

  it('is 0 s for a run like the calm one, and a 10-request stall late in it fails only the per-window reading', () => {
    expect(recoveredAfter(run(2), 3)).toBe(0);
    const stall = run(2, { 17: { n: 10, ms: 14 } });
    expect(recoveredAfter(stall, 3)).toBe(0);
    expect(recoveredAfter(stall, 3, { windows: true })).toBe(18);
  });

  it('waits for the slow seconds after the overload, and for the last error', () => {
    const slowStart = run(2, { 0: { n: 1000, ms: 80 }, 1: { n: 1000, ms: 40 }, 2: { n: 300, ms: 20 } });
    // Seconds 0-2 hold 2,300 of 20,000 requests above 6 ms; from second 2 on, 300 of 18,000 (1.7 %).
    expect(recoveredAfter(slowStart, 3)).toBe(3);
    expect(recoveredAfter(slowStart, 3, { windows: true })).toBe(3);
    expect(recoveredAfter(run(2, {}, [12]), 3)).toBe(13);
  });

  it('is null when the end of the run is still slow or failing', () => {
    expect(recoveredAfter(run(2, { 19: { n: 1000, ms: 30 } }), 3)).toBeNull();
    expect(recoveredAfter(run(2, {}, [19]), 3)).toBeNull();
    expect(recoveredAfter([], 3)).toBeNull();
  });
});
