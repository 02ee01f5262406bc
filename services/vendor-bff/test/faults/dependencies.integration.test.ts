// Issue 12, "automated tries": network faults on the BFF's calls to Geo and the ML proxy, injected by a real
// Toxiproxy between the real processes (stand.ts). Each scenario states its pass criteria; durations are
// printed as figures, never asserted (speed is the benchmarks' business, faults.bench.ts for this one).
//
// The protections under test run at their shipped defaults (GEO_TIMEOUT_MS 50, ML_TIMEOUT_MS 80,
// ESTIMATE_BUDGET_MS 250, BREAKER_FAILURES 20, BREAKER_RESET_MS 1000, one retry after a connection
// failure). Set one in the environment of the run to see a scenario fail without it, e.g.
// `BREAKER_FAILURES=1000` (a breaker that never opens): the breaker and the retry scenarios then fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToxicSpec } from '@eta/testing/toxiproxy';
import {
  MANUAL_STORES,
  RECOVERY_MS,
  spread,
  startStand,
  waitFor,
  type Answer,
  type Hop,
  type PreciseBody,
  type Stand,
} from './stand.ts';

let stand: Stand;

beforeAll(async () => {
  stand = await startStand({ tag: 'faults_deps' });
}, 240_000);

afterAll(async () => {
  await stand?.stop();
});

/** Auto-prediction stores (the model path), in turn. */
let next = 0;
const autoStore = (): number => MANUAL_STORES + 1 + (next++ % 150);

/** The breakers a hop's failure opens. */
const BREAKERS: Record<'geo' | 'ml', readonly string[]> = {
  geo: ['geo'],
  ml: ['ml-proxy/eta-precise', 'ml-proxy/eta-rough'],
};
/** The `dependency` label of the hop's calls. */
const DEPENDENCY: Record<'geo' | 'ml', string> = { geo: 'geo', ml: 'ml-proxy' };
/** Where the answer comes from while the hop is failing (the ladder's rung). */
const FALLBACK_SOURCES: Record<'geo' | 'ml', readonly string[]> = {
  // Geo's features are computed in the BFF: the model still answers, marked degraded.
  geo: ['model', 'rough', 'manual'],
  // eta-precise, then eta-rough fail: the owner's manual times.
  ml: ['rough', 'manual'],
};

function expectFallback(hop: 'geo' | 'ml', answers: readonly Answer[]): void {
  for (const a of answers) {
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const body = a.body as PreciseBody;
    expect(body.degraded).toBe(true);
    expect(FALLBACK_SOURCES[hop]).toContain(body.source);
  }
}

const sources = (answers: readonly Answer[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const s = (a.body as PreciseBody | undefined)?.source ?? `http_${a.status}`;
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
};

async function sequential(n: number, timeoutMs?: number): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await stand.precise(autoStore(), timeoutMs === undefined ? {} : { timeoutMs }));
  }
  return out;
}

async function concurrent(n: number, timeoutMs: number): Promise<Answer[]> {
  return Promise.all(Array.from({ length: n }, () => stand.precise(autoStore(), { timeoutMs })));
}

async function openBreakers(hop: 'geo' | 'ml'): Promise<number> {
  let sent = 0;
  await waitFor(
    `${hop} breakers open`,
    async () => {
      const a = await stand.precise(autoStore());
      sent += 1;
      expect(a.status).toBe(200);
      const m = await stand.metrics();
      return BREAKERS[hop].every((b) => m.breaker(b) === 2);
    },
    30_000,
  );
  return sent;
}

const figures: Record<string, unknown> = {};

afterAll(() => {
  // The measured figures, for the report (not asserted).
  console.log(`faults/dependencies figures: ${JSON.stringify(figures, null, 1)}`);
});

describe('latency above the deadline on a hop', () => {
  for (const hop of ['geo', 'ml'] as const) {
    it(`${hop}: a 2 s latency answers from the fallback within each request's own 1 s deadline, no error`, async () => {
      await stand.heal();
      await stand.hops[hop].addToxic({ type: 'latency', attributes: { latency: 2_000 } });
      try {
        // A 1-s deadline from the caller: waiting for the hop would be a 504.
        const answers = [...(await sequential(30, 1_000)), ...(await concurrent(30, 1_000))];
        expectFallback(hop, answers);
        figures[`latency-${hop}`] = { sources: sources(answers), ms: spread(answers.map((a) => a.ms)) };
      } finally {
        await stand.heal();
      }
    });
  }
});

