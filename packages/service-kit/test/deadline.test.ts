import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A handler that would take far longer than any budget in these tests, but stops when told to. */
async function slowApp(env: Record<string, string>): Promise<{ app: ServiceApp; seen: number[] }> {
  const built = await testService({ env });
  const seen: number[] = [];
  built.app.get('/slow', async (request) => {
    seen.push(request.deadline.budgetMs);
    await sleep(30_000, undefined, { signal: request.deadline.signal }).catch(() => undefined);
    return { late: true };
  });
  return { app: built.app, seen };
}

describe('per-request deadline', () => {
  it('answers 504 DEADLINE_EXCEEDED when the handler outlives REQUEST_TIMEOUT_MS', async () => {
    const built = await slowApp({ REQUEST_TIMEOUT_MS: '100' });
    app = built.app;
    const res = await app.inject({ method: 'GET', url: '/slow' });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toEqual({
      code: 'DEADLINE_EXCEEDED',
      message: "no answer within the request's 100 ms budget",
    });
    expect(built.seen).toEqual([100]);
  });

  it("shrinks the budget to the caller's remaining budget header, never grows it", async () => {
    const built = await slowApp({ REQUEST_TIMEOUT_MS: '5000' });
    app = built.app;
    const shorter = await app.inject({
      method: 'GET',
      url: '/slow',
      headers: { 'x-request-timeout-ms': '50' },
    });
    expect(shorter.statusCode).toBe(504);
    expect(built.seen).toEqual([50]);

    // A budget no machine makes this handler outlive: with 80 ms, the event-loop lag a busy runner shows
    // (taken off the budget before the handler runs) or a descheduled process could answer 504 first.
    const fast = await testService({ env: { REQUEST_TIMEOUT_MS: '60000' } });
    fast.app.get('/budget', async (request) => ({ budget: request.deadline.budgetMs }));
    const longer = await fast.app.inject({
      method: 'GET',
      url: '/budget',
      headers: { 'x-request-timeout-ms': '999999' },
    });
    const garbled = await fast.app.inject({
      method: 'GET',
      url: '/budget',
      headers: { 'x-request-timeout-ms': 'soon' },
    });
    await fast.app.close();
    expect(longer.json()).toEqual({ budget: 60_000 });
    expect(garbled.json()).toEqual({ budget: 60_000 });
  });

  it('answers 504 at once when the caller has no budget left', async () => {
    const built = await slowApp({ REQUEST_TIMEOUT_MS: '5000' });
    app = built.app;
    const res = await app.inject({ method: 'GET', url: '/slow', headers: { 'x-request-timeout-ms': '0' } });
    expect(res.statusCode).toBe(504);
    expect(res.json()).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(built.seen).toEqual([]);
  });

  it('leaves a handler that answers in time alone', async () => {
    const built = await testService({ env: { REQUEST_TIMEOUT_MS: '60000' } });
    app = built.app;
    app.get('/quick', async (request) => ({ left: request.deadline.remainingMs() > 0 }));
    const res = await app.inject({ method: 'GET', url: '/quick' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ left: true });
  });
});
