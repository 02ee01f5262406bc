import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('/metrics', () => {
  it('exposes the latency histogram labelled with the route pattern, not the raw URL', async () => {
    const built = await testService({ defaultMetrics: true });
    app = built.app;
    app.get(
      '/stores/:storeId/eta',
      { schema: { params: z.object({ storeId: z.string() }) } },
      async (request) => ({ storeId: request.params.storeId }),
    );
    await app.inject({ method: 'GET', url: '/stores/s-1/eta' });
    await app.inject({ method: 'GET', url: '/stores/s-2/eta' });
    await app.inject({ method: 'GET', url: '/missing' });

    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain(
      'http_request_duration_seconds_count{method="GET",route="/stores/:storeId/eta",status_code="200"} 2',
    );
    expect(res.body).toContain('http_request_duration_seconds_bucket{le="0.005",');
    expect(res.body).toContain('route="(unmatched)",status_code="404"');
    expect(res.body).not.toContain('s-1');
    expect(res.body).not.toMatch(/route="\/(livez|readyz|metrics)"/);
    expect(res.body).toContain('process_cpu_seconds_total');
  });

  it('lets a service register its own metrics on app.metricsRegistry', async () => {
    const built = await testService();
    app = built.app;
    const { Counter } = await import('prom-client');
    const hits = new Counter({
      name: 'eta_cache_hits_total',
      help: 'hits',
      registers: [app.metricsRegistry],
    });
    hits.inc(3);
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toContain('eta_cache_hits_total 3');
  });
});
