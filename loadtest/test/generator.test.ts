import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatSummary, freePort, nativeBinary, runLoad, type MixEntry } from '../lib/index.ts';
import { json, startServer, type TestServer } from './helpers.ts';

// Behaviour only, with generous bounds: these runs share a small machine with other work, so no
// assertion says how fast anything is. Where every request must succeed, timeoutMs (2 s by default,
// counted from each request's scheduled time, so generator lag counts too) is far above any answer.
const NEVER = 30_000;

// The go engine is built with the machine's Go on first use; with a cold Go build cache that compiles
// net/http from source (about 40 s on 2 cores), so it happens once here rather than inside a test.
beforeAll(async () => {
  await nativeBinary();
}, 180_000);

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const get = (name: string, path: string, weight = 1): MixEntry => ({ name, weight, build: () => ({ path }) });

// Both engines run every behaviour test: the native one (loadtest/loadgen, built with the machine's Go)
// and the in-process one.
describe.each(['go', 'node'] as const)('runLoad (%s engine)', (engine) => {
  it('sends the scheduled number of requests, warm-up included but left out of the figures', async () => {
    server = await startServer((_req, res, path) => path === '/ok' && json(res, 200, { ok: true }));
    const r = await runLoad({
      engine,
      origin: server.origin,
      mix: [get('a', '/ok', 3), get('b', '/ok', 1)],
      rate: 100,
      durationMs: 1000,
      warmupMs: 300,
      timeoutMs: NEVER,
    });

    expect(r.scheduled).toBe(100);
    expect(r.sent).toBe(100);
    expect(r.ok).toBe(100);
    expect(r.errors).toBe(0);
    expect(r.latencyMs.count).toBe(100);
    // 30 warm-up requests reached the server but are in no figure.
    expect(server.hits.get('/ok')).toBe(130);
    expect(r.achievedRate).toBeGreaterThan(50);
    expect(r.achievedRate).toBeLessThanOrEqual(100);
    const [a, b] = r.perEntry;
    expect(a!.n + b!.n).toBe(100);
    expect(a!.n).toBeGreaterThan(b!.n);
  });

  it('passes fresh data from each build call and the same data for the same seed', async () => {
    const seen: string[] = [];
    server = await startServer((req, res) => {
      seen.push(req.url ?? '');
      return json(res, 200, {});
    });
    const mix: MixEntry[] = [
      {
        name: 'eta',
        weight: 1,
        build: ({ i, random }) => ({ path: `/eta?i=${i}&lat=${random().toFixed(6)}` }),
      },
    ];
    await runLoad({ engine, origin: server.origin, mix, rate: 100, durationMs: 200, seed: 7 });
    const first = [...seen].sort();
    seen.length = 0;
    await runLoad({ engine, origin: server.origin, mix, rate: 100, durationMs: 200, seed: 7 });

    expect(new Set(first).size).toBe(20);
    expect([...seen].sort()).toEqual(first);
  });

  it('shows a 300 ms server stall in the high percentiles, counted from each scheduled time', async () => {
    // Every request that arrives between 400 and 700 ms into the run is held until 700 ms.
    let firstAt = 0;
    server = await startServer((_req, res) => {
      const now = performance.now();
      if (firstAt === 0) firstAt = now;
      const t = now - firstAt;
      if (t >= 400 && t < 700) setTimeout(() => json(res, 200, {}), 700 - t);
      else json(res, 200, {});
      return true;
    });
    const r = await runLoad({
      engine,
      origin: server.origin,
      mix: [get('x', '/x')],
      rate: 200,
      durationMs: 1200,
      timeoutMs: NEVER,
    });

    expect(r.ok).toBe(240);
    // About 60 of 240 requests waited 0-300 ms each: the top 5% all sit inside the stall.
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(250);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(200);
    expect(r.latencyMs.p95).toBeGreaterThanOrEqual(100);
    // The median request was not held: below what the stall alone adds (a busy machine adds to every
    // request, so the bound is the stall's, not a quiet machine's ~1 ms).
    expect(r.latencyMs.p50).toBeLessThan(200);
  });

  it('classifies errors by kind and accounts for every scheduled request', async () => {
    server = await startServer((_req, res, path) => {
      if (path === '/ok') return json(res, 200, { ok: true });
      if (path === '/shed') return json(res, 503, { code: 'overloaded' });
      if (path === '/bad-body') return json(res, 200, { ok: false });
      // '/hang' never answers.
      return path === '/hang';
    });
    const r = await runLoad({
      engine,
      origin: server.origin,
      mix: [get('ok', '/ok', 2), get('shed', '/shed'), get('hang', '/hang'), get('bad', '/bad-body')],
      rate: 100,
      durationMs: 800,
      // Long enough that only the route that never answers can time out, even on a busy machine.
      timeoutMs: 2_000,
      check: (res) => (JSON.parse(res.body) as { ok?: boolean }).ok === true,
    });

    expect(r.scheduled).toBe(80);
    expect(r.ok).toBeGreaterThan(0);
    expect(r.errorsByKind.http_503).toBeGreaterThan(0);
    expect(r.errorsByKind.timeout).toBeGreaterThan(0);
    expect(r.errorsByKind.body_check).toBeGreaterThan(0);
    const counted = Object.values(r.errorsByKind).reduce<number>((s, n) => s + (n ?? 0), 0);
    expect(r.ok + counted).toBe(r.scheduled);
    expect(r.errors).toBe(counted);
    // Each kind comes from exactly its route.
    const entry = (name: string) => r.perEntry.find((e) => e.name === name)!;
    expect(entry('ok').errors).toBe(0);
    expect(entry('shed').errors).toBe(r.errorsByKind.http_503);
    expect(entry('hang').errors).toBe(r.errorsByKind.timeout);
    expect(entry('bad').errors).toBe(r.errorsByKind.body_check);
    expect(r.errorSamples.http_503).toContain('HTTP 503');
    expect(r.errorSamples.body_check).toContain('"ok":false');
    // Only successes are in the latency histogram.
    expect(r.latencyMs.count).toBe(r.ok);
    // About 2.8 s of timers (0.8 s of sending, then the 2 s timeout of the last hanging request): more than
    // half of vitest's default 5 s, which a busy machine must not be left to decide.
  }, 30_000);

  it('reports connect errors when nothing listens', async () => {
    const port = await freePort();
    const r = await runLoad({
      engine,
      origin: `http://127.0.0.1:${port}`,
      mix: [get('x', '/x')],
      rate: 50,
      durationMs: 200,
    });

    expect(r.scheduled).toBe(10);
    expect(r.ok).toBe(0);
    expect(r.errorsByKind).toEqual({ connect: 10 });
  });

  it('counts requests beyond the in-flight cap as dropped instead of skipping them', async () => {
    server = await startServer((_req, _res, path) => path === '/hang');
    const r = await runLoad({
      engine,
      origin: server.origin,
      mix: [get('hang', '/hang')],
      rate: 100,
      durationMs: 600,
      timeoutMs: 300,
      maxInFlight: 5,
    });

    expect(r.scheduled).toBe(60);
    const dropped = r.errorsByKind.dropped_inflight_cap ?? 0;
    const timedOut = r.errorsByKind.timeout ?? 0;
    expect(dropped).toBeGreaterThan(0);
    expect(timedOut).toBeGreaterThanOrEqual(5);
    expect(dropped + timedOut).toBe(60);
    expect(r.sent).toBe(timedOut);
    expect(r.peakInFlight).toBeLessThanOrEqual(5);
    expect(r.warnings.some((w) => w.includes('dropped_inflight_cap'))).toBe(true);
  });

  it('returns a JSON-ready object with every figure and a one-line summary', async () => {
    server = await startServer((_req, res) => json(res, 200, {}));
    const r = await runLoad({
      engine,
      origin: server.origin,
      mix: [get('x', '/x')],
      rate: 50,
      durationMs: 200,
      timeoutMs: NEVER,
      label: 'shape',
    });
    const copy = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;

    expect(Object.keys(copy).sort()).toEqual(
      [
        'achievedRate',
        'completed',
        'connections',
        'durationMs',
        'engine',
        'errorSamples',
        'errors',
        'errorsByKind',
        'generatorBusy',
        'label',
        'latencyMs',
        'maxInFlight',
        'offeredRate',
        'ok',
        'origin',
        'peakInFlight',
        'perEntry',
        'scheduled',
        'schedulingLagMs',
        'sent',
        'serviceLatencyMs',
        'startedAt',
        'timeoutMs',
        'warmupMs',
        'warnings',
      ].sort(),
    );
    expect(Object.keys(r.latencyMs).sort()).toEqual(
      ['count', 'max', 'mean', 'min', 'p50', 'p90', 'p95', 'p99', 'p999'].sort(),
    );
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.max);
    // Timed from the send, never from before the schedule: each request's send-to-done is at most its
    // schedule-to-done, so the service figure can never exceed the headline one.
    expect(r.serviceLatencyMs.count).toBe(r.latencyMs.count);
    expect(r.serviceLatencyMs.max).toBeLessThanOrEqual(r.latencyMs.max);
    expect(formatSummary(r)).toMatch(
      /^\[shape\] rate=50\/s achieved=\d+\/s n=10 p50=[\d.]+ms p95=[\d.]+ms p99=[\d.]+ms p99\.9=[\d.]+ms max=[\d.]+ms errors=0 lag_p99=[\d.]+ms sent_to_done_p99=[\d.]+ms$/,
    );
  });

  it('rejects options that cannot describe a run', async () => {
    const mix = [get('x', '/x')];
    await expect(
      runLoad({ engine, origin: 'http://127.0.0.1:1', mix, rate: 0, durationMs: 100 }),
    ).rejects.toThrow(/rate/);
    await expect(
      runLoad({ engine, origin: 'https://127.0.0.1:1', mix, rate: 1, durationMs: 100 }),
    ).rejects.toThrow(/http/);
    await expect(
      runLoad({ engine, origin: 'http://127.0.0.1:1', mix: [], rate: 1, durationMs: 100 }),
    ).rejects.toThrow(/empty/);
  });
});

