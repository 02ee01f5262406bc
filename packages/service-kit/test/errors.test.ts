import { ErrorBody } from '@eta/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, type ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const Quote = z.object({
  storeId: z.string().min(1),
  destination: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }),
});

async function withRoutes(): Promise<ServiceApp> {
  const built = await testService();
  app = built.app;
  app.post(
    '/quotes',
    { schema: { body: Quote, response: { 200: z.object({ etaSeconds: z.number().int() }) } } },
    async () => ({ etaSeconds: 600, internalNote: 'must not leak' }) as { etaSeconds: number },
  );
  app.get('/conflict', async () => {
    throw new AppError(409, 'CONFLICT', 'store is paused', [{ path: 'storeId', message: 'paused' }]);
  });
  app.get('/bad-output', { schema: { response: { 200: z.object({ n: z.number() }) } } }, async () => {
    return { n: 'not a number' } as unknown as { n: number };
  });
  return app;
}

describe('error handling', () => {
  it('answers a bad body with 400 VALIDATION_ERROR naming the field and why', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({
      method: 'POST',
      url: '/quotes',
      payload: { storeId: 's1', destination: { lat: 'north', lng: 127 } },
    });
    expect(res.statusCode).toBe(400);
    const body = ErrorBody.parse(res.json());
    expect(body.code).toBe('VALIDATION_ERROR');
    expect(body.message).toContain('body.destination.lat');
    expect(body.details).toEqual([
      { path: 'body.destination.lat', message: expect.stringMatching(/number/) },
    ]);
  });

  it('lists every bad field, and counts the rest in the message', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({
      method: 'POST',
      url: '/quotes',
      payload: { storeId: '', destination: { lat: 200, lng: 127 } },
    });
    const body = ErrorBody.parse(res.json());
    expect(body.details?.map((d) => d.path).sort()).toEqual(['body.destination.lat', 'body.storeId']);
    expect(body.message).toMatch(/\(and 1 more\)$/);
  });

  it('answers a missing body with 400 VALIDATION_ERROR on body', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({ method: 'POST', url: '/quotes' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ path: 'body' }] });
  });

  it('answers malformed JSON with 400 BAD_REQUEST', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({
      method: 'POST',
      url: '/quotes',
      headers: { 'content-type': 'application/json' },
      payload: '{"storeId": "s1", ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/JSON/) });
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const built = await testService({ bodyLimit: 1024 });
    app = built.app;
    app.post('/echo', async () => ({ ok: true }));
    const res = await app.inject({ method: 'POST', url: '/echo', payload: { pad: 'x'.repeat(4096) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('answers an unsupported content type with 415', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({
      method: 'POST',
      url: '/quotes',
      headers: { 'content-type': 'application/x-yaml' },
      payload: 'storeId: s1',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('answers an unknown route with a JSON 404 NOT_FOUND', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(ErrorBody.parse(res.json())).toEqual({ code: 'NOT_FOUND', message: 'no route for GET /nope' });
  });

  it('answers a thrown error with 500 INTERNAL, hiding its message and stack, but logs them', async () => {
    const built = await testService();
    app = built.app;
    app.get('/boom', async () => {
      throw new Error('db password=hunter2 at host 10.0.0.7');
    });
    const res = await app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    const body = ErrorBody.parse(res.json());
    expect(body.code).toBe('INTERNAL');
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('at ');
    expect(Object.keys(res.json() as object).sort()).toEqual(['code', 'message']);
    const logged = built.logs.lines.find((l) => l['message'] === 'request failed');
    expect(logged).toMatchObject({ severity: 'ERROR', err: { message: expect.stringContaining('hunter2') } });
  });

  it('passes an AppError status, code, message and details through', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({ method: 'GET', url: '/conflict' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      code: 'CONFLICT',
      message: 'store is paused',
      details: [{ path: 'storeId', message: 'paused' }],
    });
  });

  it('serializes responses through the response schema, dropping undeclared fields', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({
      method: 'POST',
      url: '/quotes',
      payload: { storeId: 's1', destination: { lat: 37.5, lng: 127 } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ etaSeconds: 600 });
  });

  it('treats a response that breaks its own schema as a 500 INTERNAL', async () => {
    const svc = await withRoutes();
    const res = await svc.inject({ method: 'GET', url: '/bad-output' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'INTERNAL' });
  });
});
