import { describe, expect, it } from 'vitest';
import { generatorOnly, judgeStep, type StepLoad } from '../lib/capacity/judge.ts';
import {
  AbortSearch,
  midpoint,
  roundRate,
  searchCapacity,
  worstCaseSteps,
  type SearchBounds,
  type StepJudgement,
} from '../lib/capacity/search.ts';
import type { LatencyFigures } from '../lib/histogram.ts';

const BOUNDS: SearchBounds = { start: 1000, min: 25, max: 32_000, factor: 2, resolution: 0.05, maxSteps: 30 };

/** A role whose true capacity is `cap`: every rate up to it passes, every rate above misses. */
function fakeRole(cap: number) {
  const tried: number[] = [];
  const measure = async (rate: number): Promise<StepJudgement<{ rate: number }>> => {
    tried.push(rate);
    return rate <= cap
      ? { pass: true, reason: null, figures: { rate } }
      : { pass: false, reason: `p99 over at ${rate}`, figures: { rate } };
  };
  return { tried, measure };
}

describe('searchCapacity', () => {
  it('ramps geometrically, then bisects to within the resolution of the true capacity', async () => {
    const role = fakeRole(3000);
    const r = await searchCapacity(BOUNDS, role.measure);
    expect(r.stop).toBe('resolution');
    expect(role.tried.slice(0, 3)).toEqual([1000, 2000, 4000]);
    expect(r.steps.slice(0, 3).every((s) => s.phase === 'ramp')).toBe(true);
    expect(r.steps.slice(3).every((s) => s.phase === 'bisect')).toBe(true);
    expect(r.capacity).toBe(r.lo);
    expect(r.capacity!).toBeLessThanOrEqual(3000);
    expect(r.hi!).toBeGreaterThan(3000);
    expect((r.hi! - r.lo!) / r.lo!).toBeLessThanOrEqual(BOUNDS.resolution);
    // The capacity found is a rate that was measured and passed; the miss above it was measured and missed.
    expect(r.steps.find((s) => s.rate === r.capacity)?.pass).toBe(true);
    expect(r.steps.find((s) => s.rate === r.hi)?.pass).toBe(false);
    expect(r.steps.length).toBeLessThanOrEqual(worstCaseSteps(BOUNDS));
  });

  it('converges from either side for capacities across the whole range', async () => {
    for (const cap of [30, 77, 499, 1000, 1001, 2718, 9999, 31_000]) {
      const role = fakeRole(cap);
      const r = await searchCapacity(BOUNDS, role.measure);
      expect(r.stop, `cap ${cap}`).toBe('resolution');
      expect(r.capacity!, `cap ${cap}`).toBeLessThanOrEqual(cap);
      expect(r.hi!, `cap ${cap}`).toBeGreaterThan(cap);
      expect((r.hi! - r.lo!) / r.lo!, `cap ${cap}`).toBeLessThanOrEqual(BOUNDS.resolution);
      expect(r.steps.length, `cap ${cap}`).toBeLessThanOrEqual(worstCaseSteps(BOUNDS));
    }
  });

  it('goes down from the start when the start misses', async () => {
    const role = fakeRole(300);
    const r = await searchCapacity(BOUNDS, role.measure);
    expect(role.tried.slice(0, 3)).toEqual([1000, 500, 250]);
    expect(r.capacity!).toBeLessThanOrEqual(300);
    expect(r.hi!).toBeGreaterThan(300);
  });

  it('never measures outside [min, max]', async () => {
    for (const cap of [1, 10, 26, 100_000]) {
      const role = fakeRole(cap);
      const r = await searchCapacity({ ...BOUNDS, min: 25, max: 5000 }, role.measure);
      expect(Math.min(...role.tried)).toBeGreaterThanOrEqual(25);
      expect(Math.max(...role.tried)).toBeLessThanOrEqual(5000);
      if (cap >= 5000) {
        expect(r.stop).toBe('upper-bound');
        expect(r.capacity).toBe(5000);
        expect(r.hi).toBeNull();
      }
      if (cap < 25) {
        expect(r.stop).toBe('below-min');
        expect(r.capacity).toBeNull();
        expect(r.hi).toBe(25);
      }
    }
  });

  it('treats a failed measurement as a miss, with its message as the reason', async () => {
    const r = await searchCapacity(BOUNDS, async (rate) => {
      if (rate > 1500) throw new Error('connect ECONNREFUSED');
      return { pass: true, reason: null, figures: null };
    });
    expect(r.capacity!).toBeLessThanOrEqual(1500);
    expect(r.hi!).toBeGreaterThan(1500);
    const miss = r.steps.find((s) => s.rate === 2000)!;
    expect(miss.pass).toBe(false);
    expect(miss.reason).toMatch(/measurement failed: connect ECONNREFUSED/);
  });

  it('treats a step with errors as a miss even when its p99 is fine (judgeStep)', async () => {
    const slo = { p99Ms: 250, maxErrorRate: 0 };
    const r = await searchCapacity(BOUNDS, async (rate) => {
      // Fast answers throughout, but from 1,800/s on a few of them fail.
      const load = fakeLoad({ p99: 3, errors: rate >= 1800 ? 2 : 0 });
      return { ...judgeStep(load, slo, 25), figures: null };
    });
    expect(r.capacity!).toBeLessThan(1800);
    expect(r.hi!).toBeGreaterThanOrEqual(1800);
    expect(r.steps.find((s) => s.rate === r.hi)?.reason).toMatch(/^errors 2 of 10000 \(http_503=2\)/);
  });

  it('stops when the process under test is gone (AbortSearch), keeping what it had found', async () => {
    const r = await searchCapacity(BOUNDS, async (rate) => {
      if (rate >= 4000) throw new AbortSearch('vendor-bff exited (code 1)');
      return { pass: true, reason: null, figures: null };
    });
    expect(r.stop).toBe('aborted');
    expect(r.abortReason).toBe('vendor-bff exited (code 1)');
    expect(r.capacity).toBe(2000);
    // The aborted step is not a step: nothing was measured.
    expect(r.steps.map((s) => s.rate)).toEqual([1000, 2000]);
  });

  it('takes no more than maxSteps steps', async () => {
    const role = fakeRole(2718);
    const r = await searchCapacity({ ...BOUNDS, maxSteps: 5 }, role.measure);
    expect(role.tried).toHaveLength(5);
    expect(r.stop).toBe('max-steps');
    expect(r.capacity!).toBeLessThanOrEqual(2718);
    expect(r.hi!).toBeGreaterThan(2718);
  });

  it('reports every step as it is taken', async () => {
    const seen: number[] = [];
    const r = await searchCapacity(BOUNDS, fakeRole(1234).measure, (s) => seen.push(s.rate));
    expect(seen).toEqual(r.steps.map((s) => s.rate));
    expect(r.steps.map((s) => s.index)).toEqual(r.steps.map((_, i) => i));
  });

  it('refuses bounds that cannot make a search', async () => {
    const ok = fakeRole(1).measure;
    await expect(searchCapacity({ ...BOUNDS, start: 10 }, ok)).rejects.toThrow(/start must lie in/);
    await expect(searchCapacity({ ...BOUNDS, factor: 1 }, ok)).rejects.toThrow(/factor/);
    await expect(searchCapacity({ ...BOUNDS, max: 1 }, ok)).rejects.toThrow(/max must be/);
    await expect(searchCapacity({ ...BOUNDS, maxSteps: 0 }, ok)).rejects.toThrow(/maxSteps/);
  });
});

