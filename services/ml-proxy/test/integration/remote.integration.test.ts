import { spawnService, type SpawnedService, suiteService } from '@eta/testing';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MlProxyApp } from '../../src/app.ts';
import { type Fixture, fixture, inferBody, NEWEST, REFERENCE_VERSIONS, startApp } from '../helpers.ts';

/** A real ml-proxy process on a free port, serving the reference models: the V2 upstream. */
function startUpstream(): Promise<SpawnedService> {
  return spawnService({
    ...suiteService('ml-proxy'),
    env: {
      LOG_LEVEL: 'info',
      SHUTDOWN_DELAY_MS: '0',
      WARMUP_RUNS: '2',
      // Every version, so that pinned calls through the proxy reach each one.
      MODEL_LOAD_VERSIONS: 'all',
      // Behaviour, not speed: the upstream must answer from its model even on a busy machine.
      MODEL_DEADLINE_MS: '10000',
      // No load shedding: right after its models loaded (inline sessions block its loop) a busy machine
      // can make the upstream answer 503 OVERLOADED (as http/execution.test.ts saw in process), and the
      // proxy's answer would be the heuristic's.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      MAX_QUEUE_MS: '0',
    },
    // Listening comes before the models are warm: wait for V2 readiness.
    readyPath: '/v2/health/ready',
    readyTimeoutMs: 110_000,
  });
}

async function upstreamRows(origin: string): Promise<number> {
  const res = await request(`${origin}/metrics`);
  const text = await res.body.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('ml_proxy_inference_rows_total{') && l.includes('model="eta-precise"'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('remote V2 backend against a real upstream ml-proxy process', () => {
  let upstream: SpawnedService;
  let app: MlProxyApp;
  let fx: Fixture;

  beforeAll(async () => {
    fx = await fixture('eta-precise', NEWEST);
    upstream = await startUpstream();
    app = await startApp({
      MODEL_SETTINGS: JSON.stringify({
        // Generous: a late upstream answer on a busy machine must not turn into the fallback under test last.
        'eta-precise': { remote: { url: upstream.origin, timeoutMs: 30_000 }, deadlineMs: 30_000 },
      }),
    });
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.stop();
  });

  it('is ready and describes the upstream model, features included', async () => {
    expect((await app.inject('/v2/health/ready')).statusCode).toBe(200);
    const meta = (await app.inject('/v2/models/eta-precise')).json();
    expect(meta).toMatchObject({
      name: 'eta-precise',
      versions: REFERENCE_VERSIONS,
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, fx.width] }],
    });
    expect(meta.parameters.features.map((f: { name: string }) => f.name)).toEqual(
      fx.features.map((f) => f.name),
    );
  });

  it('forwards the whole batch in one upstream call and answers what the upstream answers', async () => {
    const before = await upstreamRows(upstream.origin);
    const body = inferBody(fx, 5);
    const viaProxy = await app.inject({ method: 'POST', url: '/v2/models/eta-precise/infer', payload: body });
    expect(viaProxy.statusCode).toBe(200);
    const direct = await request(`${upstream.origin}/v2/models/eta-precise/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const directBody = (await direct.body.json()) as { outputs: { name: string; data: number[] }[] };
    expect(viaProxy.json()).toMatchObject({ model_name: 'eta-precise', model_version: NEWEST });
    expect(viaProxy.json().parameters).toBeUndefined();
    for (const out of directBody.outputs) {
      const mine = viaProxy.json().outputs.find((o: { name: string }) => o.name === out.name);
      expect(mine.data).toEqual(out.data);
    }
    // Golden row 0 reproduced end to end through two services.
    const p50 = viaProxy.json().outputs.find((o: { name: string }) => o.name === 'p50').data[0];
    expect(Math.abs(p50 - fx.expected['p50']![0]!)).toBeLessThanOrEqual(fx.tolerance);
    expect((await upstreamRows(upstream.origin)) - before).toBe(10);
  });

  it('forwards a pinned version; refuses a bad tensor locally without calling the upstream', async () => {
    const pinned = await app.inject({
      method: 'POST',
      url: '/v2/models/eta-precise/versions/1/infer',
      payload: inferBody(fx, 1),
    });
    expect(pinned.json()).toMatchObject({ model_version: '1' });
    const before = await upstreamRows(upstream.origin);
    const bad = inferBody(fx, 1);
    bad.inputs[0]!.shape = [1, fx.width + 1];
    const res = await app.inject({ method: 'POST', url: '/v2/models/eta-precise/infer', payload: bad });
    expect(res.statusCode).toBe(400);
    expect(await upstreamRows(upstream.origin)).toBe(before);
  });

  it('answers from the heuristic, marked, once the upstream is gone', async () => {
    await upstream.stop();
    const res = await app.inject({
      method: 'POST',
      url: '/v2/models/eta-precise/infer',
      payload: inferBody(fx, 2),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      model_version: 'heuristic',
      parameters: { fallback: true, reason: 'backend_error' },
    });
  });
});