describe('a hop that resets or is down: the breaker opens, fails fast, and recovers by itself', () => {
  const faults: Record<string, (hop: Hop) => Promise<unknown>> = {
    reset_peer: (hop) => stand.hops[hop].addToxic({ type: 'reset_peer', attributes: { timeout: 0 } }),
    down: (hop) => stand.hops[hop].disable(),
  };
  for (const hop of ['geo', 'ml'] as const) {
    for (const [fault, apply] of Object.entries(faults)) {
      it(`${hop} ${fault}`, async () => {
        await stand.heal();
        const dependency = DEPENDENCY[hop];
        await apply(hop);
        const toOpen = await openBreakers(hop);

        // While open: N estimates, each answered from the fallback, none reaching the hop.
        const N = 100;
        const before = await stand.metrics();
        const connections = stand.hops[hop].connections();
        const answers = await sequential(N);
        const after = await stand.metrics();
        const newConnections = stand.hops[hop].connections() - connections;
        expectFallback(hop, answers);
        for (const b of BREAKERS[hop]) expect(after.breaker(b)).toBe(2);
        const attempts = (m: typeof before) => m.sum('bff_dependency_duration_seconds_count', { dependency });
        const refused = (m: typeof before) =>
          m.sum('bff_dependency_failures_total', { dependency, kind: 'breaker-open' });
        // No call went out: every one was refused by the open breaker.
        expect(attempts(after) - attempts(before)).toBe(0);
        expect(refused(after) - refused(before)).toBeGreaterThanOrEqual(N);
        // At the proxy: a reset connection is never reused, so a call that went out would be a connection
        // of its own (N of them); the few seen are the breaker's background probes.
        expect(newConnections).toBeLessThan(N / 10);

        // The hop is back: nothing is sent, the background probe must find it.
        await stand.tp.reset();
        const recoveredMs = await waitFor(
          `${hop} breakers closed`,
          async () => {
            const m = await stand.metrics();
            return BREAKERS[hop].every((b) => m.breaker(b) === 0);
          },
          RECOVERY_MS,
        );
        // And the next estimates use the hop again (waited for: a busy machine may time a call out).
        await waitFor(
          'an estimate that is not degraded',
          async () => ((await stand.precise(autoStore())).body as PreciseBody).degraded === false,
          RECOVERY_MS,
        );
        figures[`${fault}-${hop}`] = {
          requestsUntilOpen: toOpen,
          whileOpen: { sources: sources(answers), ms: spread(answers.map((a) => a.ms)) },
          connectionsAtProxyWhileOpen: newConnections,
          recoveredAfterMs: Math.round(recoveredMs),
        };
      });
    }
  }
});

describe('a black hole on a hop (toxic timeout: no data, the connection left open)', () => {
  for (const hop of ['geo', 'ml'] as const) {
    it(`${hop}: every request is answered from the fallback within its 1 s deadline`, async () => {
      await stand.heal();
      await stand.hops[hop].addToxic({ type: 'timeout', attributes: { timeout: 0 } });
      try {
        const answers = [...(await concurrent(30, 1_000)), ...(await sequential(30, 1_000))];
        expectFallback(hop, answers);
        figures[`timeout-${hop}`] = { sources: sources(answers), ms: spread(answers.map((a) => a.ms)) };
      } finally {
        await stand.heal();
      }
    });
  }
});

