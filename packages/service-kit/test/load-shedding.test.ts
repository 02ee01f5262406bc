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

describe('admission control (MAX_IN_FLIGHT)', () => {
  it('refuses a request beyond MAX_IN_FLIGHT at once with 503 and Retry-After, and admits again after', async () => {
    const built = await testService({ env: { MAX_IN_FLIGHT: '2', MAX_QUEUE_MS: '0' } });
    app = built.app;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    app.get('/slow', async () => {
      await gate;
      return { eta: 1 };
    });
    app.get('/eta', async () => ({ eta: 1 }));
    const held = [app.inject({ method: 'GET', url: '/slow' }), app.inject({ method: 'GET', url: '/slow' })];
    // Both held requests are in their handler before the third arrives.
    await vi.waitFor(async () => {
      const m = await app!.inject({ method: 'GET', url: '/metrics' });
      expect(m.body).toMatch(/^http_requests_in_flight 2$/m);
    });
    const refused = await app.inject({ method: 'GET', url: '/eta' });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toEqual({ code: 'OVERLOADED', message: 'server is overloaded; retry later' });
    // Probes are never refused.
    expect((await app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    release();
    expect((await Promise.all(held)).map((r) => r.statusCode)).toEqual([200, 200]);
    expect((await app.inject({ method: 'GET', url: '/eta' })).statusCode).toBe(200);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/http_requests_shed_total\{reason="in-flight"\} 1/);
    expect(metrics.body).toMatch(/^http_requests_in_flight 0$/m);
  });
});
