import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOnnxLoader } from '../../src/adapters/onnx.ts';
import { type MlProxyApp } from '../../src/app.ts';
import { type InferenceBackend } from '../../src/domain/model.ts';
import { type ModelLoader } from '../../src/domain/registry.ts';
import { appsPerTest, fixture, inferBody, metricValue, startApp, until, wrongGolden } from '../helpers.ts';

const onnx = createOnnxLoader({ intraOpThreads: 1 });

/** Our own loader port with a hook to change what a version's backend does after it passed its checks. */
function hookedLoader(hook: (version: string, backend: InferenceBackend) => InferenceBackend): ModelLoader {
  return { platform: onnx.platform, load: async (args) => hook(args.version, await onnx.load(args)) };
}

const { served, track } = appsPerTest();

/**
 * A loader whose backend, once `hold` is set, answers no call until the test calls `release()`: a deadline
 * test then never depends on how late "a bit late" is on a busy machine. Released calls run as usual, so
 * the version's in-flight count drops to 0 and closing the app does not wait on them.
 */
function heldBackend() {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => (open = resolve));
  const held = {
    hold: false,
    release: () => open(),
    loader: hookedLoader((_v, backend) => ({
      ...backend,
      infer: async (...args) => {
        if (held.hold) await gate;
        return backend.infer(...args);
      },
    })),
  };
  return held;
}

const versionsOf = async (app: MlProxyApp, model: string): Promise<string[]> =>
  (await app.inject(`/v2/models/${model}`)).json().versions;

// Each test loads real models (about a second each on a shared 2-core machine): generous timeouts.
const slow = { timeout: 60_000 };

describe('hot reload', slow, () => {
  it('picks up a new version while requests flow, with zero failed requests', async () => {
    const fx = await fixture('eta-precise');
    const { repo, app } = await served({ MODEL_POLL_INTERVAL_SECONDS: '0.1' });
    let stop = false;
    const statuses: number[] = [];
    const versions = new Set<string>();
    const traffic = (async () => {
      while (!stop) {
        const batch = await Promise.all(
          Array.from({ length: 8 }, () =>
            app.inject({ method: 'POST', url: '/v2/models/eta-precise/infer', payload: inferBody(fx, 3) }),
          ),
        );
        for (const res of batch) {
          statuses.push(res.statusCode);
          versions.add(res.json().model_version);
        }
      }
    })();
    await until(async () => statuses.length > 50);
    await repo.publish('eta-precise', '2');
    await until(async () => versions.has('2'));
    const afterSwap = statuses.length;
    await until(async () => statuses.length > afterSwap + 50);
    stop = true;
    await traffic;

    expect(statuses.every((s) => s === 200)).toBe(true);
    expect([...versions].sort()).toEqual(['1', '2']);
    expect(await versionsOf(app, 'eta-precise')).toEqual(['1', '2']);
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-precise', outcome: 'success' }),
    ).toBe(2);
    // The old version stays addressable by pin.
    const pinned = await app.inject({
      method: 'POST',
      url: '/v2/models/eta-precise/versions/1/infer',
      payload: inferBody(fx, 1),
    });
    expect(pinned.json().model_version).toBe('1');
  });

  it('refuses a corrupt model file and a version with wrong golden outputs; the old one keeps serving', async () => {
    const fx = await fixture('eta-rough');
    const { repo, app } = await served({});
    await repo.publish('eta-rough', '2', async (dir) => {
      const bytes = await readFile(join(dir, 'model.onnx'));
      await writeFile(join(dir, 'model.onnx'), bytes.subarray(0, bytes.length >> 1));
    });
    await repo.publish('eta-rough', '3', wrongGolden);
    await app.mlProxy.sync();

    expect(await versionsOf(app, 'eta-rough')).toEqual(['1']);
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-rough', outcome: 'failure' }),
    ).toBe(2);
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/eta-rough/infer',
      payload: inferBody(fx, 1),
    });
    expect(res.json()).toMatchObject({ model_version: '1' });
    expect(res.json().parameters).toBeUndefined();
    const refused = await app.inject('/v2/models/eta-rough/versions/2');
    expect(refused.statusCode).toBe(503);
    expect(refused.json().error).toMatch(/failed to load/);
    expect((await app.inject('/v2/health/ready')).statusCode).toBe(200);

    // A refused version is not retried every poll, only when its files change.
    await app.mlProxy.sync();
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-rough', outcome: 'failure' }),
    ).toBe(2);
  });
});

