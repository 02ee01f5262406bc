import { describe, expect, it } from 'vitest';
import { overloadGoalMet, type OverloadFigures } from '../scenarios/bff-chain.bench.ts';

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
