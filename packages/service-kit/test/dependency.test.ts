import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDependencyMetrics,
  dependency,
  UpstreamError,
  type CallFailureKind,
  type DeadlineLike,
  type Dependency,
  type DependencyMetrics,
  type DependencyOptions,
} from '../src/index.ts';

type Kind = CallFailureKind | 'layout';

/** A caller's own failure type, as a domain defines it. */
class TestFailure extends Error {
  readonly dependency: string;
  readonly kind: Kind;
  constructor(dependency: string, kind: Kind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.dependency = dependency;
    this.kind = kind;
  }
}

const opened: Dependency<Kind>[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

/** Nothing listens on port 1: the attempts below never use the client anyway. */
function guard(over: Partial<DependencyOptions<Kind>> = {}) {
  const seen: string[] = [];
  const metrics: DependencyMetrics = {
    observe: (_d, _o, outcome) => seen.push(outcome),
    countBatch: () => undefined,
    watchBreaker: () => undefined,
  };
  const dep = dependency<Kind>({
    name: 'geo',
    http: { origin: 'http://127.0.0.1:1', timeoutMs: 100 },
    breaker: { failureThreshold: 3, resetAfterMs: 60_000 },
    minBudgetMs: 2,
    retryConnect: true,
    failure: TestFailure,
    metrics,
    ...over,
  });
  opened.push(dep);
  return { dep, seen, breaker: () => dep.breakers.get('geo')! };
}

const budget = (ms = 1_000): DeadlineLike => ({ remainingMs: () => ms });
const fail = (kind: 'timeout' | 'connect' | 'status', statusCode?: number) =>
  new UpstreamError(kind, 'geo', `geo ${kind}`, statusCode === undefined ? {} : { statusCode });

async function kindOf(p: Promise<unknown>): Promise<Kind | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof TestFailure) return err.kind;
    throw err;
  }
}