describe('heuristic fallback', slow, () => {
  it('answers, marked, when the backend fails', async () => {
    const fx = await fixture('eta-precise');
    const failing = hookedLoader((_v, backend) => ({
      ...backend,
      infer: async (...args) => {
        if (failNow) throw new Error('runtime exploded');
        return backend.infer(...args);
      },
    }));
    let failNow = false;
    const { app } = await served({}, failing);
    failNow = true;
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/eta-precise/infer',
      payload: inferBody(fx, 2),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      model_version: 'heuristic',
      parameters: { fallback: true, reason: 'backend_error' },
      outputs: [{ name: 'p10' }, { name: 'p50' }, { name: 'p90' }],
    });
    const [p10, p50, p90] = res.json().outputs.map((o: { data: number[] }) => o.data[0]);
    expect(p10).toBeLessThan(p50);
    expect(p50).toBeLessThan(p90);
    expect(
      await metricValue(app, 'ml_proxy_fallbacks_total', { model: 'eta-precise', reason: 'backend_error' }),
    ).toBe(1);
  });

  it('answers when the backend misses the per-model deadline', async () => {
    const fx = await fixture('eta-precise');
    const late = heldBackend();
    const { app } = await served(
      { MODEL_SETTINGS: JSON.stringify({ 'eta-precise': { deadlineMs: 20 } }) },
      late.loader,
    );
    late.hold = true;
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/eta-precise/infer',
        payload: inferBody(fx, 1),
      });
      expect(res.json()).toMatchObject({
        model_version: 'heuristic',
        parameters: { fallback: true, reason: 'deadline' },
      });
      expect(await metricValue(app, 'ml_proxy_fallbacks_total', { reason: 'deadline' })).toBe(1);
    } finally {
      late.release();
    }
  });

  it('answers 504 instead when fallback is off for the model', async () => {
    const fx = await fixture('eta-precise');
    const late = heldBackend();
    const { app } = await served(
      { MODEL_SETTINGS: JSON.stringify({ 'eta-precise': { deadlineMs: 20, fallback: false } }) },
      late.loader,
    );
    late.hold = true;
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/eta-precise/infer',
        payload: inferBody(fx, 1),
      });
      expect(res.statusCode).toBe(504);
      expect(res.json()).toEqual({ error: expect.stringMatching(/deadline/), code: 'DEADLINE_EXCEEDED' });
    } finally {
      late.release();
    }
  });

  it('serves a model with no trained version from the heuristic (cold start), reading its configured columns', async () => {
    const app = await startApp({
      MODELS: 'eta-rough,eta-new',
      MODEL_SETTINGS: JSON.stringify({ 'eta-new': { features: ['hour_of_day', 'distance_km'] } }),
    });
    track(() => app.close());
    expect((await app.inject('/v2/health/ready')).statusCode).toBe(200);
    const meta = (await app.inject('/v2/models/eta-new')).json();
    expect(meta).toMatchObject({
      versions: ['heuristic'],
      platform: 'heuristic',
      inputs: [{ shape: [-1, 2] }],
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/eta-new/infer',
      payload: { inputs: [{ name: 'features', shape: [1, 2], datatype: 'FP32', data: [15, 6] }] },
    });
    expect(res.json()).toMatchObject({
      model_version: 'heuristic',
      parameters: { fallback: true, reason: 'no_trained_model' },
    });
    // 6 km off-peak: 12 + 60 * 6 / 18 = 32 minutes.
    expect(res.json().outputs[1]).toMatchObject({ name: 'p50', data: [32] });
  });
});

describe('canary and shadow', slow, () => {
  it('sends the configured share to the candidate, sticky by header', async () => {
    const fx = await fixture('eta-precise');
    const { repo, app } = await served({
      MODEL_SETTINGS: JSON.stringify({
        'eta-precise': { canary: { version: '2', percent: 30, stickyBy: 'header:x-store-id' } },
      }),
    });
    await repo.publish('eta-precise', '2');
    await app.mlProxy.sync();
    const versionFor = async (store: string) =>
      (
        await app.inject({
          method: 'POST',
          url: '/v2/models/eta-precise/infer',
          headers: { 'x-store-id': store },
          payload: inferBody(fx, 1),
        })
      ).json().model_version as string;

    const first = new Map<string, string>();
    for (let i = 0; i < 200; i++) first.set(`store-${i}`, await versionFor(`store-${i}`));
    for (let i = 0; i < 200; i += 7) expect(await versionFor(`store-${i}`)).toBe(first.get(`store-${i}`));
    const canaried = [...first.values()].filter((v) => v === '2').length;
    expect(canaried).toBeGreaterThan(30);
    expect(canaried).toBeLessThan(90);
    expect(new Set(first.values())).toEqual(new Set(['1', '2']));
  });

  it('mirrors to the shadow version after answering and counts differences, never changing the answer', async () => {
    const fx = await fixture('eta-precise');
    // Version 2 passes its golden check, then starts answering 3 minutes later on p50: the drift a
    // shadow exists to catch.
    let drift = false;
    const loader = hookedLoader((version, backend) =>
      version !== '2'
        ? backend
        : {
            ...backend,
            infer: async (...args) => {
              const out = await backend.infer(...args);
              if (!drift || !out['p50']) return out;
              return { ...out, p50: Array.from(out['p50'], (v) => v + 3) };
            },
          },
    );
    const { repo, app } = await served(
      {
        MODEL_SETTINGS: JSON.stringify({
          'eta-precise': { shadow: { version: '2', percent: 100, tolerance: 0.5 } },
        }),
      },
      loader,
    );
    await repo.publish('eta-precise', '2');
    await app.mlProxy.sync();
    drift = true;
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/eta-precise/infer',
        payload: inferBody(fx, 2),
      });
      expect(res.json()).toMatchObject({ model_version: '1' });
      expect(res.json().parameters).toBeUndefined();
    }
    const labels = { model: 'eta-precise', version: '2' };
    // Five calls of two rows each: ten predictions compared.
    await until(async () => (await metricValue(app, 'ml_proxy_shadow_comparisons_total', labels)) === 10);
    expect(await metricValue(app, 'ml_proxy_shadow_differences_total', { ...labels, output: 'p50' })).toBe(
      10,
    );
    expect(await metricValue(app, 'ml_proxy_shadow_differences_total', { ...labels, output: 'p10' })).toBe(0);
    expect(await metricValue(app, 'ml_proxy_shadow_abs_error_count', { ...labels, output: 'p50' })).toBe(5);
  });
});
