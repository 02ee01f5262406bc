import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { setErrorFormat, type ServiceApp } from '../src/index.ts';
import { testService } from './helpers.ts';

/** vi.waitFor's own cap is 1 s: a wait for a condition gets a cap no busy machine comes near. */
const CONDITION = { timeout: 15_000, interval: 20 };

let app: ServiceApp | undefined;

/** GET /slow answers once the returned function is called; GET /eta at once. */
function heldRoutes(service: ServiceApp): () => void {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  service.get('/slow', async () => {
    await gate;
    return { eta: 1 };
  });
  service.get('/eta', async () => ({ eta: 1 }));
  return () => release();
}
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
    const shed = await vi.waitFor(async () => {
      const res = await app!.inject({ method: 'GET', url: '/eta' });
      expect(res.statusCode).toBe(503);
      return res;
    }, CONDITION);
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
    const release = heldRoutes(app);
    const held = [app.inject({ method: 'GET', url: '/slow' }), app.inject({ method: 'GET', url: '/slow' })];
    // Both held requests are in their handler before the third arrives.
    await vi.waitFor(async () => {
      const m = await app!.inject({ method: 'GET', url: '/metrics' });
      expect(m.body).toMatch(/^http_requests_in_flight 2$/m);
    }, CONDITION);
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

describe('regression: every planned refusal was written to the log, two lines each, in the worst moment', () => {
  /** The log's refusal summaries and any line about one refused request. */
  function refusalLines(lines: readonly Record<string, unknown>[]) {
    const summaries = lines.filter((l) => typeof l['refused'] === 'object');
    const perRequest = lines.filter(
      (l) => l['statusCode'] === 503 || l['msg'] === 'request completed' || l['code'] === 'OVERLOADED',
    );
    const counted = summaries.reduce(
      (sum, l) => sum + Object.values(l['refused'] as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
    return { summaries, perRequest, counted };
  }

  it('sums up OVERLOADED refusals in one line instead of one line (or two) per refused request', async () => {
    const built = await testService({
      env: { MAX_IN_FLIGHT: '1', MAX_QUEUE_MS: '0', ACCESS_LOG: 'errors-and-slow' },
    });
    app = built.app;
    const release = heldRoutes(app);
    const held = app.inject({ method: 'GET', url: '/slow' });
    await vi.waitFor(async () => {
      const m = await app!.inject({ method: 'GET', url: '/metrics' });
      expect(m.body).toMatch(/^http_requests_in_flight 1$/m);
    }, CONDITION);
    const refused = await Promise.all(
      Array.from({ length: 20 }, () => app!.inject({ method: 'GET', url: '/eta' })),
    );
    expect(refused.map((r) => r.statusCode)).toEqual(Array.from({ length: 20 }, () => 503));
    release();
    expect((await held).statusCode).toBe(200);
    await app.close();
    app = undefined;
    const { summaries, perRequest, counted } = refusalLines(built.logs.lines);
    expect(perRequest, 'no access-log or error line per refused request').toEqual([]);
    // The first refusal is reported at once; the rest at close (they all came within 10 s).
    expect(summaries.length).toBe(2);
    expect(summaries[0]!['refused']).toEqual({ 'OVERLOADED/in-flight': 1 });
    expect(counted).toBe(20);
  });

  it('sums up SHUTTING_DOWN refusals while a drain waits for a request in flight', async () => {
    const built = await testService();
    app = built.app;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slowStarted = false;
    app.get('/slow', async () => {
      slowStarted = true;
      await gate;
      return { eta: 1 };
    });
    app.get('/eta', async () => ({ eta: 1 }));
    const server = app;
    await server.listen({ port: 0, host: '127.0.0.1' });
    const port = (server.server.address() as { port: number }).port;
    let accepted = 0;
    server.server.on('connection', () => accepted++);
    const agent = new Agent({ connections: 1 });
    const held = request(`http://127.0.0.1:${port}/slow`, { dispatcher: agent });
    await vi.waitFor(() => expect(slowStarted).toBe(true), CONDITION);
    // Five requests half-written before the close: their connections are not idle, so close() leaves
    // them open, and each request is complete only once the server is closing (as on a busy pod whose
    // clients wrote before they saw its last answers).
    const sockets = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const sock = connect(port, '127.0.0.1', () => {
              sock.write('GET /eta HTTP/1.1\r\nhost: 127.0.0.1\r\n', () => resolve(sock));
            });
            sock.on('error', reject);
          }),
      ),
    );
    const answers = sockets.map(
      (sock) =>
        new Promise<string>((resolve) => {
          let text = '';
          sock.setEncoding('utf8').on('data', (c: string) => (text += c));
          sock.on('close', () => resolve(text));
        }),
    );
    // The half-written requests have reached the server before it starts closing: accepted there, their
    // bytes written on loopback (so already in the server's receive buffers), and two loop turns later
    // the poll phase has read them (ordering, not timing).
    await vi.waitFor(() => expect(accepted).toBe(6), CONDITION);
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    const closed = server.close();
    await vi.waitFor(() => expect(server.readiness.shuttingDown).toBe(true), CONDITION);
    for (const sock of sockets) sock.write('\r\n');
    const texts = await Promise.all(answers);
    for (const text of texts) {
      expect(text).toMatch(/^HTTP\/1\.1 503 /);
      expect(text).toContain('"code":"SHUTTING_DOWN"');
    }
    release();
    expect((await held).statusCode).toBe(200);
    await closed;
    await agent.close();
    app = undefined;
    const { summaries, perRequest, counted } = refusalLines(built.logs.lines);
    expect(perRequest).toEqual([]);
    expect(summaries.length).toBeLessThanOrEqual(2);
    expect(counted).toBe(5);
  });
});

