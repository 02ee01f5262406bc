import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('load shedding', () => {
  it('answers 503 OVERLOADED with Retry-After while a pressure signal is bad, and keeps probes up', async () => {
    let healthy = true;
    const built = await testService({
      loadShedding: { healthCheck: () => healthy, healthCheckIntervalMs: 10, retryAfterSeconds: 2 },
    });
    app = built.app;
    app.get('/eta', async () => ({ eta: 1 }));
    expect((await app.inject({ method: 'GET', url: '/eta' })).statusCode).toBe(200);

    healthy = false;
    const shed = await vi.waitFor(
      async () => {
        const res = await app!.inject({ method: 'GET', url: '/eta' });
        expect(res.statusCode).toBe(503);
        return res;
      },
      { timeout: 5000, interval: 20 },
    );
    expect(shed.headers['retry-after']).toBe('2');
    expect(shed.json()).toEqual({ code: 'OVERLOADED', message: 'server is overloaded; retry later' });
    for (const url of ['/livez', '/readyz', '/metrics']) {
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
    }
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/http_requests_shed_total\{reason="healthCheck"\} [1-9]/);
  });

  it('sheds on the MAX_EVENT_LOOP_DELAY_MS threshold from config', async () => {
    const built = await testService({
      env: { MAX_EVENT_LOOP_DELAY_MS: '1' },
      loadShedding: { sampleIntervalMs: 10 },
    });
    app = built.app;
    app.get('/eta', async () => ({ eta: 1 }));
    const shed = await vi.waitFor(
      async () => {
        // Block the loop well past the threshold so the next sample sees the delay.
        const until = Date.now() + 60;
        while (Date.now() < until);
        await sleep(15);
        const res = await app!.inject({ method: 'GET', url: '/eta' });
        expect(res.statusCode).toBe(503);
        return res;
      },
      { timeout: 10_000, interval: 0 },
    );
    expect(shed.json()).toMatchObject({ code: 'OVERLOADED' });
    expect(shed.headers['retry-after']).toBe('1');
  });
});