describe('dependency().call', () => {
  it('retries a connection failure once, then gives up', async () => {
    const { dep, seen } = guard();
    let calls = 0;
    const kind = await kindOf(
      dep.call('features', budget(), async () => {
        calls++;
        throw fail('connect');
      }),
    );
    expect(kind).toBe('connect');
    expect(calls).toBe(2);
    expect(seen).toEqual(['connect', 'connect']);
  });

  it('answers from the retry when the second attempt succeeds', async () => {
    const { dep } = guard();
    let calls = 0;
    const result = await dep.call('features', budget(), async () => {
      if (++calls === 1) throw fail('connect');
      return 'answer';
    });
    expect(result).toBe('answer');
  });

  it('never retries a timeout', async () => {
    const { dep } = guard();
    let calls = 0;
    const kind = await kindOf(
      dep.call('features', budget(), async () => {
        calls++;
        throw fail('timeout');
      }),
    );
    expect([kind, calls]).toEqual(['timeout', 1]);
  });

  it('opens the breaker after the threshold, and then does not call at all', async () => {
    const { dep, seen } = guard({ retryConnect: false });
    let calls = 0;
    const attempt = async () => {
      calls++;
      throw fail('status', 503);
    };
    for (let i = 0; i < 3; i++) expect(await kindOf(dep.call('f', budget(), attempt))).toBe('status');
    expect(await kindOf(dep.call('f', budget(), attempt))).toBe('breaker-open');
    expect(calls).toBe(3);
    expect(seen.at(-1)).toBe('breaker-open');
  });

  it('does not count a 4xx towards the breaker: the dependency is up', async () => {
    const { dep, breaker } = guard({ retryConnect: false });
    for (let i = 0; i < 5; i++) {
      const kind = await kindOf(
        dep.call('f', budget(), async () => {
          throw fail('status', 400);
        }),
      );
      expect(kind).toBe('rejected');
    }
    expect(breaker().state).toBe('closed');
  });

  it('does not start a call without budget', async () => {
    const { dep } = guard();
    let calls = 0;
    const kind = await kindOf(
      dep.call('f', budget(1), async () => {
        calls++;
      }),
    );
    expect([kind, calls]).toEqual(['no-budget', 0]);
  });

  it('rethrows our own bugs instead of hiding them behind a fallback', async () => {
    const { dep, breaker } = guard();
    await expect(
      dep.call('f', budget(), async () => {
        throw new TypeError('bug');
      }),
    ).rejects.toThrow(TypeError);
    expect(breaker().state).toBe('closed');
  });

  it("passes the caller's own failure through with its kind, and it does not open the breaker", async () => {
    const { dep, seen, breaker } = guard({ breaker: { failureThreshold: 1, resetAfterMs: 60_000 } });
    const own = new TestFailure('geo', 'layout', 'version not checked yet');
    await expect(
      dep.call('f', budget(), async () => {
        throw own;
      }),
    ).rejects.toBe(own);
    expect(seen).toEqual(['layout']);
    expect(breaker().state).toBe('closed');
  });

  it('wraps a classified error in the failure class, the upstream error as its cause', async () => {
    const { dep } = guard({ retryConnect: false });
    const upstream = fail('timeout');
    const err = await dep
      .call('features', budget(), async () => {
        throw upstream;
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestFailure);
    expect(err).toMatchObject({ dependency: 'geo', kind: 'timeout', message: 'geo features: geo timeout' });
    expect((err as Error).cause).toBe(upstream);
  });
});

describe('dependency() breakers', () => {
  it('keeps one breaker per listed operation, so one failing operation does not stop another', async () => {
    const changes: string[] = [];
    const { dep } = guard({
      retryConnect: false,
      breaker: {
        failureThreshold: 1,
        resetAfterMs: 60_000,
        perOperation: ['eta-precise', 'eta-rough'],
        onStateChange: (to, from, operation) => changes.push(`${operation}: ${from} -> ${to}`),
      },
    });
    expect([...dep.breakers.keys()]).toEqual(['geo/eta-precise', 'geo/eta-rough']);
    expect(
      await kindOf(
        dep.call('eta-precise', budget(), async () => {
          throw fail('timeout');
        }),
      ),
    ).toBe('timeout');
    expect(await kindOf(dep.call('eta-precise', budget(), async () => 1))).toBe('breaker-open');
    expect(await kindOf(dep.call('eta-rough', budget(), async () => 1))).toBe('ok');
    expect(changes).toEqual(['eta-precise: closed -> open']);
    // An operation without a breaker of its own is a bug, not a dependency failure.
    await expect(dep.call('eta-other', budget(), async () => 1)).rejects.toThrow(
      /no breaker for operation eta-other/,
    );
  });

  it('refuse() counts a call that never went out and hands back the failure to throw', () => {
    const { dep, seen } = guard();
    const err = dep.refuse('eta-precise', 'layout', 'no checked layout');
    expect(err).toBeInstanceOf(TestFailure);
    expect(err).toMatchObject({ dependency: 'geo', kind: 'layout', message: 'no checked layout' });
    expect(seen).toEqual(['layout']);
  });
});

describe('createDependencyMetrics', () => {
  const names = {
    duration: 'x_dependency_duration_seconds',
    failures: 'x_dependency_failures_total',
    breakerState: 'x_breaker_state',
    coalesced: 'x_coalesced_requests',
  };

  it('exposes calls, failures, breakers and coalesced batches under the names and labels given', async () => {
    const registry = new Registry();
    const metrics = createDependencyMetrics(registry, {
      names,
      untimed: ['breaker-open', 'no-budget', 'layout'],
    });
    const dep = dependency<Kind>({
      name: 'ml-proxy',
      http: { origin: 'http://127.0.0.1:1', timeoutMs: 100 },
      breaker: { failureThreshold: 1, resetAfterMs: 60_000, perOperation: ['eta-rough'] },
      minBudgetMs: 2,
      retryConnect: false,
      failure: TestFailure,
      metrics,
    });
    opened.push(dep);
    await dep.call('eta-rough', budget(), async () => 1);
    await kindOf(
      dep.call('eta-rough', budget(), async () => {
        throw fail('status', 503);
      }),
    );
    await kindOf(dep.call('eta-rough', budget(), async () => 1));
    dep.refuse('eta-rough', 'layout', 'not checked');
    const coalescer = dep.coalescer<number, number>('eta-rough', {
      maxWeight: 10,
      send: async (items) => items.map((n) => n * 2),
    });
    await Promise.all([1, 2, 3].map((n) => coalescer.submit(n, budget())));

    const text = await registry.metrics();
    expect(text).toContain(
      'x_dependency_duration_seconds_count{dependency="ml-proxy",operation="eta-rough",outcome="ok"} 1',
    );
    expect(text).toContain(
      'x_dependency_duration_seconds_count{dependency="ml-proxy",operation="eta-rough",outcome="status"} 1',
    );
    // Calls that never went out are failures, not latency samples.
    expect(text).not.toMatch(/x_dependency_duration_seconds_count\{[^}]*outcome="(breaker-open|layout)"/);
    expect(text).toContain(
      'x_dependency_failures_total{dependency="ml-proxy",operation="eta-rough",kind="status"} 1',
    );
    expect(text).toContain(
      'x_dependency_failures_total{dependency="ml-proxy",operation="eta-rough",kind="breaker-open"} 1',
    );
    expect(text).toContain(
      'x_dependency_failures_total{dependency="ml-proxy",operation="eta-rough",kind="layout"} 1',
    );
    expect(text).toContain('x_breaker_state{dependency="ml-proxy/eta-rough"} 2');
    expect(text).toContain('x_coalesced_requests_count{dependency="ml-proxy",operation="eta-rough"} 1');
    expect(text).toContain('x_coalesced_requests_sum{dependency="ml-proxy",operation="eta-rough"} 3');
  });
});
