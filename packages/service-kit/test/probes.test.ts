import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('/livez and /readyz', () => {
  it('is ready when every check passes, and reports each by name', async () => {
    const built = await testService();
    app = built.app;
    app.readiness.add('redis', async () => {});
    app.readiness.add('model', () => {});
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { redis: 'ok', model: 'ok' } });
  });

  it('answers 503 NOT_READY naming a failing and a hanging check, while /livez stays 200', async () => {
    const built = await testService({ readinessCheckTimeoutMs: 50 });
    app = built.app;
    app.readiness.add('redis', async () => {});
    app.readiness.add('postgres', async () => {
      throw new Error('connect ECONNREFUSED 10.1.2.3:5432');
    });
    app.readiness.add('model', () => new Promise<void>(() => {}));
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      code: 'NOT_READY',
      message: 'not ready: postgres, model',
      details: [
        { path: 'postgres', message: 'check failed' },
        { path: 'model', message: 'timed out after 50 ms' },
      ],
    });
    // The reason stays in the log, not in the probe answer.
    expect(res.body).not.toContain('10.1.2.3');
    expect(built.logs.lines.find((l) => l['check'] === 'postgres')).toMatchObject({
      severity: 'WARNING',
      err: { message: expect.stringContaining('ECONNREFUSED') },
    });
    expect((await app.inject({ method: 'GET', url: '/livez' })).json()).toEqual({ status: 'ok' });
  });

  describe('regression: a check that stays down floods the log on every probe', () => {
    it('logs a failing check once when it goes down, and again only after it recovered', async () => {
      const built = await testService();
      app = built.app;
      let up = false;
      app.readiness.add('postgres', () => {
        if (!up) throw new Error('connect ECONNREFUSED');
      });
      const failures = () => built.logs.lines.filter((l) => l['check'] === 'postgres').length;
      for (let i = 0; i < 5; i++) await app.inject({ method: 'GET', url: '/readyz' });
      expect(failures()).toBe(1);
      up = true;
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      up = false;
      for (let i = 0; i < 3; i++) await app.inject({ method: 'GET', url: '/readyz' });
      expect(failures()).toBe(2);
    });
  });

  it('refuses to register two checks under one name', async () => {
    const built = await testService();
    app = built.app;
    app.readiness.add('redis', () => {});
    expect(() => app!.readiness.add('redis', () => {})).toThrow(/already registered/);
  });

  it('answers 503 SHUTTING_DOWN once shutdown has begun, checks or not', async () => {
    const built = await testService();
    app = built.app;
    app.readiness.beginShutdown();
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
  });
});
