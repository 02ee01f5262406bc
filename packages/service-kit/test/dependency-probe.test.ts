// dependency() with a background probe against a real upstream: a tiny HTTP server in this test that
// fails (503 on every route) and recovers when told to. Nothing here is a mock of the upstream: the kit's
// own HTTP client talks to it over a socket.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDependencyMetrics,
  dependency,
  type CallFailureKind,
  type DeadlineLike,
  type Dependency,
} from '../src/index.ts';

class TestFailure extends Error {
  readonly kind: CallFailureKind;
  constructor(_dependency: string, kind: CallFailureKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
  }
}

interface Upstream {
  readonly url: string;
  healthy: boolean;
  /** Every request it received, as `METHOD path`. */
  readonly seen: string[];
  close(): Promise<void>;
}

async function upstream(): Promise<Upstream> {
  const state = { healthy: true, seen: [] as string[] };
  const server: Server = createServer((req, res) => {
    state.seen.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(state.healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(state.healthy ? '{"ok":true}' : '{"code":"NOT_READY","message":"down"}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get healthy() {
      return state.healthy;
    },
    set healthy(v: boolean) {
      state.healthy = v;
    },
    seen: state.seen,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

const budget: DeadlineLike = { remainingMs: () => 30_000 };
const names = {
  duration: 'x_dependency_duration_seconds',
  failures: 'x_dependency_failures_total',
  breakerState: 'x_breaker_state',
  coalesced: 'x_coalesced_requests',
};

/** The breaker gauge as a scrape reads it. */
async function gauge(registry: Registry, label: string): Promise<number | undefined> {
  const text = await registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`x_breaker_state{dependency="${label}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('regression: the breaker metric stayed open after the dependency recovered, until a call probed it', () => {
  let up: Upstream;
  const deps: Dependency<CallFailureKind>[] = [];
  beforeAll(async () => {
    up = await upstream();
  });
  afterAll(async () => {
    await Promise.all(deps.map((d) => d.close()));
    await up?.close();
  });

  const make = (perOperation?: readonly string[]) => {
    const registry = new Registry();
    const dep = dependency<CallFailureKind>({
      name: 'up',
      // Generous: a slow answer from a busy machine must not count as the failure under test.
      http: { origin: up.url, timeoutMs: 10_000 },
      breaker: {
        failureThreshold: 2,
        resetAfterMs: 20,
        ...(perOperation ? { perOperation } : {}),
        probe: (http, operation) =>
          http.request({ method: 'GET', path: operation === undefined ? '/readyz' : `/ready/${operation}` }),
      },
      minBudgetMs: 1,
      retryConnect: false,
      failure: TestFailure,
      metrics: createDependencyMetrics(registry, { names }),
    });
    deps.push(dep);
    const work = (operation = 'work') =>
      dep
        .call(operation, budget, async (d) => {
          await dep.http.request({ method: 'POST', path: `/${operation}`, body: {}, deadline: d });
          return 'ok' as const;
        })
        .catch((err: unknown) => (err as TestFailure).kind);
    return { dep, registry, work };
  };

  it('closes the breaker in the background once the upstream is back; the next call goes through', async () => {
    const { registry, work } = make();
    up.healthy = false;
    expect([await work(), await work()]).toEqual(['status', 'status']);
    expect(await work()).toBe('breaker-open');
    expect(await gauge(registry, 'up')).toBeGreaterThan(0);
    // While it is down, probes go out in the background and fail: the breaker stays off the upstream.
    await expect
      .poll(() => up.seen.filter((s) => s === 'GET /readyz').length, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(2);
    expect(await gauge(registry, 'up')).toBeGreaterThan(0);

    up.healthy = true;
    // No call at all: the metric alone goes to closed.
    await expect.poll(() => gauge(registry, 'up'), { timeout: 15_000 }).toBe(0);
    // And the first call after that is answered by the upstream, not refused by the breaker.
    expect(await work()).toBe('ok');
  }, 30_000);

  it('probes each per-operation breaker with its own operation', async () => {
    const { registry, work } = make(['a', 'b']);
    up.healthy = false;
    for (let i = 0; i < 2; i++) expect(await work('a')).toBe('status');
    expect(await gauge(registry, 'up/a')).toBeGreaterThan(0);
    expect(await gauge(registry, 'up/b')).toBe(0);
    await expect.poll(() => up.seen.includes('GET /ready/a'), { timeout: 15_000 }).toBe(true);
    up.healthy = true;
    await expect.poll(() => gauge(registry, 'up/a'), { timeout: 15_000 }).toBe(0);
    expect(up.seen).not.toContain('GET /ready/b');
    expect(await work('a')).toBe('ok');
  }, 30_000);
});