describe('regression: requests whose client left were never released, so admission refused everything after an overload', () => {
  it('releases an admitted request when its client disconnects, whether before or after the handler ends', async () => {
    const built = await testService({ env: { MAX_IN_FLIGHT: '2', MAX_QUEUE_MS: '0' } });
    app = built.app;
    const gates: (() => void)[] = [];
    let entered = 0;
    app.get('/slow', async () => {
      entered += 1;
      await new Promise<void>((resolve) => gates.push(resolve));
      return { eta: 1 };
    });
    app.get('/eta', async () => ({ eta: 1 }));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const { hostname: host, port } = new URL(url);
    const inFlight = async () =>
      Number(/^http_requests_in_flight (\d+)$/m.exec((await app!.inject('/metrics')).body)?.[1]);
    // Two clients that hang up while their requests are in the handler.
    const sockets = [0, 1].map(() => {
      const s = connect(Number(port), host);
      s.on('error', () => {});
      s.write(`GET /slow HTTP/1.1\r\nhost: ${host}\r\n\r\n`);
      return s;
    });
    await vi.waitFor(() => expect(entered).toBe(2), CONDITION);
    expect(await inFlight()).toBe(2);
    for (const s of sockets) s.destroy();
    // One handler ends after its client is gone; the other never ends: both must stop counting.
    await vi.waitFor(async () => expect(await inFlight()).toBeLessThanOrEqual(1), CONDITION);
    gates[0]!();
    await vi.waitFor(async () => expect(await inFlight()).toBe(0), CONDITION);
    expect((await app.inject('/eta')).statusCode).toBe(200);
    gates[1]!();
  });

  it('releases every admitted request when clients hang up at every stage of their requests', async () => {
    const built = await testService({ env: { MAX_IN_FLIGHT: '1000', MAX_QUEUE_MS: '0' } });
    app = built.app;
    app.post('/work', async () => {
      await sleep(2);
      return { eta: 1 };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const { hostname, port } = new URL(url);
    const body = JSON.stringify({ pad: 'x'.repeat(2000) });
    const head = `POST /work HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const s = connect(Number(port), hostname);
        s.on('error', () => {});
        await new Promise((resolve) => s.once('connect', resolve));
        // Some hang up before the body, some mid-body, some while the handler runs, some as it answers.
        s.write(head + body.slice(0, (i * 7) % body.length));
        if (i % 4 !== 0) s.write(body.slice((i * 7) % body.length));
        await sleep(i % 5);
        s.destroy();
      }),
    );
    await vi.waitFor(
      async () =>
        expect(/^http_requests_in_flight (\d+)$/m.exec((await app!.inject('/metrics')).body)?.[1]).toBe('0'),
      { timeout: 20_000 },
    );
  }, 30_000);
});

describe('admission in front of Fastify: a refusal over a real connection is written before routing', () => {
  /** One request over its own connection; the raw answer (status line, headers, body) as text. */
  function exchange(port: number, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () => sock.write(text));
      let got = '';
      sock.setEncoding('utf8').on('data', (c: string) => {
        got += c;
        const end = got.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(got)?.[1];
        if (end >= 0 && length !== undefined && got.length >= end + 4 + Number(length)) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('close', () => resolve(got));
      sock.on('error', reject);
    });
  }

  /** Listens, and holds the one admission slot (MAX_IN_FLIGHT=1) with a request to /slow over a real connection. */
  async function listenHoldingOne(service: ServiceApp) {
    const url = await service.listen({ port: 0, host: '127.0.0.1' });
    const agent = new Agent({ connections: 1 });
    const held = request(`${url}/slow`, { dispatcher: agent });
    await vi.waitFor(
      async () => expect((await service.inject('/metrics')).body).toMatch(/^http_requests_in_flight 1$/m),
      CONDITION,
    );
    return { port: Number(new URL(url).port), held, agent };
  }

  it('refuses with 503 OVERLOADED, Retry-After and the request id, runs no hook or handler, keeps probes up', async () => {
    const built = await testService({ env: { MAX_IN_FLIGHT: '1', MAX_QUEUE_MS: '0' } });
    app = built.app;
    const release = heldRoutes(app);
    let hooked = 0;
    // Fastify runs onSend for every answer it sends, a refusal in its onRequest hook included.
    app.addHook('onSend', async (_request, _reply, payload) => {
      hooked += 1;
      return payload;
    });
    const { port, held, agent } = await listenHoldingOne(app);
    const hookedBefore = hooked;
    const answer = await exchange(
      port,
      'POST /eta HTTP/1.1\r\nhost: a\r\nx-request-id: caller-42\r\ncontent-type: application/json\r\n' +
        'content-length: 9\r\n\r\n{"a":[1]}',
    );
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/^retry-after: 1$/im);
    expect(head).toMatch(/^x-request-id: caller-42$/im);
    expect(head).toMatch(/^content-type: application\/json; charset=utf-8$/im);
    expect(head).not.toMatch(/^connection: close$/im);
    expect(JSON.parse(body!)).toEqual({ code: 'OVERLOADED', message: 'server is overloaded; retry later' });
    // Refused in front of Fastify: none of its hooks ran for it (the one above counts every answer).
    expect(hooked).toBe(hookedBefore);
    for (const probe of ['/livez', '/readyz', '/metrics?x=1']) {
      expect(await exchange(port, `GET ${probe} HTTP/1.1\r\nhost: a\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
    }
    release();
    expect((await held).statusCode).toBe(200);
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/^http_requests_shed_total\{reason="in-flight"\} 1$/m);
    expect(metrics).toMatch(
      /^http_request_duration_seconds_count\{method="POST",route="\(refused\)",status_code="503"\} 1$/m,
    );
    // Admitted again once the held request is answered.
    expect(await exchange(port, 'GET /eta HTTP/1.1\r\nhost: a\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    await agent.close();
  });

  it("answers a refused request in its scope's error format, and cuts off an upload too large to read past", async () => {
    const built = await testService({ env: { MAX_IN_FLIGHT: '1', MAX_QUEUE_MS: '0' }, bodyLimit: 1024 });
    app = built.app;
    const release = heldRoutes(app);
    await app.register(
      async (scope) => {
        setErrorFormat(scope, {
          schema: z.object({ error: z.string(), code: z.string() }),
          format: (b) => ({ error: b.message, code: b.code }),
        });
        scope.post('/models/:name/infer', async () => ({ ok: true }));
      },
      { prefix: '/v2' },
    );
    const { port, held, agent } = await listenHoldingOne(app);
    const v2 = await exchange(
      port,
      'POST /v2/models/m/infer?x=1 HTTP/1.1\r\nhost: a\r\ncontent-length: 2\r\n\r\n{}',
    );
    expect(JSON.parse(v2.split('\r\n\r\n')[1]!)).toEqual({
      error: 'server is overloaded; retry later',
      code: 'OVERLOADED',
    });
    // 64 KiB declared against a 1 KiB limit, only the start sent: the answer still arrives, then the close.
    const big = await exchange(
      port,
      `POST /eta HTTP/1.1\r\nhost: a\r\ncontent-length: ${64 * 1024}\r\n\r\n${'x'.repeat(100)}`,
    );
    expect(big).toMatch(/^HTTP\/1\.1 503 /);
    expect(big).toMatch(/^connection: close$/im);
    release();
    expect((await held).statusCode).toBe(200);
    await agent.close();
  });
});
