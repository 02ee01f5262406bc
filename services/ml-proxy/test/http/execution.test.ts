import { execFile } from 'node:child_process';
import { readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createOnnxLoader, type SplitBackend } from '../../src/adapters/onnx.ts';
import { type MlProxyApp } from '../../src/app.ts';
import { budgetOf, type InferenceBackend } from '../../src/domain/model.ts';
import { type ModelLoader } from '../../src/domain/registry.ts';
import {
  fixture,
  type Fixture,
  inferBody,
  metricValue,
  testConfig,
  appsPerTest,
  until,
  REFERENCE_REPOSITORY,
} from '../helpers.ts';
import { signatureFromMetadata } from '../../src/domain/model.ts';

const execFileP = promisify(execFile);

// ORT_EXECUTION=auto (the default): two sessions per version, small batches inline, big ones in the worker.

const { served } = appsPerTest();

const backendOf = (app: MlProxyApp, model: string, version: string): InferenceBackend => {
  const v = app.mlProxy.registry.get(model)?.versions.get(version);
  if (!v) throw new Error(`${model}/${version} is not loaded`);
  return v.backend;
};

const isSplit = (b: InferenceBackend): b is SplitBackend => 'calls' in b && b.parts?.length === 2;

const infer = (app: MlProxyApp, fx: Fixture, rows: number, model = 'eta-precise') =>
  app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload: inferBody(fx, rows) });

/** The request's rows are golden rows repeated: every output must equal golden.json's, whichever session ran. */
function expectGolden(fx: Fixture, body: { outputs: { name: string; data: number[] }[] }, rows: number) {
  for (const out of body.outputs) {
    const expected = fx.expected[out.name]!;
    expect(out.data).toHaveLength(rows);
    out.data.forEach((v, r) =>
      expect(Math.abs(v - expected[r % expected.length]!)).toBeLessThanOrEqual(fx.tolerance + 1e-6),
    );
  }
}

const slow = { timeout: 60_000 };

describe('ORT_EXECUTION configuration', () => {
  it('defaults to auto with 16 rows inline; keeps thread and inline; refuses other values', () => {
    const cfg = testConfig();
    expect(cfg.ORT_EXECUTION).toBe('auto');
    expect(cfg.ORT_INLINE_MAX_ROWS).toBe(16);
    expect(testConfig({ ORT_EXECUTION: 'thread' }).ORT_EXECUTION).toBe('thread');
    expect(testConfig({ ORT_EXECUTION: 'inline', ORT_INLINE_MAX_ROWS: '0' })).toMatchObject({
      ORT_EXECUTION: 'inline',
      ORT_INLINE_MAX_ROWS: 0,
    });
    expect(() => testConfig({ ORT_EXECUTION: 'gpu' })).toThrow(/auto, thread or inline/);
    expect(() => testConfig({ ORT_INLINE_MAX_ROWS: '-1' })).toThrow(/at least 0/);
  });
});

