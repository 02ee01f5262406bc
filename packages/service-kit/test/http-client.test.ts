import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpClient, Deadline, UpstreamError, type HttpClient } from '../src/index.ts';

/** A real upstream with one behaviour per path; `/hang` accepts the request and never answers. */
let upstream: Server;
let origin: string;
const seen: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
const clients: HttpClient[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '').split('?')[0];
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path === '/hang') return;
      if (path === '/eta') return json(200, { etaSeconds: 420 });
      if (path === '/echo') return json(200, JSON.parse(body) as unknown);
      if (path === '/unavailable') return json(503, { code: 'OVERLOADED', message: 'busy' });
      if (path === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html>oops</html>');
      }
      json(404, { code: 'NOT_FOUND', message: 'no' });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

function client(timeoutMs = 5000, registry?: Registry): HttpClient {
  const c = createHttpClient({
    name: 'geo',
    origin,
    timeoutMs,
    connections: 4,
    ...(registry ? { metricsRegistry: registry } : {}),
  });
  clients.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

describe('createHttpClient', () => {
  it('parses and validates a JSON answer, sending the budget and request id', async () => {
    const res = await client().request({
      method: 'GET',
      path: '/eta',
      query: { storeId: 's 1', skip: undefined },
      requestId: 'req-1',
      schema: z.object({ etaSeconds: z.number() }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.body.etaSeconds).toBe(420);
    const last = seen.at(-1);
    expect(last?.path).toBe('/eta?storeId=s+1');
    expect(last?.headers['x-request-timeout-ms']).toBe('5000');
    expect(last?.headers['x-request-id']).toBe('req-1');
  });

  it('sends a JSON body', async () => {
    const res = await client().request({ method: 'POST', path: '/echo', body: { lat: 37.5 } });
    expect(res.body).toEqual({ lat: 37.5 });
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json');
  });

  it('cuts an upstream that never answers at the inbound deadline, and sends what is left of it', async () => {
    const c = client(5000);
    const deadline = new Deadline(150);
    const err = await failure(c.request({ method: 'GET', path: '/hang', deadline }));
    expect(err.kind).toBe('timeout');
    expect(err.upstream).toBe('geo');
    expect(deadline.expired).toBe(true);
    const sent = Number(seen.find((s) => s.path === '/hang')?.headers['x-request-timeout-ms']);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(150);
  });

  it("cuts an upstream that never answers at the call's own timeout when that is shorter", async () => {
    const c = client(5000);
    const err = await failure(
      c.request({ method: 'GET', path: '/hang', timeoutMs: 80, deadline: new Deadline(60_000) }),
    );
    expect(err.kind).toBe('timeout');
    expect(err.message).toContain('80 ms');
  });

  it('does not send at all when the deadline has already passed', async () => {
    const before = seen.length;
    const spent = { remainingMs: () => 0 };
    const err = await failure(client().request({ method: 'GET', path: '/eta', deadline: spent }));
    expect(err.kind).toBe('timeout');
    expect(seen.length).toBe(before);
  });

  it('maps error statuses to kind status, keeping the upstream error body', async () => {
    const err = await failure(client().request({ method: 'GET', path: '/unavailable' }));
    expect(err).toMatchObject({
      kind: 'status',
      statusCode: 503,
      body: { code: 'OVERLOADED', message: 'busy' },
    });
  });

  it('maps a non-JSON or off-schema answer to kind bad-body', async () => {
    const html = await failure(client().request({ method: 'GET', path: '/html' }));
    expect(html.kind).toBe('bad-body');
    const shape = await failure(
      client().request({ method: 'GET', path: '/eta', schema: z.object({ etaSeconds: z.string() }) }),
    );
    expect(shape.kind).toBe('bad-body');
    expect(shape.message).toContain('etaSeconds');
  });

  it('maps a refused connection to kind connect', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const c = createHttpClient({ name: 'ml', origin: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    clients.push(c);
    const err = await failure(c.request({ method: 'GET', path: '/x' }));
    expect(err.kind).toBe('connect');
    expect(err.upstream).toBe('ml');
  });

  it('records call durations by upstream and outcome when given a registry', async () => {
    const registry = new Registry();
    const a = client(5000, registry);
    const b = client(5000, registry);
    await a.request({ method: 'GET', path: '/eta' });
    await failure(b.request({ method: 'GET', path: '/unavailable' }));
    const text = await registry.metrics();
    expect(text).toContain(
      'http_client_request_duration_seconds_count{client="geo",method="GET",outcome="200"} 1',
    );
    expect(text).toContain(
      'http_client_request_duration_seconds_count{client="geo",method="GET",outcome="503"} 1',
    );
  });

  it('rejects a path that is not relative to the origin', async () => {
    await expect(client().request({ method: 'GET', path: 'http://evil.example/x' })).rejects.toThrow(
      TypeError,
    );
  });
});
