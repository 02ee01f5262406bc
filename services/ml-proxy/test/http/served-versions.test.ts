import { describe, expect, it } from 'vitest';
import { type MlProxyApp } from '../../src/app.ts';
import {
  appsPerTest,
  fixture,
  inferBody,
  metricValue,
  NEWEST,
  REFERENCE_VERSIONS,
  startApp,
  wrongGolden,
} from '../helpers.ts';

/**
 * MODEL_LOAD_VERSIONS=served, the shipped default: a pod loads the versions it serves (the newest, or the
 * configured default, plus canary, shadow and keepLoaded), not every version in the repository.
 */
const { served, track } = appsPerTest();
const SERVED = { MODEL_LOAD_VERSIONS: 'served' };
const slow = { timeout: 60_000 };

const versionsOf = async (app: MlProxyApp, model: string): Promise<string[]> =>
  (await app.inject(`/v2/models/${model}`)).json().versions;

async function infer(app: MlProxyApp, model: string, version?: string) {
  const fx = await fixture(model);
  return app.inject({
    method: 'POST',
    url: `/v2/models/${model}${version === undefined ? '' : `/versions/${version}`}/infer`,
    payload: inferBody(fx, 1),
  });
}

describe('versions loaded (MODEL_LOAD_VERSIONS=served)', slow, () => {
  it('loads only the newest version of each model by default; an older one answers pinned calls 404', async () => {
    expect(REFERENCE_VERSIONS.length).toBeGreaterThan(1);
    const app = await startApp(SERVED);
    track(() => app.close());
    for (const model of ['eta-rough', 'eta-precise']) {
      expect(await versionsOf(app, model)).toEqual([NEWEST]);
      expect((await infer(app, model)).json()).toMatchObject({ model_version: NEWEST });
      expect((await infer(app, model, REFERENCE_VERSIONS[0])).statusCode).toBe(404);
    }
  });

  it('also loads the default, canary, shadow and keepLoaded versions that MODEL_SETTINGS names', async () => {
    const [oldest] = REFERENCE_VERSIONS;
    const app = await startApp({
      ...SERVED,
      MODEL_SETTINGS: JSON.stringify({
        'eta-rough': { keepLoaded: [oldest] },
        'eta-precise': { defaultVersion: oldest },
      }),
    });
    track(() => app.close());
    expect(await versionsOf(app, 'eta-rough')).toEqual([...REFERENCE_VERSIONS]);
    expect((await infer(app, 'eta-rough', oldest)).json()).toMatchObject({ model_version: oldest });
    expect((await infer(app, 'eta-rough')).json()).toMatchObject({ model_version: NEWEST });
    // A default version is what unpinned calls get, so the newest is not needed.
    expect(await versionsOf(app, 'eta-precise')).toEqual([oldest]);
    expect((await infer(app, 'eta-precise')).json()).toMatchObject({ model_version: oldest });
  });

  it('on a hot reload swaps the new version in and unloads the one it replaced', async () => {
    const { repo, app } = await served(SERVED);
    expect(await versionsOf(app, 'eta-precise')).toEqual(['1']);
    await repo.publish('eta-precise', '2');
    await app.mlProxy.sync();
    expect(await versionsOf(app, 'eta-precise')).toEqual(['2']);
    expect((await infer(app, 'eta-precise')).json()).toMatchObject({ model_version: '2' });
    // Rolled back by removing the version: the one before is loaded again.
    await repo.remove('eta-precise', '2');
    await app.mlProxy.sync();
    expect(await versionsOf(app, 'eta-precise')).toEqual(['1']);
  });

  it('when the newest version fails its checks, serves the one before it, also on a fresh start', async () => {
    const { repo, app } = await served(SERVED);
    await repo.publish('eta-rough', '2', wrongGolden);
    await app.mlProxy.sync();
    expect(await versionsOf(app, 'eta-rough')).toEqual(['1']);
    expect(
      await metricValue(app, 'ml_proxy_model_reloads_total', { model: 'eta-rough', outcome: 'failure' }),
    ).toBe(1);
    const fresh = await startApp({ ...SERVED, MODEL_REPOSITORY: repo.root });
    track(() => fresh.close());
    expect(await versionsOf(fresh, 'eta-rough')).toEqual(['1']);
    expect((await fresh.inject('/v2/health/ready')).statusCode).toBe(200);
  });
});
