import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxLoader } from '../../src/adapters/onnx.ts';
import { type MlProxyApp } from '../../src/app.ts';
import { type ModelLoader } from '../../src/domain/registry.ts';
import {
  type Fixture,
  fixture,
  inferBody,
  metricValue,
  NEWEST,
  REFERENCE_VERSIONS,
  startApp,
} from '../helpers.ts';

/** Wraps the real ONNX loader and records every backend call: our own port, not a mock of a server. */
export function spyLoader(inner: ModelLoader = createOnnxLoader({ intraOpThreads: 1 })) {
  const calls: { model: string; version: string; rows: number }[] = [];
  let live = false;
  const loader: ModelLoader = {
    platform: inner.platform,
    async load(args) {
      const backend = await inner.load(args);
      return {
        kind: backend.kind,
        infer(input, rows, outputs, budget) {
          if (live) calls.push({ model: args.model, version: args.version, rows });
          return backend.infer(input, rows, outputs, budget);
        },
        close: () => backend.close(),
      };
    },
  };
  // Warm-up and golden calls at load time are not request traffic.
  return { loader, calls, startCounting: () => (live = true) };
}

describe('V2 REST protocol', { timeout: 30_000 }, () => {
  let app: MlProxyApp;
  let precise: Fixture;
  const spy = spyLoader();

  beforeAll(async () => {
    // The reference repository as shipped: unpinned requests get its newest version.
    precise = await fixture('eta-precise', NEWEST);
    app = await startApp({}, { loader: spy.loader });
    spy.startCounting();
  }, 60_000);
  afterAll(() => app.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers });

  it('GET /v2 describes the server', async () => {
    const res = await app.inject('/v2');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      name: 'ml-proxy',
      version: expect.any(String),
      extensions: ['binary_tensor_data'],
    });
  });

  it('health: live and ready once every model is loaded', async () => {
    expect((await app.inject('/v2/health/live')).json()).toEqual({ live: true });
    const ready = await app.inject('/v2/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true });
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect((await app.inject('/livez')).statusCode).toBe(200);
  });

  it('model metadata comes from metadata.json: input [-1,F] FP32, outputs p10/p50/p90, feature list', async () => {
    const urls: [string, readonly string[]][] = [
      ['/v2/models/eta-precise', REFERENCE_VERSIONS],
      [`/v2/models/eta-precise/versions/${NEWEST}`, [NEWEST]],
    ];
    for (const [url, versions] of urls) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({
        name: 'eta-precise',
        versions,
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, precise.width] }],
        outputs: ['p10', 'p50', 'p90'].map((name) => ({
          name,
          datatype: 'FP32',
          shape: precise.outputShape(-1),
        })),
      });
      expect(body.parameters.features.map((f: { name: string }) => f.name)).toEqual(
        precise.features.map((f) => f.name),
      );
    }
  });

  it('model and version readiness', async () => {
    // What serves is part of the answer: the reference repository has no release.json, so the newest.
    expect((await app.inject('/v2/models/eta-rough/ready')).json()).toEqual({
      name: 'eta-rough',
      ready: true,
      serving: NEWEST,
      servingFrom: 'newest',
    });
    expect((await app.inject('/v2/models/eta-rough/versions/1/ready')).statusCode).toBe(200);
  });

  it.each([
    ['/v2/models/nope', /model 'nope' not found/, 'MODEL_NOT_FOUND'],
    ['/v2/models/nope/ready', /not found/, 'MODEL_NOT_FOUND'],
    ['/v2/models/eta-rough/versions/7', /no version '7'/, 'VERSION_NOT_FOUND'],
    ['/v2/models/eta-rough/versions/7/ready', /no version '7'/, 'VERSION_NOT_FOUND'],
  ])('GET %s answers 404 {error, code}', async (url, message, code) => {
    const res = await app.inject(url);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: expect.stringMatching(message), code });
  });

  it("infers one row and reproduces the exporter's golden outputs", async () => {
    const res = await post('/v2/models/eta-precise/infer', { id: 'req-1', ...inferBody(precise, 1) });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ model_name: 'eta-precise', model_version: NEWEST, id: 'req-1' });
    expect(body.parameters).toBeUndefined();
    expect(body.outputs.map((o: { name: string }) => o.name)).toEqual(['p10', 'p50', 'p90']);
    for (const o of body.outputs) {
      expect(o).toMatchObject({ datatype: 'FP32', shape: precise.outputShape(1) });
      expect(o.data).toHaveLength(1);
      expect(Math.abs(o.data[0] - precise.expected[o.name]![0]!)).toBeLessThanOrEqual(precise.tolerance);
    }
  });

  it('accepts nested data, a pinned version and an outputs list; echoes the request id without a body id', async () => {
    const { inputs } = inferBody(precise, 2);
    const nested = [inputs[0]!.data.slice(0, precise.width), inputs[0]!.data.slice(precise.width)];
    const res = await post(
      '/v2/models/eta-precise/versions/1/infer',
      { inputs: [{ ...inputs[0], data: nested }], outputs: [{ name: 'p50' }] },
      { 'x-request-id': 'trace-42' },
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().parameters).toBeUndefined();
    expect(res.json()).toMatchObject({
      model_version: '1',
      id: 'trace-42',
      outputs: [{ name: 'p50', shape: precise.outputShape(2) }],
    });
    // regression: onnxruntime-node labels a fetched subset of outputs by position, so asking for p50
    // alone returned p10's values under the name p50.
    const all = await post('/v2/models/eta-precise/versions/1/infer', inferBody(precise, 2));
    const p50 = all.json().outputs.find((o: { name: string }) => o.name === 'p50');
    expect(res.json().outputs[0].data).toEqual(p50.data);
  });

  it('serves 1,000 rows in one backend call', async () => {
    const before = spy.calls.length;
    const rough = await fixture('eta-rough', NEWEST);
    const res = await post('/v2/models/eta-rough/infer', inferBody(rough, 1000));
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs[0].shape).toEqual(rough.outputShape(1000));
    expect(spy.calls.slice(before)).toEqual([{ model: 'eta-rough', version: NEWEST, rows: 1000 }]);
  });

  describe('bad requests answer 400 {error} and never reach the runtime', () => {
    const body = (over: Record<string, unknown>) => {
      const base = inferBody(precise, 1);
      return { ...base, inputs: [{ ...base.inputs[0], ...over }] };
    };
    const cases: [string, () => unknown, RegExp][] = [
      ['wrong input name', () => body({ name: 'x' }), /unexpected input 'x'/],
      ['wrong datatype', () => body({ datatype: 'INT64' }), /datatype INT64/],
      ['wrong width', () => body({ shape: [1, precise.width + 1] }), /expects \[-1,/],
      ['data length vs shape', () => body({ shape: [2, precise.width] }), /needs/],
      ['a non-number', () => body({ data: ['x', ...precise.rows[0]!.slice(1)] }), /not a number/],
      [
        'null (NaN) in a non-nullable feature',
        () => body({ data: precise.features.map((f, i) => (f.nullable ? precise.rows[0]![i] : null)) }),
        /does not allow/,
      ],
      ['too many rows', () => inferBody(precise, 1001), /at most 1000/],
      ['unknown output', () => ({ ...inferBody(precise, 1), outputs: [{ name: 'p99' }] }), /unknown output/],
      ['missing inputs', () => ({}), /inputs/],
      ['shape not integers', () => body({ shape: [1.5, precise.width] }), /shape/],
      ['id not a string', () => ({ ...inferBody(precise, 1), id: 7 }), /id/],
      ['data not an array', () => body({ data: 'abc' }), /data/],
    ];
    it.each(cases)('%s', async (_what, make, message) => {
      const before = spy.calls.length;
      const res = await post('/v2/models/eta-precise/infer', make());
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: expect.stringMatching(message), code: expect.any(String) });
      expect(spy.calls.length).toBe(before);
    });

    it('malformed JSON', async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v2/models/eta-precise/infer',
        headers: { 'content-type': 'application/json' },
        payload: '{"inputs": [',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: expect.stringMatching(/not valid JSON/), code: 'MALFORMED_JSON' });
    });
  });

  it('unknown model or version on infer answers 404; unknown /v2 route 404 {error}', async () => {
    const a = await post('/v2/models/nope/infer', inferBody(precise, 1));
    const b = await post('/v2/models/eta-precise/versions/9/infer', inferBody(precise, 1));
    const c = await app.inject('/v2/whatever');
    const codes: string[] = [];
    for (const res of [a, b, c]) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: expect.any(String), code: expect.any(String) });
      codes.push(res.json().code);
    }
    expect(codes).toEqual(['MODEL_NOT_FOUND', 'VERSION_NOT_FOUND', 'NOT_FOUND']);
  });

  it('routes outside /v2 keep the suite error form', async () => {
    const res = await app.inject('/nope');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('counts latency and rows per model and version on /metrics', async () => {
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('ml_proxy_inference_duration_seconds_bucket');
    expect(
      await metricValue(app, 'ml_proxy_inference_rows_total', { model: 'eta-rough', version: NEWEST }),
    ).toBeGreaterThanOrEqual(1000);
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-precise', outcome: 'success' }),
    ).toBe(REFERENCE_VERSIONS.length);
    expect(await metricValue(app, 'ml_proxy_model_versions_loaded', { model: 'eta-precise' })).toBe(
      REFERENCE_VERSIONS.length,
    );
  });
});