describe('auto execution', slow, () => {
  it('runs batches of up to ORT_INLINE_MAX_ROWS rows on the inline session and bigger ones in the worker', async () => {
    const fx = await fixture('eta-precise');
    const { app } = await served({});
    const backend = backendOf(app, 'eta-precise', '1');
    if (!isSplit(backend)) throw new Error('auto should load a split backend');
    expect(backend.inlineMaxRows).toBe(16);
    // Warm-up and golden calls went to the sessions directly: only requests count.
    expect(backend.calls).toEqual({ inline: 0, thread: 0 });

    for (const [rows, calls] of [
      [1, { inline: 1, thread: 0 }],
      [16, { inline: 2, thread: 0 }],
      [17, { inline: 2, thread: 1 }],
      [1000, { inline: 2, thread: 2 }],
    ] as const) {
      const res = await infer(app, fx, rows);
      expect(res.statusCode).toBe(200);
      expect(res.json().model_version).toBe('1');
      expectGolden(fx, res.json(), rows);
      expect(backend.calls).toEqual(calls);
    }
    expect(await metricValue(app, 'ml_proxy_inference_rows_total', { model: 'eta-precise' })).toBe(1034);
  });

  it('follows ORT_INLINE_MAX_ROWS; thread and inline modes load one session as before', async () => {
    const fx = await fixture('eta-rough');
    const { app } = await served({ MODELS: 'eta-rough', ORT_INLINE_MAX_ROWS: '2' });
    const split = backendOf(app, 'eta-rough', '1');
    if (!isSplit(split)) throw new Error('auto should load a split backend');
    for (const rows of [1, 2, 3, 50]) {
      const res = await infer(app, fx, rows, 'eta-rough');
      expect(res.statusCode, res.body).toBe(200);
      expectGolden(fx, res.json(), rows);
    }
    expect(split.calls).toEqual({ inline: 2, thread: 2 });

    for (const mode of ['thread', 'inline']) {
      const { app: single } = await served({ MODELS: 'eta-rough', ORT_EXECUTION: mode });
      const backend = backendOf(single, 'eta-rough', '1');
      expect(isSplit(backend)).toBe(false);
      expect(backend.parts).toBeUndefined();
      for (const rows of [1, 50]) {
        const res = await infer(single, fx, rows, 'eta-rough');
        // The status and body first: `model_version` undefined alone hid that the answer was an error.
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().model_version).toBe('1');
        expectGolden(fx, res.json(), rows);
      }
    }
  });

  it('refuses a version when only its worker session gets the golden outputs wrong', async () => {
    const fx = await fixture('eta-rough');
    const onnx = createOnnxLoader({ intraOpThreads: 1, execution: 'auto' });
    // Version 2's worker session answers 5 minutes late on every output; its inline session is fine.
    // The golden batch is small (it would route inline), so only checking each session catches this.
    const loader: ModelLoader = {
      platform: onnx.platform,
      async load(args) {
        const backend = await onnx.load(args);
        if (args.version !== '2' || !isSplit(backend)) return backend;
        const [inline, thread] = backend.parts;
        const skewed: InferenceBackend = {
          ...thread,
          infer: async (...a) => {
            const out = await thread.infer(...a);
            return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v, (x) => x + 5)]));
          },
          close: () => thread.close(),
        };
        return { ...backend, parts: [inline, skewed] };
      },
    };
    const { repo, app } = await served({ MODELS: 'eta-rough' }, loader);
    await repo.publish('eta-rough', '2');
    await app.mlProxy.sync();

    expect(app.mlProxy.registry.get('eta-rough')!.versionIds).toEqual(['1']);
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-rough', outcome: 'failure' }),
    ).toBe(1);
    const res = await infer(app, fx, 1, 'eta-rough');
    expect(res.json()).toMatchObject({ model_version: '1' });
    expect(res.json().parameters).toBeUndefined();
  });

  it('hot-reloads the serving version under mixed traffic with zero failures; the old one closes both sessions after its calls', async () => {
    const fx = await fixture('eta-precise');
    // Records, per loaded backend, the calls in flight when the registry closed it.
    const closes = new Map<InferenceBackend, { inflight: number; done: Promise<void> }>();
    const onnx = createOnnxLoader({ intraOpThreads: 1 });
    const loader: ModelLoader = {
      platform: onnx.platform,
      async load(args) {
        const backend = await onnx.load(args);
        let inflight = 0;
        const wrapped: InferenceBackend = {
          ...backend,
          infer: async (...a) => {
            inflight++;
            try {
              return await backend.infer(...a);
            } finally {
              inflight--;
            }
          },
          close: () => {
            const done = backend.close();
            closes.set(wrapped, { inflight, done });
            return done;
          },
        };
        return wrapped;
      },
    };
    const { repo, app } = await served({ MODEL_POLL_INTERVAL_SECONDS: '0.1' }, loader);
    const first = backendOf(app, 'eta-precise', '1');
    if (!isSplit(first)) throw new Error('auto should load a split backend');

    let stop = false;
    const statuses: number[] = [];
    const seen: string[] = [];
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        // Small batches (inline) and big ones (worker) at once, so both sessions have calls in flight.
        const sizes = [1, 3, 16, 17, 200, 1, 2, 400];
        const batch = await Promise.all(sizes.map((rows) => infer(app, fx, rows)));
        for (const [j, res] of batch.entries()) {
          statuses.push(res.statusCode);
          const body = res.json();
          seen.push(body.model_version);
          if (res.statusCode === 200 && body.model_version !== 'heuristic') expectGolden(fx, body, sizes[j]!);
        }
      }
    })();
    await until(() => statuses.length > 40);
    // A changed version 1 (new mtime) replaces the one serving: the old one retires under traffic.
    const when = new Date(Date.now() + 5000);
    await utimes(join(repo.root, 'eta-precise', '1', 'model.onnx'), when, when);
    await until(() => backendOf(app, 'eta-precise', '1') !== first);
    await repo.publish('eta-precise', '2');
    await until(() => seen.includes('2'));
    const afterSwap = statuses.length;
    await until(() => statuses.length > afterSwap + 40);
    stop = true;
    await traffic;

    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(new Set(seen)).toEqual(new Set(['1', '2']));
    const second = backendOf(app, 'eta-precise', '1');
    const third = backendOf(app, 'eta-precise', '2');
    for (const b of [first, second, third]) {
      if (!isSplit(b)) throw new Error('auto should load a split backend');
    }
    // Every generation served both paths.
    expect(first.calls.inline).toBeGreaterThan(0);
    expect(first.calls.thread).toBeGreaterThan(0);
    expect((third as SplitBackend).calls.inline).toBeGreaterThan(0);
    expect((third as SplitBackend).calls.thread).toBeGreaterThan(0);
    // The replaced version was closed once idle, and both its sessions are gone: its worker session
    // refuses work, while the versions still loaded go on using the same worker thread.
    await until(() => closes.has(first));
    expect(closes.get(first)!.inflight).toBe(0);
    await closes.get(first)!.done;
    await expect(
      first.parts[1].infer(new Float32Array(fx.width), 1, ['p50'], budgetOf(1000)),
    ).rejects.toThrow(/session \d+ is closed/);
    const big = await infer(app, fx, 200);
    expect(big.statusCode).toBe(200);
    expect(big.json().model_version).toBe('2');
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-precise', outcome: 'success' }),
    ).toBe(3);
  });
});