// Only the in-process engine shares this process: blocking it stalls generator and server alike.
describe('runLoad (node engine)', () => {
  it('does not hide a stall of the generator itself: latency and scheduling lag both show it', async () => {
    server = await startServer((_req, res) => json(res, 200, {}));
    // Block this process (generator and server alike) for 300 ms in the middle of the run. A tool
    // that timed requests from when it actually sent them would report only fast responses.
    setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until);
    }, 400);
    const r = await runLoad({
      engine: 'node',
      origin: server.origin,
      mix: [get('x', '/x')],
      rate: 200,
      durationMs: 1200,
      timeoutMs: NEVER,
    });

    expect(r.sent).toBe(r.scheduled);
    expect(r.ok).toBe(240);
    expect(r.schedulingLagMs.max).toBeGreaterThanOrEqual(250);
    expect(r.latencyMs.max).toBeGreaterThanOrEqual(250);
    expect(r.latencyMs.p99).toBeGreaterThanOrEqual(200);
    expect(r.warnings.some((w) => w.startsWith('generator fell behind'))).toBe(true);
  });
});

describe.each(['go', 'node'] as const)(
  'regression: at low rates a response after the deadline counted as a success (%s engine)',
  (engine) => {
    it('counts a response later than timeoutMs as a timeout even when no sweep ran in between', async () => {
      // At 2 req/s the generator wakes every 500 ms; the response comes 250 ms after a 100 ms deadline.
      server = await startServer((_req, res) => {
        setTimeout(() => json(res, 200, {}), 350);
        return true;
      });
      const r = await runLoad({
        engine,
        origin: server.origin,
        mix: [get('slow', '/slow')],
        rate: 2,
        durationMs: 1000,
        timeoutMs: 100,
      });

      expect(r.scheduled).toBe(2);
      expect(r.ok).toBe(0);
      expect(r.errorsByKind).toEqual({ timeout: 2 });
    });
  },
);

describe('runLoad (go engine): spread and onRecord', () => {
  it('with spread, opens every connection first and sends over all of them, as that many callers', async () => {
    const sockets = new Set<string>();
    server = await startServer((req, res, path) => {
      sockets.add(`${req.socket.remotePort}`);
      return path === '/ok' && json(res, 200, { ok: true });
    });
    const records: number[] = [];
    const r = await runLoad({
      engine: 'go',
      origin: server.origin,
      mix: [get('a', '/ok')],
      rate: 200,
      durationMs: 1000,
      timeoutMs: NEVER,
      connections: 40,
      spread: true,
      onRecord: (rec) => records.push(rec.status),
    });
    expect(r.ok).toBe(200);
    // Each idle connection is reused only after every other one has served: 200 requests over 40.
    expect(sockets.size).toBe(40);
    expect(records).toHaveLength(200);
    expect(records.every((s) => s === 200)).toBe(true);
  });

  it('refuses spread and onRecord with the node engine', async () => {
    await expect(
      runLoad({
        engine: 'node',
        origin: 'http://127.0.0.1:9',
        mix: [get('a', '/')],
        rate: 1,
        durationMs: 1,
        spread: true,
      }),
    ).rejects.toThrow(/go engine/);
  });
});
