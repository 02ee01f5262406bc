import { afterEach, describe, expect, it } from 'vitest';
import { addLogBindings, createLogger, type ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

let app: ServiceApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('logs and request ids', () => {
  it('by default logs only failed and slow requests (ACCESS_LOG=errors-and-slow)', async () => {
    // /fast must stay under SLOW_REQUEST_MS whatever the machine does, so the threshold is far above any
    // inject on a busy runner (50 ms was not); /slow is slow by construction, not by luck.
    const built = await testService({ env: { ACCESS_LOG: 'errors-and-slow', SLOW_REQUEST_MS: '1000' } });
    app = built.app;
    app.get('/fast', async () => ({ ok: true }));
    app.get('/slow', async () => {
      await new Promise((r) => setTimeout(r, 1_050));
      return { ok: true };
    });
    await app.inject({ method: 'GET', url: '/fast' });
    await app.inject({ method: 'GET', url: '/slow' });
    await app.inject({ method: 'GET', url: '/missing' });
    const logged = built.logs.lines.filter((l) => l['message'] === 'request completed');
    expect(logged.map((l) => [l['url'], l['statusCode']])).toEqual([
      ['/slow', 200],
      ['/missing', 404],
    ]);
  });

  it('ACCESS_LOG=off writes no access lines at all', async () => {
    const built = await testService({ env: { ACCESS_LOG: 'off' } });
    app = built.app;
    await app.inject({ method: 'GET', url: '/missing' });
    expect(built.logs.lines.filter((l) => l['message'] === 'request completed')).toEqual([]);
  });

  it('echoes the caller request id and puts it on every log line of the request', async () => {
    const built = await testService();
    app = built.app;
    app.get('/work', async (request) => {
      request.log.info({ step: 'inside' }, 'doing work');
      return { ok: true };
    });
    const res = await app.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-abc.123' } });
    expect(res.headers['x-request-id']).toBe('req-abc.123');
    const lines = built.logs.lines.filter((l) => l['requestId'] === 'req-abc.123');
    expect(lines.map((l) => l['message'])).toEqual(['doing work', 'request completed']);
    expect(lines[1]).toMatchObject({ route: '/work', statusCode: 200, service: 'test-svc' });
  });

  it('generates a request id when none is sent, and replaces one that is unsafe to log', async () => {
    const built = await testService();
    app = built.app;
    app.get('/work', async () => ({ ok: true }));
    const fresh = await app.inject({ method: 'GET', url: '/work' });
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await app.inject({
      method: 'GET',
      url: '/work',
      headers: { 'x-request-id': 'x"\n{"severity":"CRITICAL"}' },
    });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes a Cloud Logging severity on every line and an ISO timestamp', async () => {
    const built = await testService({ env: { LOG_LEVEL: 'debug' } });
    app = built.app;
    app.log.debug('d');
    app.log.info('i');
    app.log.warn('w');
    app.log.error('e');
    app.log.fatal('f');
    const mine = built.logs.lines.filter((l) => ['d', 'i', 'w', 'e', 'f'].includes(l['message'] as string));
    expect(mine.map((l) => l['severity'])).toEqual(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);
    expect(new Date(mine[0]?.['time'] as string).toISOString()).toBe(mine[0]?.['time']);
  });

  it('redacts authorization, cookies and API keys wherever headers are logged', async () => {
    const built = await testService();
    app = built.app;
    app.get('/work', async (request) => {
      request.log.info({ headers: request.headers }, 'raw headers');
      request.log.info({ req: { headers: request.headers } }, 'nested headers');
      return { ok: true };
    });
    await app.inject({
      method: 'GET',
      url: '/work',
      headers: {
        authorization: 'Bearer s3cr3t',
        cookie: 'sid=s3cr3t',
        'x-api-key': 's3cr3t',
        'x-store': 'ok',
      },
    });
    const lines = built.logs.lines.filter((l) => String(l['message']).endsWith('headers'));
    expect(lines).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain('s3cr3t');
    expect(lines[0]).toMatchObject({
      headers: {
        authorization: '[REDACTED]',
        cookie: '[REDACTED]',
        'x-api-key': '[REDACTED]',
        'x-store': 'ok',
      },
    });
  });

  it("censors credentials one level down, in any case, in bindings and errors, never in the caller's objects", async () => {
    const { Writable } = await import('node:stream');
    const lines: string[] = [];
    const log = createLogger({
      name: 'redaction',
      level: 'info',
      stream: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const upstream = {
      url: 'http://geo',
      headers: { Authorization: 'Bearer s3cr3t', 'X-Api-Key': 's3cr3t', accept: 'ok' },
    };
    const user = { name: 'kim', password: 's3cr3t' };
    const err = Object.assign(new Error('refused'), { headers: { cookie: 'sid=s3cr3t' }, status: 401 });
    log.info({ upstream, user, headers: { 'proxy-authorization': 's3cr3t' }, password: 's3cr3t' }, 'nested');
    log.error({ err, cause: err }, 'failed');
    addLogBindings(log.child({ requestId: 'r-0' }), {
      peer: { headers: { 'set-cookie': 's3cr3t' } },
      caller: 'svc-a',
    }).info('bound');
    log.info({ requestId: 'r-1', headers: { accept: 'ok' }, nested: { headers: 'not an object' } }, 'clean');
    await new Promise((r) => setImmediate(r));
    const text = lines.join('');
    expect(text).not.toContain('s3cr3t');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({
      upstream: {
        url: 'http://geo',
        headers: { Authorization: '[REDACTED]', 'X-Api-Key': '[REDACTED]', accept: 'ok' },
      },
      user: { name: 'kim', password: '[REDACTED]' },
      headers: { 'proxy-authorization': '[REDACTED]' },
      password: '[REDACTED]',
    });
    // The error keeps what the err serializer writes (type, message, stack) and loses only the credential.
    expect(parsed[1]).toMatchObject({
      err: { type: 'Error', message: 'refused', status: 401, headers: { cookie: '[REDACTED]' } },
      cause: { status: 401, headers: { cookie: '[REDACTED]' } },
    });
    expect((parsed[1]!['err'] as { stack: string }).stack).toContain('refused');
    expect(parsed[2]).toMatchObject({ peer: { headers: { 'set-cookie': '[REDACTED]' } }, caller: 'svc-a' });
    expect(parsed[3]).toMatchObject({
      requestId: 'r-1',
      headers: { accept: 'ok' },
      nested: { headers: 'not an object' },
    });
    // The objects handed to the logger are as they were.
    expect(upstream.headers.Authorization).toBe('Bearer s3cr3t');
    expect(user.password).toBe('s3cr3t');
    expect(err.headers.cookie).toBe('sid=s3cr3t');
  });

  it('keeps probes and metrics out of the request log', async () => {
    const built = await testService();
    app = built.app;
    for (const url of ['/livez', '/readyz', '/metrics']) {
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200);
    }
    expect(built.logs.lines.filter((l) => l['message'] === 'request completed')).toEqual([]);
  });
});

describe('addLogBindings', () => {
  it("adds bindings to the request's own logger in place, on every later line of the request", async () => {
    const built = await testService();
    app = built.app;
    let same = false;
    app.get(
      '/work',
      {
        onRequest: async (request) => {
          const before = request.log;
          request.log = addLogBindings(request.log, { caller: 'svc-a' });
          same = request.log === before;
        },
      },
      async (request) => {
        request.log.info('inside');
        return { ok: true };
      },
    );
    await app.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-bind-1' } });
    await app.inject({ method: 'GET', url: '/work', headers: { 'x-request-id': 'req-bind-2' } });

    // No child logger per request: the request's logger itself carries the binding.
    expect(same).toBe(true);
    const inside = built.logs.lines.filter((l) => l['message'] === 'inside');
    expect(inside.map((l) => [l['requestId'], l['caller']])).toEqual([
      ['req-bind-1', 'svc-a'],
      ['req-bind-2', 'svc-a'],
    ]);
    // Bindings stay with the request they were added to: the app's logger did not gain them.
    built.app.log.info('outside');
    expect(built.logs.lines.find((l) => l['message'] === 'outside')?.['caller']).toBeUndefined();
  });

  it('falls back to a child for a logger without setBindings', () => {
    const child = { child: (b: Record<string, unknown>) => ({ bound: b }) };
    expect(addLogBindings(child as never, { a: 1 })).toEqual({ bound: { a: 1 } });
  });
});
