import { cp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createOnnxLoader } from '../../src/adapters/onnx.ts';
import { type MlProxyApp } from '../../src/app.ts';
import { type ModelLoader } from '../../src/domain/registry.ts';
import { appsPerTest, fixture, inferBody, metricValue, startApp, until } from '../helpers.ts';
import { candidateRelease, releaseRepository } from '../release-helpers.ts';

/**
 * release.json in the model repository: what serves unpinned, which candidate is shadowed, picked up hot
 * by a repository scan, a malformed file refused while the last good one keeps applying, and
 * MODEL_SETTINGS winning over it. MODEL_LOAD_VERSIONS=served, the shipped default.
 */
const { track } = appsPerTest();
const slow = { timeout: 90_000 };

function logSink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function served(env: Record<string, string> = {}, versions?: string[], loader?: ModelLoader) {
  const repo = await releaseRepository(versions);
  track(repo.cleanup);
  const logs = logSink();
  const start = async (extra: Record<string, string> = {}) => {
    const app = await startApp(
      {
        MODEL_REPOSITORY: repo.root,
        MODELS: 'eta-precise',
        MODEL_LOAD_VERSIONS: 'served',
        LOG_LEVEL: 'info',
        MODEL_SETTINGS: JSON.stringify({ 'eta-precise': { candidateShadow: { percent: 100 } } }),
        // Every mirrored call runs (none skipped for being over the in-flight cap), so counts are exact.
        SHADOW_MAX_INFLIGHT: '1000',
        ...env,
        ...extra,
      },
      { logStream: logs.stream, ...(loader ? { loader } : {}) },
    );
    track(() => app.close());
    return app;
  };
  return { repo, logs, start };
}

const fx = await fixture('eta-precise');

async function unpinned(app: MlProxyApp): Promise<{ model_version: string; parameters?: unknown }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v2/models/eta-precise/infer',
    payload: inferBody(fx, 2),
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

const metadata = async (app: MlProxyApp) => (await app.inject('/v2/models/eta-precise')).json();
const info = (app: MlProxyApp, labels: Record<string, string>) =>
  metricValue(app, 'ml_proxy_release_info', { model: 'eta-precise', ...labels });

