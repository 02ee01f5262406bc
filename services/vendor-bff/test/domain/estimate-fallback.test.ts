import { createBreaker } from '@eta/cache';
import { UpstreamError } from '@eta/service-kit';
import { describe, expect, it } from 'vitest';
import { classifyUpstream } from '../../src/adapters/geo-ml-calls.ts';
import {
  budgetWithin,
  DependencyFailure,
  guardedCall,
  haversineKm,
  inSeoulBounds,
  type FailureKind,
  type GuardOptions,
} from '../../src/domain/fallback.ts';
import { BUSAN, CITY_HALL, GANGNAM, GWANGMYEONG } from './estimate-fixtures.ts';

function guard(over: Partial<GuardOptions> = {}) {
  const seen: string[] = [];
  const opts: GuardOptions = {
    dependency: 'geo',
    breaker: createBreaker({ failureThreshold: 3, resetAfterMs: 60_000 }),
    observer: { observe: (_d, _o, outcome) => seen.push(outcome) },
    minBudgetMs: 2,
    retryConnect: true,
    classify: classifyUpstream,
    ...over,
  };
  return { opts, seen };
}

const budget = () => budgetWithin(undefined, 1_000);
const fail = (kind: 'timeout' | 'connect' | 'status', statusCode?: number) =>
  new UpstreamError(kind, 'geo', `geo ${kind}`, statusCode === undefined ? {} : { statusCode });

async function kindOf(p: Promise<unknown>): Promise<FailureKind | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof DependencyFailure) return err.kind;
    throw err;
  }
}

describe('guardedCall', () => {
  it('retries a connection failure once, then gives up', async () => {
    const { opts, seen } = guard();
    let calls = 0;
    const kind = await kindOf(
      guardedCall(opts, 'features', budget(), async () => {
        calls++;
        throw fail('connect');
      }),
    );
    expect(kind).toBe('connect');
    expect(calls).toBe(2);
    expect(seen).toEqual(['connect', 'connect']);
  });

  it('answers from the retry when the second attempt succeeds', async () => {
    const { opts } = guard();
    let calls = 0;
    const result = await guardedCall(opts, 'features', budget(), async () => {
      if (++calls === 1) throw fail('connect');
      return 'answer';
    });
    expect(result).toBe('answer');
  });

  it('never retries a timeout', async () => {
    const { opts } = guard();
    let calls = 0;
    const kind = await kindOf(
      guardedCall(opts, 'features', budget(), async () => {
        calls++;
        throw fail('timeout');
      }),
    );
    expect([kind, calls]).toEqual(['timeout', 1]);
  });

  it('opens the breaker after the threshold, and then does not call at all', async () => {
    const { opts, seen } = guard({ retryConnect: false });
    let calls = 0;
    const attempt = async () => {
      calls++;
      throw fail('status', 503);
    };
    for (let i = 0; i < 3; i++)
      expect(await kindOf(guardedCall(opts, 'f', budget(), attempt))).toBe('status');
    expect(await kindOf(guardedCall(opts, 'f', budget(), attempt))).toBe('breaker-open');
    expect(calls).toBe(3);
    expect(seen.at(-1)).toBe('breaker-open');
  });

  it('does not count a 4xx towards the breaker: the dependency is up', async () => {
    const { opts } = guard({ retryConnect: false });
    for (let i = 0; i < 5; i++) {
      const kind = await kindOf(
        guardedCall(opts, 'f', budget(), async () => {
          throw fail('status', 400);
        }),
      );
      expect(kind).toBe('rejected');
    }
    expect(opts.breaker.state).toBe('closed');
  });

  it('does not start a call without budget', async () => {
    const { opts } = guard();
    let calls = 0;
    const kind = await kindOf(
      guardedCall(opts, 'f', budgetWithin(undefined, 1), async () => {
        calls++;
      }),
    );
    expect([kind, calls]).toEqual(['no-budget', 0]);
  });

  it('rethrows our own bugs instead of hiding them behind a fallback', async () => {
    const { opts } = guard();
    await expect(
      guardedCall(opts, 'f', budget(), async () => {
        throw new TypeError('bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(opts.breaker.state).toBe('closed');
  });
});

describe('budgetWithin', () => {
  it('is the smaller of its own limit and what the parent has left minus the reserve', () => {
    expect(budgetWithin({ remainingMs: () => 100 }, 250, 5).remainingMs()).toBeLessThanOrEqual(95);
    expect(budgetWithin({ remainingMs: () => 10_000 }, 250, 5).remainingMs()).toBeLessThanOrEqual(250);
    expect(budgetWithin({ remainingMs: () => 3 }, 250, 5).remainingMs()).toBe(0);
  });
});

describe('geometry without Geo', () => {
  it('measures City Hall to Gangnam station as about 8.6 km', () => {
    expect(haversineKm(CITY_HALL, GANGNAM)).toBeCloseTo(8.6, 0);
  });

  it('refuses Busan by the bounding box and keeps Seoul', () => {
    expect(inSeoulBounds(BUSAN)).toBe(false);
    expect(inSeoulBounds(CITY_HALL)).toBe(true);
    expect(inSeoulBounds(GANGNAM)).toBe(true);
    // The box is coarse on purpose; Geo's polygons refuse this one (integration tests).
    expect(inSeoulBounds(GWANGMYEONG)).toBe(true);
  });
});
