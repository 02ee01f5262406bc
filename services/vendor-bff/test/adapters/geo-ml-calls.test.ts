import { parseEnv } from '@eta/config';
import { UpstreamError, type DependencyMetrics } from '@eta/service-kit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bffDependency } from '../../src/adapters/geo-ml-calls.ts';
import { configSchema } from '../../src/config.ts';
import { DependencyFailure } from '../../src/domain/fallback.ts';

const config = parseEnv(configSchema, {
  LOG_LEVEL: 'silent',
  BREAKER_FAILURES: '2',
  DEPENDENCY_RETRY: 'true',
  // Nothing listens there; the attempts below never use the client.
  GEO_URL: 'http://127.0.0.1:1',
  ML_PROXY_URL: 'http://127.0.0.1:1',
});

const seen: string[] = [];
const metrics: DependencyMetrics = {
  observe: (dependency, operation, outcome) => seen.push(`${dependency} ${operation} ${outcome}`),
  countBatch: () => undefined,
  watchBreaker: () => undefined,
};
const geo = bffDependency(config, {
  name: 'geo',
  http: { origin: config.GEO_URL, timeoutMs: 100 },
  metrics,
});
const budget = { remainingMs: () => 1_000 };

afterEach(() => {
  seen.length = 0;
});
afterAll(() => geo.close());

describe('bffDependency', () => {
  it("fails with the domain's DependencyFailure, which the fallback ladder catches", async () => {
    const err = await geo
      .call('features', budget, async () => {
        throw new UpstreamError('status', 'geo', 'geo answered 400', { statusCode: 400 });
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyFailure);
    expect(err).toMatchObject({ dependency: 'geo', kind: 'rejected' });
    expect(seen).toEqual(['geo features rejected']);
  });

  it('uses the configured retry and breaker: one connect retry, open after BREAKER_FAILURES', async () => {
    let calls = 0;
    const kind = (p: Promise<unknown>) => p.catch((e: unknown) => (e as DependencyFailure).kind);
    const attempt = async () => {
      calls++;
      throw new UpstreamError('connect', 'geo', 'ECONNREFUSED');
    };
    expect(await kind(geo.call('features', budget, attempt))).toBe('connect');
    expect(calls).toBe(2);
    expect(await kind(geo.call('features', budget, attempt))).toBe('breaker-open');
    expect(geo.breakers.get('geo')?.state).toBe('open');
  });
});
