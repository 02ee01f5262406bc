// Regression (issue 12): the service kit's admission control answered a shed /v2 request
// `{ code, message }`, which has no `error`, so a V2 client (tritonclient) could not decode the 503.
// A request is held in flight by a body that has not finished arriving (admission counts it from its
// headers on), so the next one is refused with no timing involved.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MlProxyApp } from '../../src/app.ts';
import { fixture, inferBody, NEWEST, startApp, type Fixture } from '../helpers.ts';

describe('regression: a shed /v2 request is a V2 error { error, code }', { timeout: 30_000 }, () => {
  let app: MlProxyApp;
  let precise: Fixture;

  beforeAll(async () => {
    precise = await fixture('eta-precise', NEWEST);
    app = await startApp({ MAX_IN_FLIGHT: '1' });
  }, 60_000);
  afterAll(() => app.close());

  const inFlight = async () =>
    Number(/^http_requests_in_flight (\d+)$/m.exec((await app.inject('/metrics')).body)?.[1]);

  it('answers 503 OVERLOADED as { error, code } with Retry-After past MAX_IN_FLIGHT, and serves again after', async () => {
    const body = JSON.stringify(inferBody(precise));
    const slow = new PassThrough();
    slow.write(body.slice(0, 10));
    const held = app.inject({
      method: 'POST',
      url: '/v2/models/eta-precise/infer',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      payload: slow,
    });
    // Waits for a condition get a cap no busy machine comes near (vi.waitFor's own is 1 s).
    await vi.waitFor(async () => expect(await inFlight()).toBe(1), { timeout: 15_000, interval: 20 });

    for (const url of ['/v2/models/eta-precise/infer', '/v2/models/eta-precise/versions/1/infer']) {
      const shed = await app.inject({ method: 'POST', url, payload: inferBody(precise) });
      expect(shed.statusCode).toBe(503);
      expect(shed.headers['retry-after']).toBe('1');
      expect(shed.json()).toEqual({ error: 'server is overloaded; retry later', code: 'OVERLOADED' });
    }
    const metadata = await app.inject('/v2/models/eta-precise');
    expect(metadata.statusCode).toBe(503);
    expect(metadata.json()).toEqual({ error: 'server is overloaded; retry later', code: 'OVERLOADED' });
    // The kit's own routes keep the suite's form.
    expect((await app.inject('/openapi.json')).json()).toEqual({
      code: 'OVERLOADED',
      message: 'server is overloaded; retry later',
    });

    slow.end(body.slice(10));
    expect((await held).statusCode).toBe(200);
    await vi.waitFor(async () => expect(await inFlight()).toBe(0), { timeout: 15_000, interval: 20 });
    expect(
      (await app.inject({ method: 'POST', url: '/v2/models/eta-precise/infer', payload: inferBody(precise) }))
        .statusCode,
    ).toBe(200);
  });
});
