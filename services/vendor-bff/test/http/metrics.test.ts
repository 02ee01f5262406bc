// The dependency metrics' names and labels are read by loadtest/ (bff-chain) and dashboards: they must
// stay as they were when the transport moved into service-kit's dependency().
import { parseEnv } from '@eta/config';
import { freePort } from '@eta/testing/ports';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createGeoClient } from '../../src/adapters/geo.ts';
import { createMlClient } from '../../src/adapters/ml.ts';
import { configSchema } from '../../src/config.ts';
import { createEstimateMetrics } from '../../src/http/metrics.ts';
import { CITY_HALL, GANGNAM } from '../domain/estimate-fixtures.ts';

const silent = { warn: () => undefined, error: () => undefined };

describe('estimate metrics', () => {
  it('keeps the bff_ names and labels for calls, failures, breakers and coalesced batches', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    // Timeouts far above a refused connect, which is what this test counts: at the 50 ms default of
    // GEO_TIMEOUT_MS, connect or timeout depended on the runner not stalling for 50 ms in between.
    const config = parseEnv(configSchema, {
      LOG_LEVEL: 'silent',
      GEO_URL: dead,
      ML_PROXY_URL: dead,
      GEO_TIMEOUT_MS: '10000',
      ML_TIMEOUT_MS: '10000',
    });
    const registry = new Registry();
    const metrics = createEstimateMetrics(registry, 'all');
    const geo = createGeoClient(config, { registry, metrics: metrics.dependencies, log: silent });
    const ml = createMlClient(config, ['eta-precise', 'eta-rough'], {
      registry,
      metrics: metrics.dependencies,
      log: silent,
    });
    try {
      await ml.firstCheck;
      const budget = { remainingMs: () => 30_000 };
      await expect(geo.features(CITY_HALL, GANGNAM, budget)).rejects.toMatchObject({ kind: 'connect' });
      // No checked layout (the proxy is down): refused before a call, a failure but no latency sample.
      await expect(ml.infer('eta-rough', [[1]], budget)).rejects.toMatchObject({ kind: 'layout' });
      metrics.countEstimate('precise', 'manual', true);

      const text = await registry.metrics();
      expect(text).toMatch(
        /^bff_dependency_failures_total\{dependency="geo",operation="features",kind="connect"\} 2$/m,
      );
      expect(text).toMatch(
        /^bff_dependency_duration_seconds_count\{dependency="geo",operation="features",outcome="connect"\} 2$/m,
      );
      expect(text).toMatch(
        /^bff_dependency_failures_total\{dependency="ml-proxy",operation="eta-rough",kind="layout"\} 1$/m,
      );
      expect(text).not.toMatch(/bff_dependency_duration_seconds_count\{[^}]*outcome="layout"/);
      expect(text).toMatch(/^bff_coalesced_requests_count\{dependency="geo",operation="features"\} 1$/m);
      expect(text).toMatch(/^bff_coalesced_requests_sum\{dependency="geo",operation="features"\} 1$/m);
      for (const breaker of ['geo', 'ml-proxy/eta-precise', 'ml-proxy/eta-rough']) {
        expect(text).toMatch(new RegExp(`^bff_breaker_state\\{dependency="${breaker}"\\} 0$`, 'm'));
      }
      expect(text).toMatch(
        /^bff_estimates_total\{role="all",kind="precise",source="manual",degraded="true"\} 1$/m,
      );
    } finally {
      await Promise.all([geo.close(), ml.close()]);
    }
  });
});
