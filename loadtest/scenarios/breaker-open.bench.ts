// What a call costs the caller while a dependency is down, through the service kit's dependency() as the
// BFF uses it (issue 12: "breaker opens and fails fast, under 1 ms per call while open"). Against a port on
// 127.0.0.1 where nothing listens: first with the breaker closed (each call a refused connection and its
// one retry), then once the breaker has opened (the call is refused before anything goes out). Each call
// timed alone with performance.now(), in process: this measures the guard, not a network.
import { createServer } from 'node:net';
import { dependency, type CallFailureKind, type DeadlineLike } from '@eta/service-kit';
import { fmtMs, printTable, runStandalone, type ScenarioOptions } from '../lib/index.ts';

const GOAL_OPEN_MS = 1;

class Failure extends Error {
  readonly dependency: string;
  readonly kind: CallFailureKind;
  constructor(dependency: string, kind: CallFailureKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.dependency = dependency;
    this.kind = kind;
  }
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function percentiles(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? NaN, n: s.length };
}

export interface BreakerOpenFigures {
  readonly closed: ReturnType<typeof percentiles>;
  readonly open: ReturnType<typeof percentiles>;
  readonly openKinds: Record<string, number>;
  readonly goalOpenMs: number;
  readonly withinGoal: boolean;
}

export async function run(opts: ScenarioOptions): Promise<BreakerOpenFigures> {
  const port = await closedPort();
  // The BFF's BREAKER_FAILURES default (services/vendor-bff/src/config.ts); its BREAKER_RESET_MS (1 s) would
  // let a probe through every second, so the reset here is long enough that every timed call meets an open
  // breaker: the figure is the open state's cost alone.
  const threshold = 20;
  const dep = dependency<CallFailureKind>({
    name: 'geo',
    http: { origin: `http://127.0.0.1:${port}`, timeoutMs: 100 },
    breaker: { failureThreshold: threshold, resetAfterMs: 600_000 },
    minBudgetMs: 2,
    retryConnect: true,
    failure: Failure,
  });
  const budget: DeadlineLike = { remainingMs: () => 250 };
  const attempt = async (deadline: DeadlineLike) => {
    const res = await dep.http.request({ method: 'GET', path: '/livez', deadline });
    return res.statusCode;
  };
  const timeOne = async (): Promise<{ ms: number; kind: string }> => {
    const t0 = performance.now();
    try {
      await dep.call('features', budget, attempt);
      return { ms: performance.now() - t0, kind: 'ok' };
    } catch (err) {
      return { ms: performance.now() - t0, kind: err instanceof Failure ? err.kind : 'other' };
    }
  };
  try {
    const closed: number[] = [];
    for (let i = 0; i < threshold; i++) closed.push((await timeOne()).ms);
    const n = opts.quick ? 2_000 : 200_000;
    const open: number[] = [];
    const openKinds: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const { ms, kind } = await timeOne();
      open.push(ms);
      openKinds[kind] = (openKinds[kind] ?? 0) + 1;
    }
    const figures = {
      closed: percentiles(closed),
      open: percentiles(open),
      openKinds,
      goalOpenMs: GOAL_OPEN_MS,
      withinGoal: percentiles(open).p99 < GOAL_OPEN_MS,
    };
    printTable([
      {
        breaker: 'closed (refused + retry)',
        calls: figures.closed.n,
        p50: fmtMs(figures.closed.p50),
        p99: fmtMs(figures.closed.p99),
        max: fmtMs(figures.closed.max),
        outcomes: 'connect',
      },
      {
        breaker: 'open',
        calls: figures.open.n,
        p50: fmtMs(figures.open.p50),
        p99: fmtMs(figures.open.p99),
        max: fmtMs(figures.open.max),
        outcomes: JSON.stringify(openKinds),
      },
    ]);
    console.log(
      `per call while open: p99 ${fmtMs(figures.open.p99)} (goal < ${GOAL_OPEN_MS} ms): ${figures.withinGoal ? 'met' : 'MISSED'}`,
    );
    return figures;
  } finally {
    await dep.close();
  }
}

if (import.meta.main) await runStandalone(run);
