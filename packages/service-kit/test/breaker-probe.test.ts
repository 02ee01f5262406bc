import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBreaker, type BreakerState } from '../src/breaker.ts';

/**
 * The background probe with vitest's fake timers: setTimeout and Date.now are both the fake clock, so the
 * waits between probes are read exactly, and nothing here depends on how busy the machine is.
 */
describe('circuit breaker with a background probe', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A dependency whose health the test sets; every probe is recorded with the (fake) time it ran. */
  const setup = (over: { random?: () => number; maxIntervalMs?: number; timeoutMs?: number } = {}) => {
    const t0 = Date.now();
    const dep = {
      healthy: false,
      /** Probes wait for answer() instead of answering at once. */
      hang: false,
      answer: (_healthy: boolean) => undefined as void,
      probes: [] as number[],
    };
    const changes: string[] = [];
    const breaker = createBreaker({
      failureThreshold: 2,
      resetAfterMs: 1_000,
      random: over.random ?? (() => 0),
      onStateChange: (to: BreakerState, from: BreakerState) => changes.push(`${from}->${to}`),
      probe: {
        check: async () => {
          dep.probes.push(Date.now() - t0);
          if (dep.hang) {
            return new Promise<void>((resolve, reject) => {
              dep.answer = (healthy) => (healthy ? resolve() : reject(new Error('down')));
            });
          }
          if (!dep.healthy) throw new Error('still down');
        },
        ...(over.maxIntervalMs !== undefined ? { maxIntervalMs: over.maxIntervalMs } : {}),
        ...(over.timeoutMs !== undefined ? { timeoutMs: over.timeoutMs } : {}),
      },
    });
    const openIt = () => {
      breaker.failure();
      breaker.failure();
      expect(breaker.state).toBe('open');
    };
    return { breaker, dep, changes, openIt, elapsed: () => Date.now() - t0 };
  };

  it('closes by itself once the dependency is back, without a single call', async () => {
    const { breaker, dep, changes, openIt } = setup();
    openIt();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(dep.probes).toEqual([1_000]);
    expect(breaker.state).toBe('open');
    dep.healthy = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(dep.probes).toEqual([1_000, 3_000]);
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ]);
    // Closed: nothing left scheduled.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never lets a request probe, and runs one probe at a time', async () => {
    const { breaker, dep, openIt } = setup();
    openIt();
    dep.hang = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breaker.state).toBe('half-open');
    for (let i = 0; i < 5; i++) expect(breaker.tryAcquire()).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(dep.probes).toEqual([1_000]);
  });

  it('backs off between failed probes, doubling up to maxIntervalMs', async () => {
    const { dep, openIt } = setup({ maxIntervalMs: 4_000 });
    openIt();
    await vi.advanceTimersByTimeAsync(20_000);
    // Waits of 1, 2, 4, 4, 4 ... seconds.
    expect(dep.probes).toEqual([1_000, 3_000, 7_000, 11_000, 15_000, 19_000]);
  });

  it('stretches each wait by up to a quarter at random, so processes that opened together spread out', async () => {
    const { dep, openIt } = setup({ random: () => 0.8 });
    openIt();
    await vi.advanceTimersByTimeAsync(4_000);
    // 1 s x 1.2, then 2 s x 1.2.
    expect(dep.probes).toEqual([1_200, 3_600]);
  });

  it('counts a probe that never answers as failed after its timeout, and tries again later', async () => {
    const { breaker, dep, openIt } = setup({ timeoutMs: 300 });
    openIt();
    dep.hang = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breaker.state).toBe('half-open');
    await vi.advanceTimersByTimeAsync(300);
    expect(breaker.state).toBe('open');
    dep.hang = false;
    dep.healthy = true;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(dep.probes).toEqual([1_000, 3_300]);
    expect(breaker.state).toBe('closed');
  });

  it('on probation after a probe closed it: the first failure re-opens it, and the next probe waits longer', async () => {
    const { breaker, dep, openIt, elapsed } = setup();
    openIt();
    dep.healthy = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breaker.state).toBe('closed');
    // The health route answers, the real call does not (an overloaded upstream): one failure, not two.
    breaker.failure();
    expect(breaker.state).toBe('open');
    const reopenedAt = elapsed();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(dep.probes).toEqual([1_000, reopenedAt + 2_000]);
    expect(breaker.state).toBe('closed');
    // A real call succeeds: off probation, and the count of failures starts again from the threshold.
    breaker.success();
    breaker.failure();
    expect(breaker.state).toBe('closed');
    breaker.failure();
    expect(breaker.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(dep.probes.at(-1)).toBe(elapsed());
  });

  it('a real call that succeeds while a probe is out closes it; the late probe answer changes nothing', async () => {
    const { breaker, dep, openIt } = setup();
    openIt();
    dep.hang = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(breaker.state).toBe('half-open');
    breaker.success(); // a call started before the breaker opened came back fine
    expect(breaker.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    dep.answer(false); // the probe's late failure must not re-open it
    await vi.advanceTimersByTimeAsync(10_000);
    expect(breaker.state).toBe('closed');
    expect(dep.probes).toHaveLength(1);
  });

  it('stop() ends probing for good', async () => {
    const { breaker, dep, openIt } = setup();
    openIt();
    breaker.stop();
    expect(vi.getTimerCount()).toBe(0);
    dep.healthy = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(dep.probes).toEqual([]);
    expect(breaker.state).toBe('open');
  });

  it('starts an overdue probe when a request finds the breaker past its wait', async () => {
    let now = 0;
    let probes = 0;
    const breaker = createBreaker({
      failureThreshold: 1,
      resetAfterMs: 1_000,
      random: () => 0,
      // The caller's own clock runs ahead of the timers (or the loop was too busy to run the timer).
      now: () => now,
      probe: {
        check: async () => {
          probes++;
        },
      },
    });
    breaker.failure();
    now = 1_000;
    expect(breaker.tryAcquire()).toBe(false); // refused, but the probe has started
    expect(probes).toBe(1);
    expect(breaker.state).toBe('half-open');
    await vi.advanceTimersByTimeAsync(0);
    expect(breaker.state).toBe('closed');
  });
});

describe('the probe timer never keeps a process alive', () => {
  it('a process whose only work is an open breaker probing a dead dependency exits by itself', async () => {
    // With a ref'd timer the failing probe would re-arm forever and this process would never end.
    const breakerUrl = new URL('../src/breaker.ts', import.meta.url).href;
    const script = `
      const { createBreaker } = await import(${JSON.stringify(breakerUrl)});
      const b = createBreaker({ failureThreshold: 1, resetAfterMs: 10,
        probe: { check: async () => { throw new Error('down'); } } });
      b.failure();
      console.log('opened', b.state);
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      timeout: 30_000,
    });
    expect(stdout.trim()).toBe('opened open');
  }, 40_000);
});