describe('closing a version while its calls run', () => {
  const script = fileURLToPath(new URL('../fixtures/close-under-calls.ts', import.meta.url));
  // Its own process: before the fix, the thread execution's worker was ended under a running call, and
  // onnxruntime-node aborted the process ("terminate called after throwing an instance of 'Napi::Error'"),
  // which took a vitest worker down in CI; calls running at the close failed ("Session already disposed").
  it.each(['thread', 'inline', 'auto'] as const)(
    '%s: every call sent before the close is answered, and the process lives on',
    async (execution) => {
      const { stdout } = await execFileP(process.execPath, [script, execution], { timeout: 120_000 });
      expect(JSON.parse(stdout)).toEqual({ answered: 80, failures: {} });
    },
    150_000,
  );
});

describe('the worker thread of auto and thread execution', () => {
  /** Loads one reference version with `loader`, as the registry does. */
  async function loadVersion(loader: ModelLoader, model: string, version: string) {
    const dir = join(REFERENCE_REPOSITORY, model, version);
    const signature = signatureFromMetadata(JSON.parse(await readFile(join(dir, 'metadata.json'), 'utf8')));
    return loader.load({ model, version, modelPath: join(dir, 'model.onnx'), signature });
  }
  const threadPart = (b: InferenceBackend) => (isSplit(b) ? b.parts[1] : b);

  it('is one thread for every version: closing one leaves the others answering, and a load after the last close starts it again', async () => {
    const exits: number[] = [];
    const loader = createOnnxLoader({
      intraOpThreads: 1,
      execution: 'thread',
      onThreadExit: (code) => exits.push(code),
    });
    const precise = await fixture('eta-precise');
    const rough = await fixture('eta-rough');
    const input = (fx: Fixture, rows: number) =>
      Float32Array.from(
        { length: rows * fx.width },
        (_, i) => fx.rows[Math.floor(i / fx.width) % fx.rows.length]![i % fx.width] ?? Number.NaN,
      );
    const a = await loadVersion(loader, 'eta-precise', '1');
    const b = await loadVersion(loader, 'eta-rough', '1');
    expect(Object.keys(await threadPart(a).infer(input(precise, 50), 50, ['p50'], budgetOf(5000)))).toEqual([
      'p50',
    ]);
    expect(Object.keys(await threadPart(b).infer(input(rough, 50), 50, ['p50'], budgetOf(5000)))).toEqual([
      'p50',
    ]);
    await a.close();
    await expect(threadPart(a).infer(input(precise, 1), 1, ['p50'], budgetOf(5000))).rejects.toThrow(
      /is closed/,
    );
    // The other version's session is on the same thread, which must still be there.
    expect((await threadPart(b).infer(input(rough, 20), 20, ['p50'], budgetOf(5000)))['p50']).toHaveLength(
      20,
    );
    expect(exits).toEqual([]);
    await b.close();
    // No session left, so the thread was ended (nothing keeps an idle process alive); a new load works.
    await expect(threadPart(b).infer(input(rough, 1), 1, ['p50'], budgetOf(5000))).rejects.toThrow();
    // It ended by itself (exit code 0), not by Worker.terminate (1), which can stop it inside the native
    // addon and abort the process.
    expect(exits).toEqual([0]);
    const c = await loadVersion(loader, 'eta-precise', '2');
    expect((await threadPart(c).infer(input(precise, 30), 30, ['p50'], budgetOf(5000)))['p50']).toHaveLength(
      30,
    );
    await c.close();
    expect(exits).toEqual([0, 0]);
  });
});
