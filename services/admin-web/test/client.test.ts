import { describe, expect, it } from 'vitest';
import { ApiError, createApiClient, type FetchLike, parseRetryAfter } from '../src/api/client.ts';
import { describeApiError } from '../src/i18n/text.ts';
import { settingsBody } from './fixtures.ts';
import { en, ko } from './intl.ts';

interface Seen {
  url: string;
  init: RequestInit;
}

/** A fetch that records the request and answers with `respond`. */
function fakeFetch(respond: (req: Seen) => Response | Promise<Response>): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    fetch: async (url, init) => {
      const req = { url, init };
      seen.push(req);
      return respond(req);
    },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const header = (init: RequestInit, name: string) => new Headers(init.headers).get(name);

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('api client', () => {
  it('sends the bearer token read at call time and parses the answer with the contract', async () => {
    let token: string | null = 'a.b.c';
    const f = fakeFetch(() => json(200, { subject: 'owner-1', role: 'owner', storeIds: [7, 9] }));
    const api = createApiClient({ getToken: () => token, fetch: f.fetch, baseUrl: 'http://x' });

    expect(await api.me()).toEqual({ subject: 'owner-1', role: 'owner', storeIds: [7, 9] });
    expect(f.seen[0]?.url).toBe('http://x/v1/me');
    expect(header(f.seen[0]!.init, 'authorization')).toBe('Bearer a.b.c');

    token = null;
    await api.me();
    expect(header(f.seen[1]!.init, 'authorization')).toBeNull();
  });

  it('saves with If-Match of the version the edit started from and returns the new settings', async () => {
    const saved = settingsBody({ version: 4, manualPrepMinutes: 25 });
    const f = fakeFetch(() => json(200, saved, { etag: '"4"' }));
    const api = createApiClient({ getToken: () => 't.t.t', fetch: f.fetch });
    const body = {
      autoPrediction: true,
      manualPrepMinutes: 25,
      manualDeliveryMinutes: 20,
      minShownMinutes: null,
      maxShownMinutes: null,
      busy: null,
    };

    const outcome = await api.saveSettings(7, 3, body);

    expect(outcome).toEqual({ kind: 'saved', settings: saved });
    const req = f.seen[0]!;
    expect(req.url).toBe('/v1/stores/7/settings');
    expect(req.init.method).toBe('PUT');
    expect(header(req.init, 'if-match')).toBe('"3"');
    expect(header(req.init, 'content-type')).toBe('application/json');
    expect(JSON.parse(String(req.init.body))).toEqual(body);
  });

  it('turns a 412 into a conflict outcome carrying the server’s current settings', async () => {
    const current = settingsBody({ version: 5, manualDeliveryMinutes: 30 });
    const f = fakeFetch(() =>
      json(412, { code: 'PRECONDITION_FAILED', message: 'settings changed since version 3', current }),
    );
    const api = createApiClient({ getToken: () => 't.t.t', fetch: f.fetch });

    const outcome = await api.saveSettings(7, 3, {
      autoPrediction: false,
      manualPrepMinutes: 10,
      manualDeliveryMinutes: 20,
      minShownMinutes: null,
      maxShownMinutes: null,
      busy: null,
    });

    expect(outcome).toEqual({ kind: 'conflict', current, message: 'settings changed since version 3' });
  });

  it('parses error bodies: code, message, details and Retry-After', async () => {
    const f = fakeFetch(({ url }) =>
      url.endsWith('/settings')
        ? json(400, {
            code: 'VALIDATION_ERROR',
            message: 'body.busy.until: busy until must be in the future',
            details: [{ path: 'body.busy.until', message: 'busy until must be in the future' }],
          })
        : json(429, { code: 'RATE_LIMITED', message: 'slow down' }, { 'retry-after': '12' }),
    );
    const api = createApiClient({ getToken: () => 't.t.t', fetch: f.fetch });

    const bad = await rejection(
      api.saveSettings(7, 3, {
        autoPrediction: true,
        manualPrepMinutes: 1,
        manualDeliveryMinutes: 1,
        minShownMinutes: null,
        maxShownMinutes: null,
        busy: { extraMinutes: 5, until: '2020-01-01T00:00:00Z' },
      }),
    );
    expect(bad.status).toBe(400);
    expect(bad.code).toBe('VALIDATION_ERROR');
    expect(bad.details).toEqual([{ path: 'body.busy.until', message: 'busy until must be in the future' }]);

    const limited = await rejection(api.history(7));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.retryAfterSeconds).toBe(12);
    expect(describeApiError(en.intl, limited)).toBe('Too many requests. Try again in 12 s.');
    expect(describeApiError(ko.intl, limited)).toBe('요청이 너무 많습니다. 12초 후에 다시 시도해 주세요.');
  });

  it('names a body without an error code by its status (a proxy’s HTML page)', async () => {
    const f = fakeFetch(
      () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const err = await rejection(createApiClient({ getToken: () => null, fetch: f.fetch }).store(7));
    expect(err.code).toBe('HTTP_502');
    expect(err.status).toBe(502);
    expect(describeApiError(en.intl, err)).toBe('The server had a problem. Try again in a moment.');
    expect(describeApiError(ko.intl, err)).toBe('서버에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.');
  });

  it('refuses an answer that does not match the contract instead of rendering it', async () => {
    const f = fakeFetch(() => json(200, { storeId: 7, points: 'soon' }));
    const err = await rejection(createApiClient({ getToken: () => null, fetch: f.fetch }).preview(7));
    expect(err.code).toBe('BAD_RESPONSE');
  });

  it('passes the preview destination as lat/lng query parameters', async () => {
    const points = Array.from({ length: 24 }, (_, hour) => ({
      hour,
      etaMinutes: 30,
      low: 25,
      high: 35,
      source: 'model',
    }));
    const f = fakeFetch(() => json(200, { storeId: 7, destination: { lat: 37.5, lng: 127.03 }, points }));
    await createApiClient({ getToken: () => null, fetch: f.fetch }).preview(7, { lat: 37.5, lng: 127.03 });
    expect(f.seen[0]?.url).toBe('/v1/stores/7/preview?lat=37.5&lng=127.03');
  });

  it('asks for a day’s accuracy by date and parses the answer with the contract', async () => {
    const answer = {
      storeId: 7,
      date: '2026-03-03',
      timeZone: 'Asia/Seoul',
      day: { orders: 1, maeMinutes: 4, biasMinutes: -4, coverage: 1 },
      hours: [{ hour: 12, orders: 1, maeMinutes: 4, biasMinutes: -4, coverage: 1 }],
      models: [{ model: 'eta-precise@2', orders: 1, maeMinutes: 4, biasMinutes: -4, coverage: 1 }],
      points: [
        {
          orderId: 'o-1',
          deliveredAt: '2026-03-03T12:40:00+09:00',
          predictedMinutes: 36,
          low: 30,
          high: 45,
          actualMinutes: 40,
          model: 'eta-precise@2',
        },
      ],
    };
    const f = fakeFetch(() => json(200, answer));
    const api = createApiClient({ getToken: () => null, fetch: f.fetch });
    expect(await api.accuracy(7, '2026-03-03')).toEqual(answer);
    expect(f.seen[0]?.url).toBe('/v1/stores/7/accuracy?date=2026-03-03');
    await api.accuracy(7);
    expect(f.seen[1]?.url).toBe('/v1/stores/7/accuracy');

    // An answer from a server out of step with the contract is refused, not drawn.
    const wrong = fakeFetch(() => json(200, { ...answer, timeZone: 'UTC' }));
    const err = await rejection(createApiClient({ getToken: () => null, fetch: wrong.fetch }).accuracy(7));
    expect(err.code).toBe('BAD_RESPONSE');
  });

  it('gives up after the timeout with TIMEOUT', async () => {
    // Answers only when aborted, as a server that never replies would.
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const err = await rejection(
      createApiClient({ getToken: () => null, fetch: hanging, timeoutMs: 20 }).me(),
    );
    expect(err.code).toBe('TIMEOUT');
    expect(err.status).toBe(0);
  });

  it('reports a failed connection as NETWORK_ERROR', async () => {
    const down: FetchLike = () => Promise.reject(new TypeError('fetch failed'));
    const err = await rejection(createApiClient({ getToken: () => null, fetch: down }).me());
    expect(err.code).toBe('NETWORK_ERROR');
  });

  it('lets the caller’s own cancellation through as itself, not as an error to show', async () => {
    const hanging: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const controller = new AbortController();
    const call = createApiClient({ getToken: () => null, fetch: hanging }).me({ signal: controller.signal });
    const reason = new Error('store changed');
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    const now = new Date('2026-03-03T05:30:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter('Tue, 03 Mar 2026 05:30:45 GMT', now)).toBe(45);
    expect(parseRetryAfter('Tue, 03 Mar 2026 05:29:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
