import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAdmission, type Admission } from '../src/admission.ts';

describe('admission control', () => {
  let clock = 0;
  let admission: Admission | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    clock = 0;
  });
  afterEach(() => {
    admission?.close();
    vi.useRealTimers();
  });

  /** Runs the 5 ms sampling tick `n` times, each `lateMs` late (the event loop busy for that long). */
  const ticks = (n: number, lateMs: number) => {
    for (let i = 0; i < n; i++) {
      // The loop wakes `lateMs` after the tick was due; the next one is due 5 ms after this one ran.
      clock += 5 + lateMs;
      vi.advanceTimersByTime(5);
    }
  };

  it('admits up to maxInFlight requests, refuses the next, and admits again once one is done', () => {
    admission = createAdmission({ maxInFlight: 3, maxQueueMs: 0, now: () => clock });
    expect([1, 2, 3].map(() => admission!.tryAdmit())).toEqual([null, null, null]);
    expect(admission.tryAdmit()).toBe('in-flight');
    expect(admission.inFlight()).toBe(3);
    admission.done();
    expect(admission.tryAdmit()).toBeNull();
  });

  it('refuses while the loop lag stays above maxQueueMs for a whole window with requests in flight', () => {
    admission = createAdmission({ maxInFlight: 0, maxQueueMs: 10, queueMinInFlight: 2, now: () => clock });
    expect(admission.tryAdmit()).toBeNull();
    expect(admission.tryAdmit()).toBeNull();
    ticks(30, 15);
    expect(admission.queueing()).toBe(true);
    expect(admission.queuedMs()).toBeGreaterThanOrEqual(15);
    expect(admission.tryAdmit()).toBe('queue');
    // One tick on time: the queue drained, requests are admitted again at once.
    ticks(1, 0);
    expect(admission.queueing()).toBe(false);
    expect(admission.tryAdmit()).toBeNull();
  });

  it('does not refuse for a single long turn inside a window', () => {
    admission = createAdmission({ maxInFlight: 0, maxQueueMs: 10, queueMinInFlight: 0, now: () => clock });
    ticks(10, 0);
    ticks(1, 80);
    ticks(25, 0);
    expect(admission.queueing()).toBe(false);
    expect(admission.tryAdmit()).toBeNull();
  });

  it('does not refuse for lag alone while fewer than queueMinInFlight requests are in flight', () => {
    admission = createAdmission({ maxInFlight: 0, maxQueueMs: 10, queueMinInFlight: 2, now: () => clock });
    ticks(30, 15);
    expect(admission.queueing()).toBe(true);
    expect(admission.tryAdmit()).toBeNull();
  });
});