describe('a thin pipe and a slow close on every hop at once: nothing hangs', () => {
  const toxics: Record<string, ToxicSpec> = {
    bandwidth: { type: 'bandwidth', attributes: { rate: 1 } },
    slow_close: { type: 'slow_close', attributes: { delay: 3_000 } },
  };
  for (const [name, toxic] of Object.entries(toxics)) {
    it(`${name}: every estimate and every admin read is answered`, async () => {
      await stand.heal();
      const token = await stand.ownerToken([MANUAL_STORES + 1]);
      for (const hop of ['geo', 'ml', 'redis', 'postgres'] as const) {
        await stand.hops[hop].addToxic(toxic);
        await stand.hops[hop].addToxic({ ...toxic, stream: 'upstream' });
      }
      try {
        const settings = async (): Promise<Answer> => {
          const t0 = performance.now();
          const res = await fetch(`${stand.bff.origin}/v1/stores/${MANUAL_STORES + 1}/settings`, {
            headers: { authorization: `Bearer ${token}` },
            signal: AbortSignal.timeout(30_000),
          });
          return { status: res.status, body: await res.json(), ms: performance.now() - t0 };
        };
        const [precise, rough, admin] = await Promise.all([
          concurrent(40, 1_000),
          Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              stand.rough([MANUAL_STORES + 1 + i, MANUAL_STORES + 20 + i], { timeoutMs: 1_000 }),
            ),
          ),
          Promise.all(Array.from({ length: 5 }, () => settings())),
        ]);
        // Estimates: answered, never an error (the ladder). Admin reads: answered, the settings or a clean
        // 503 from a database that did not answer in time, never a hang or a 500.
        for (const a of [...precise, ...rough]) expect(a.status, JSON.stringify(a.body)).toBe(200);
        for (const a of admin) expect([200, 503]).toContain(a.status);
        figures[name] = {
          precise: { sources: sources(precise), ms: spread(precise.map((a) => a.ms)) },
          rough: spread(rough.map((a) => a.ms)),
          admin: { statuses: admin.map((a) => a.status), ms: spread(admin.map((a) => a.ms)) },
        };
      } finally {
        await stand.heal();
      }
    });
  }
});

describe('retries', () => {
  it('never exceed 10 % of the calls to Geo and the ML proxy, through resets, outages, latency and black holes', async () => {
    await stand.heal();
    const deps = ['geo', 'ml-proxy'];
    const read = async () => {
      const m = await stand.metrics();
      let observed = 0;
      let calls = 0;
      let connect = 0;
      for (const dependency of deps) {
        // Every attempt and every refusal is observed once: ok in the histogram, anything else counted.
        observed += m.sum('bff_dependency_duration_seconds_count', { dependency, outcome: 'ok' });
        observed += m.sum('bff_dependency_failures_total', { dependency });
        connect += m.sum('bff_dependency_failures_total', { dependency, kind: 'connect' });
        // Precise estimates call Geo and the models only through the coalescers: one batch, one call.
        calls += m.sum('bff_coalesced_requests_count', { dependency });
      }
      return { observed, calls, connect };
    };
    const before = await read();

    // An open-loop trickle of precise estimates (one every 10 ms), through each fault in turn.
    const answers: Promise<Answer>[] = [];
    const load = async (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        answers.push(stand.precise(autoStore(), { timeoutMs: 1_000 }));
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const phases: [Hop, (hop: Hop) => Promise<unknown>][] = [
      ['geo', (h) => stand.hops[h].addToxic({ type: 'reset_peer', attributes: { timeout: 0 } })],
      ['ml', (h) => stand.hops[h].addToxic({ type: 'reset_peer', attributes: { timeout: 0 } })],
      ['geo', (h) => stand.hops[h].disable()],
      ['ml', (h) => stand.hops[h].disable()],
      ['geo', (h) => stand.hops[h].addToxic({ type: 'latency', attributes: { latency: 300 } })],
      ['ml', (h) => stand.hops[h].addToxic({ type: 'timeout', attributes: { timeout: 0 } })],
    ];
    for (const [hop, apply] of phases) {
      await load(1_000);
      await apply(hop);
      await load(4_000);
      await stand.tp.reset();
      await load(1_000);
      await stand.heal();
    }
    const done = await Promise.all(answers);
    for (const a of done) expect(a.status, JSON.stringify(a.body)).toBe(200);
    const after = await read();

    const calls = after.calls - before.calls;
    const retries = after.observed - before.observed - calls;
    const connect = after.connect - before.connect;
    figures.retries = {
      estimates: done.length,
      calls,
      retries,
      connectFailures: connect,
      share: retries / calls,
    };
    // The faults did cause retries (the count sees them), each after a connection failure...
    expect(retries).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(connect);
    // ...and the breakers kept them to a small share of the calls.
    expect(retries / calls).toBeLessThanOrEqual(0.1);
  }, 240_000);
});
