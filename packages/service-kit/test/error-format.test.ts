// A scope's error format (setErrorFormat): every error the kit answers there is in it. The regression:
// admission control answered a shed request `{ code, message }` on the ML proxy's /v2 routes, whose
// clients (tritonclient) read `{ error }`, so a V2 client could not decode its 503.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { setErrorFormat, type ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

const v2Format = {
  schema: z.object({ error: z.string(), code: z.string() }),
  format: (b: { code: string; message: string }) => ({ error: b.message, code: b.code }),
};

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** A held request: its handler waits until `release()`. */
function gate(): { wait: Promise<void>; release: () => void } {
  let release = () => {};
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

async function service(env: Record<string, string> = {}) {
  const { app: a } = await testService({ env: { MAX_QUEUE_MS: '0', MAX_EVENT_LOOP_DELAY_MS: '0', ...env } });
  const held = gate();
  const entered = gate();
  const holding = async () => {
    entered.release();
    await held.wait;
    return { ok: true };
  };
  a.get('/v1/hold', holding);
  await a.register(
    async (scope) => {
      setErrorFormat(scope, v2Format);
      scope.get('/hold', holding);
      scope.post(
        '/models/:name/infer',
        { schema: { body: z.object({ inputs: z.array(z.number()) }) } },
        async () => ({ ok: true }),
      );
      scope.get('/fail', async () => {
        throw new Error('boom');
      });
    },
    { prefix: '/v2' },
  );
  return { a, held, entered };
}

describe('regression: a shed /v2 request is answered { error, code } (issue 12)', () => {
  it.each([
    ['/v2/hold', '/v2/models/m/infer', { error: 'server is overloaded; retry later', code: 'OVERLOADED' }],
    ['/v1/hold', '/v1/hold', { code: 'OVERLOADED', message: 'server is overloaded; retry later' }],
  ])('past MAX_IN_FLIGHT, %s held: %s is refused in its route format', async (hold, next, body) => {
    const { a, held, entered } = await service({ MAX_IN_FLIGHT: '1' });
    app = a;
    const first = a.inject({ url: hold });
    await entered.wait;
    const refused = next.includes('infer')
      ? await a.inject({ method: 'POST', url: next, payload: { inputs: [1] } })
      : await a.inject({ method: 'GET', url: next });
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toEqual(body);
    held.release();
    expect((await first).statusCode).toBe(200);
  });
});

describe('every kit error in a scope with its own format takes that format', () => {
  it.each([
    ['validation', 'POST', '/v2/models/m/infer', { inputs: ['x'] }, {}, 400, 'VALIDATION_ERROR'],
    [
      'malformed JSON',
      'POST',
      '/v2/models/m/infer',
      '{"inputs": [',
      { 'content-type': 'application/json' },
      400,
      'BAD_REQUEST',
    ],
    [
      'media type',
      'POST',
      '/v2/models/m/infer',
      'x',
      { 'content-type': 'text/csv' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    [
      'negative budget',
      'GET',
      '/v2/hold',
      undefined,
      { 'x-request-timeout-ms': '-1' },
      400,
      'VALIDATION_ERROR',
    ],
    ['spent budget', 'GET', '/v2/hold', undefined, { 'x-request-timeout-ms': '0' }, 504, 'DEADLINE_EXCEEDED'],
    ['unexpected', 'GET', '/v2/fail', undefined, {}, 500, 'INTERNAL'],
    ['unknown path', 'GET', '/v2/nowhere', undefined, {}, 404, 'NOT_FOUND'],
    ['wrong method', 'GET', '/v2/models/m/infer', undefined, {}, 405, 'METHOD_NOT_ALLOWED'],
    [
      'long parameter',
      'POST',
      `/v2/models/${'m'.repeat(101)}/infer`,
      { inputs: [1] },
      {},
      414,
      'URI_TOO_LONG',
    ],
  ] as const)('%s: %s %s', async (_name, method, url, payload, headers, status, code) => {
    const { a } = await service();
    app = a;
    const res = await a.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
    expect(res.statusCode).toBe(status);
    const body = res.json<{ error: string; code: string }>();
    expect(Object.keys(body).sort()).toEqual(['code', 'error']);
    expect(body.code).toBe(code);
    expect(body.error).not.toBe('');
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('leaves the rest of the service in the suite format', async () => {
    const { a } = await service();
    app = a;
    const res = await a.inject({ method: 'DELETE', url: '/v1/hold' });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    expect((await a.inject({ url: '/nowhere' })).json()).toMatchObject({ code: 'NOT_FOUND' });
  });
});