describe('rates', () => {
  it('rounds to three significant digits and bisects strictly between', () => {
    expect(roundRate(2625)).toBe(2630);
    expect(roundRate(87.25)).toBe(87.3);
    expect(roundRate(3000)).toBe(3000);
    expect(midpoint(2000, 4000)).toBe(3000);
    expect(midpoint(2500, 2600)).toBe(2550);
    const m = midpoint(1000, 1001)!;
    expect(m).toBeGreaterThan(1000);
    expect(m).toBeLessThan(1001);
  });
});

function figures(p99: number): LatencyFigures {
  return {
    count: 1,
    p50: p99 / 3,
    p90: p99 / 2,
    p95: p99 / 1.5,
    p99,
    p999: p99 * 2,
    max: p99 * 3,
    mean: p99 / 3,
    min: 0.1,
  };
}

function fakeLoad(o: { p99: number; errors?: number; lagP99?: number; scheduled?: number }): StepLoad {
  const scheduled = o.scheduled ?? 10_000;
  const errors = o.errors ?? 0;
  return {
    scheduled,
    ok: scheduled - errors,
    errors,
    errorsByKind: errors > 0 ? { http_503: errors } : {},
    latencyMs: figures(o.p99),
    schedulingLagMs: figures(o.lagP99 ?? 0.2),
  };
}

describe('judgeStep', () => {
  const slo = { p99Ms: 250, maxErrorRate: 0 };

  it('passes a step within the SLO without errors', () => {
    expect(judgeStep(fakeLoad({ p99: 249 }), slo, 25)).toEqual({ pass: true, reason: null });
  });

  it('misses on p99 over the SLO, on any error, and on a generator that fell behind', () => {
    expect(judgeStep(fakeLoad({ p99: 251 }), slo, 25).reason).toBe('p99 251ms > 250ms');
    expect(judgeStep(fakeLoad({ p99: 5, errors: 1 }), slo, 25).reason).toBe('errors 1 of 10000 (http_503=1)');
    const lag = judgeStep(fakeLoad({ p99: 5, lagP99: 40 }), slo, 25);
    expect(lag.pass).toBe(false);
    expect(generatorOnly(lag.reason)).toBe(true);
    const both = judgeStep(fakeLoad({ p99: 300, lagP99: 40 }), slo, 25);
    expect(generatorOnly(both.reason)).toBe(false);
    expect(judgeStep(fakeLoad({ p99: 5, errors: 10_000 }), slo, 25).reason).toMatch(/no successful request/);
  });

  it('tolerates errors up to maxErrorRate when one is set', () => {
    const loose = { p99Ms: 250, maxErrorRate: 0.01 };
    expect(judgeStep(fakeLoad({ p99: 5, errors: 100 }), loose, 25).pass).toBe(true);
    expect(judgeStep(fakeLoad({ p99: 5, errors: 101 }), loose, 25).pass).toBe(false);
  });
});