describe('not ready while models load', { timeout: 30_000 }, () => {
  it('answers 503 on readiness and infer until every model is warm', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inner = createOnnxLoader({ intraOpThreads: 1 });
    const slow: ModelLoader = {
      platform: inner.platform,
      load: async (args) => {
        await gate;
        return inner.load(args);
      },
    };
    const { buildApp } = await import('../../src/app.ts');
    const { testConfig } = await import('../helpers.ts');
    const app = await buildApp(testConfig(), { loader: slow });
    try {
      const fx = await fixture('eta-rough');
      const ready = await app.inject('/v2/health/ready');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ error: expect.stringMatching(/eta-rough/), code: 'UNAVAILABLE' });
      expect((await app.inject('/readyz')).statusCode).toBe(503);
      expect((await app.inject('/v2/models/eta-rough/ready')).statusCode).toBe(503);
      const infer = await app.inject({
        method: 'POST',
        url: '/v2/models/eta-rough/infer',
        payload: inferBody(fx, 1),
      });
      expect(infer.statusCode).toBe(503);
      expect(infer.json()).toEqual({ error: expect.stringMatching(/loading/), code: 'UNAVAILABLE' });
      release();
      await app.mlProxy.loaded;
      expect((await app.inject('/v2/health/ready')).statusCode).toBe(200);
    } finally {
      release();
      await app.close();
    }
  });
});