describe('release.json', slow, () => {
  it('without it the newest version serves; with a candidate in it, the candidate is shadowed and never served unpinned', async () => {
    const { repo, start } = await served();
    const plain = await start();
    expect((await unpinned(plain)).model_version).toBe('2');
    await plain.close();

    await repo.writeRelease(candidateRelease());
    const app = await start();
    for (let i = 0; i < 10; i++) {
      const answer = await unpinned(app);
      expect(answer.model_version).toBe('1');
      expect(answer.parameters).toBeUndefined();
    }
    // Every request mirrored (candidateShadow 100 %), counted under the candidate's version, per row
    // (ten calls of two rows).
    const labels = { model: 'eta-precise', version: '2' };
    await until(async () => (await metricValue(app, 'ml_proxy_shadow_comparisons_total', labels)) === 20);
    expect(await metricValue(app, 'ml_proxy_shadow_errors_total', labels)).toBe(0);
    // v1 and v2 are different models: their p50s differ on these rows.
    expect(await metricValue(app, 'ml_proxy_shadow_abs_error_count', { ...labels, output: 'p50' })).toBe(10);
    // Both loaded; a pinned call still reaches the candidate.
    const meta = await metadata(app);
    expect(meta.versions).toEqual(['1', '2']);
    expect(meta.parameters).toMatchObject({
      serving: '1',
      servingFrom: 'release',
      candidate: '2',
      shadow: '2',
    });
    expect((await app.inject('/v2/models/eta-precise/ready')).json()).toEqual({
      name: 'eta-precise',
      ready: true,
      serving: '1',
      servingFrom: 'release',
      candidate: '2',
      shadow: '2',
    });
    expect(await info(app, { serving: '1', candidate: '2', source: 'release' })).toBe(1);
  });

  it('is re-read by every scan: a promotion flips what unpinned calls get and unloads the old version, a rollback flips it back', async () => {
    const { repo, start } = await served();
    await repo.writeRelease(candidateRelease());
    const app = await start();
    expect((await unpinned(app)).model_version).toBe('1');

    const published = candidateRelease();
    await repo.writeRelease({
      serving: '2',
      history: [
        ...published.history,
        { at: new Date().toISOString(), by: 't', action: 'promote', version: '2', from: '1', reason: 'r' },
      ],
    });
    await app.mlProxy.sync();
    expect((await unpinned(app)).model_version).toBe('2');
    expect((await metadata(app)).versions).toEqual(['2']);
    expect((await metadata(app)).parameters).toMatchObject({ serving: '2', servingFrom: 'release' });
    expect((await metadata(app)).parameters.candidate).toBeUndefined();
    // Only the current label set is exposed.
    expect(await info(app, { serving: '2', candidate: '', source: 'release' })).toBe(1);
    expect(await info(app, { serving: '1' })).toBe(0);

    await repo.writeRelease({ serving: '1', history: [] });
    await app.mlProxy.sync();
    expect((await unpinned(app)).model_version).toBe('1');
    expect((await metadata(app)).versions).toEqual(['1']);
  });

  it('a malformed file is refused with a log line and a metric, once; the last good release keeps applying', async () => {
    const { repo, logs, start } = await served();
    await repo.writeRelease(candidateRelease());
    const app = await start();
    const refusals = () => metricValue(app, 'ml_proxy_release_refusals_total', { model: 'eta-precise' });
    const refused = () => metricValue(app, 'ml_proxy_release_refused', { model: 'eta-precise' });
    expect(await refusals()).toBe(0);

    for (const bad of [
      '{"serving": "2", "candidate": ',
      '{"serving": "2", "canddate": "3"}',
      '{"serving": "2", "candidate": "2"}',
    ]) {
      await repo.writeRelease(bad);
      await app.mlProxy.sync();
      await app.mlProxy.sync(); // still the same bad file: not counted again
      expect((await unpinned(app)).model_version).toBe('1');
      expect((await metadata(app)).parameters).toMatchObject({ serving: '1', candidate: '2', shadow: '2' });
      expect(await refused()).toBe(1);
    }
    expect(await refusals()).toBe(3);
    const lines = logs
      .lines()
      .filter((l) => l['message'] === 'release.json refused; the last good release keeps applying');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatchObject({
      level: 50,
      model: 'eta-precise',
      lastGood: { serving: '1', candidate: '2' },
    });
    expect(String(lines[1]!['problem'])).toMatch(/canddate/);

    // A file that disappears is refused too (writers replace it, never delete it): the candidate must not
    // become "the newest" and serve.
    await rm(join(repo.root, 'eta-precise', 'release.json'));
    await app.mlProxy.sync();
    expect((await unpinned(app)).model_version).toBe('1');
    expect(await refusals()).toBe(4);

    await repo.writeRelease({ serving: '2', history: [] });
    await app.mlProxy.sync();
    expect((await unpinned(app)).model_version).toBe('2');
    expect(await refused()).toBe(0);
  });

  it("MODEL_SETTINGS' defaultVersion wins over the release's serving, and says so", async () => {
    const { repo, logs, start } = await served();
    await repo.writeRelease({ serving: '1', history: [] });
    const app = await start({ MODEL_SETTINGS: JSON.stringify({ 'eta-precise': { defaultVersion: '2' } }) });
    expect((await unpinned(app)).model_version).toBe('2');
    expect((await metadata(app)).parameters).toMatchObject({ serving: '2', servingFrom: 'settings' });
    expect(await info(app, { serving: '2', source: 'settings' })).toBe(1);
    expect(
      logs
        .lines()
        .some((l) => l['message'] === 'MODEL_SETTINGS defaultVersion overrides release.json serving'),
    ).toBe(true);
  });

  it('a serving version that is not in the repository leaves the newest non-candidate serving', async () => {
    const { repo, logs, start } = await served();
    await repo.writeRelease({ serving: '7', candidate: '2', history: [] });
    const app = await start();
    expect((await unpinned(app)).model_version).toBe('1');
    expect((await metadata(app)).parameters).toMatchObject({
      serving: '1',
      servingFrom: 'newest',
      candidate: '2',
    });
    expect(
      logs
        .lines()
        .some((l) =>
          String(l['message']).startsWith('release.json serving version is not in the repository'),
        ),
    ).toBe(true);
  });

  it('a candidate loaded by a scan never serves unpinned, not even while that scan still loads other versions', async () => {
    // Loading version 3 (kept loaded for pinned calls) waits for the test: the scan has loaded the new
    // candidate 2 by then but has not switched to the new release yet.
    const onnx = createOnnxLoader({ intraOpThreads: 1 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let loading3 = false;
    const loader: ModelLoader = {
      platform: onnx.platform,
      async load(args) {
        if (args.version === '3') {
          loading3 = true;
          await gate;
        }
        return onnx.load(args);
      },
    };
    const { repo, start } = await served(
      { MODEL_SETTINGS: JSON.stringify({ 'eta-precise': { keepLoaded: ['3'] } }) },
      ['1'],
      loader,
    );
    track(async () => open());
    const app = await start();
    expect((await unpinned(app)).model_version).toBe('1');
    for (const v of ['2', '3']) {
      const staging = join(repo.root, 'eta-precise', `.tmp-${v}`);
      await cp(join(repo.root, 'eta-precise', '1'), staging, { recursive: true });
      await rename(staging, join(repo.root, 'eta-precise', v));
    }
    await repo.writeRelease({ serving: '1', candidate: '2', history: [] });
    const scan = app.mlProxy.sync();
    await until(() => loading3);
    expect((await metadata(app)).versions).toEqual(['1', '2']);
    // Without the release yet, 2 would be "the newest".
    expect((await unpinned(app)).model_version).toBe('1');
    open();
    await scan;
    expect((await metadata(app)).versions).toEqual(['1', '2', '3']);
    expect((await unpinned(app)).model_version).toBe('1');
    expect((await metadata(app)).parameters).toMatchObject({
      serving: '1',
      candidate: '2',
      servingFrom: 'release',
    });
  });
});
