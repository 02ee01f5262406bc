import { describe, expect, it } from 'vitest';
import { createBreaker, type BreakerState } from '../src/breaker.ts';

describe('circuit breaker', () => {
  const setup = () => {
    let now = 0;
    const changes: BreakerState[] = [];
    const breaker = createBreaker({
      failureThreshold: 3,
      resetAfterMs: 1_000,
      now: () => now,
      onStateChange: (to) => changes.push(to),
    });
    return { breaker, changes, advance: (ms: number) => (now += ms) };
  };

  it('opens after failureThreshold consecutive failures and then refuses calls', () => {
    const { breaker, changes } = setup();
    for (let i = 0; i < 2; i++) {
      expect(breaker.tryAcquire()).toBe(true);
      breaker.failure();
    }
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(changes).toEqual(['open']);
  });

  it('counts consecutive failures only: a success in between resets the count', () => {
    const { breaker } = setup();
    breaker.failure();
    breaker.failure();
    breaker.success();
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('closed');
  });

  it('after resetAfterMs lets exactly one probe through; its success closes the breaker', () => {
    const { breaker, changes, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(999);
    expect(breaker.tryAcquire()).toBe(false);
    advance(1);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.state).toBe('half-open');
    // Concurrent requests while the probe is out stay off the dependency.
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed probe re-opens for another full resetAfterMs', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) breaker.failure();
    advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure();
    expect(breaker.state).toBe('open');
    advance(500);
    expect(breaker.tryAcquire()).toBe(false);
    advance(500);
    expect(breaker.tryAcquire()).toBe(true);
  });
});

describe('regression: an open breaker without a probe reported open until a call happened to come', () => {
  it('reports half-open once resetAfterMs has passed, with no call at all, and lets one call through', () => {
    let now = 0;
    const changes: BreakerState[] = [];
    const breaker = createBreaker({
      failureThreshold: 1,
      resetAfterMs: 1_000,
      now: () => now,
      onStateChange: (to) => changes.push(to),
    });
    breaker.failure();
    now = 999;
    expect(breaker.state).toBe('open');
    now = 1_000;
    // What the metric reads when scraped: the next call would be let through, so it is half-open now.
    expect(breaker.state).toBe('half-open');
    expect(changes).toEqual(['open', 'half-open']);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
  });

  it('a late failure of a call sent before the breaker opened does not re-arm a half-open breaker', () => {
    let now = 0;
    const breaker = createBreaker({ failureThreshold: 1, resetAfterMs: 1_000, now: () => now });
    breaker.failure();
    now = 1_000;
    expect(breaker.state).toBe('half-open');
    breaker.failure(); // not the probe: no call was let through yet
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    breaker.failure(); // the probe
    expect(breaker.state).toBe('open');
  });
});
