// Per-subject rate limits: the token bucket itself (with a test clock), and through the app: one subject
// that exhausts its limit gets 429 RATE_LIMITED with Retry-After while another subject is not touched, on
// the estimate API (per calling service: shared token, service JWT, mesh identity; SERVICE_RATE_LIMIT_*,
// off by default) and on the admin API (per token subject; ADMIN_RATE_LIMIT_*). Assertions count requests,
// never time: a refill between two requests can only let more through, so each loop sends until the 429 it
// must see, within a bound the rate cannot reach in the loop's time.
import { parseEnv } from '@eta/config';
import type { ServiceApp } from '@eta/service-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../src/auth/rate-limit.ts';
import { configSchema } from '../../src/config.ts';
import { POLICY } from './policy.ts';
import {
  buildFor,
  createProvider,
  MESH_HEADER,
  openFixture,
  securityEnv,
  SERVICE_TOKEN,
  type Fixture,
  type Provider,
} from './support.ts';

describe('the token bucket', () => {
  afterEach(() => vi.useRealTimers());

  it('lets `burst` through at once, then one per 1/rate, and says when to retry', () => {
    let t = 0;
    const limiter = createRateLimiter({ perMinute: 6, burst: 3, now: () => t });
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
    // 6 per minute: the next token in 10 s.
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    t += 9_000;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t += 1_000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    // Refilled to the burst, never above it.
    t += 3_600_000;
    expect([1, 2, 3, 4].map(() => limiter.take('a').allowed)).toEqual([true, true, true, false]);
  });

  it('keeps one bucket per key: an exhausted key leaves every other key its whole burst', () => {
    const t = 0;
    const limiter = createRateLimiter({ perMinute: 1, burst: 5, now: () => t });
    for (let i = 0; i < 50; i++) limiter.take('greedy');
    expect(limiter.take('greedy').allowed).toBe(false);
    for (const key of ['calm', 'other']) {
      expect(Array.from({ length: 5 }, () => limiter.take(key).allowed)).toEqual([
        true,
        true,
        true,
        true,
        true,
      ]);
      expect(limiter.take(key).allowed).toBe(false);
    }
  });

  it('is bounded in keys, dropping the least recently seen (a full bucket loses nothing)', () => {
    const t = 0;
    const limiter = createRateLimiter({ perMinute: 1, burst: 1, maxKeys: 2, now: () => t });
    limiter.take('a');
    limiter.take('b');
    limiter.take('a');
    limiter.take('c'); // drops b, the least recently seen
    expect(limiter.size).toBe(2);
    expect(limiter.take('a').allowed).toBe(false);
    expect(limiter.take('b').allowed).toBe(true);
  });

  describe('regression: a wall clock stepped back refilled the buckets', () => {
    it('counts time on a monotonic clock by default, so a step back and forth of the date refills nothing', () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      const start = Date.now();
      const limiter = createRateLimiter({ perMinute: 1, burst: 1 });
      expect(limiter.take('a').allowed).toBe(true);
      // NTP steps the wall clock back a minute, then forward again: no real time passed.
      vi.setSystemTime(start - 60_000);
      expect(limiter.take('a').allowed).toBe(false);
      vi.setSystemTime(start);
      expect(limiter.take('a').allowed).toBe(false);
    });
  });
});

describe('config', () => {
  const base = { ROLE: 'all', AUTH_DEV_KEYS: 'true' };
  it('leaves the estimate API unlimited by default and takes one second of the rate as the burst', () => {
    const off = parseEnv(configSchema, base);
    expect(off.SERVICE_RATE_LIMIT_PER_SECOND).toBe(0);
    expect(off.SERVICE_RATE_LIMIT_BURST).toBeUndefined();
    const on = parseEnv(configSchema, { ...base, SERVICE_RATE_LIMIT_PER_SECOND: '500' });
    expect(on.SERVICE_RATE_LIMIT_PER_SECOND).toBe(500);
  });

  it.each([
    ['SERVICE_RATE_LIMIT_PER_SECOND', '-1'],
    ['SERVICE_RATE_LIMIT_PER_SECOND', 'lots'],
    ['SERVICE_RATE_LIMIT_BURST', '0'],
  ])('refuses %s=%s at start', (key, value) => {
    expect(() => parseEnv(configSchema, { ...base, [key]: value })).toThrow(key);
  });
});

let fixture: Fixture;
let idp: Provider;
beforeAll(async () => {
  [fixture, idp] = await Promise.all([openFixture(), createProvider('ES256', 'limits-1')]);
}, 120_000);
afterAll(() => fixture?.close());

const OTHER_TOKEN = 'security-tests-search-token-abcdef0123456789';
const BURST = 5;
/** 1 request per second at most: the loops below finish long before a second token could matter. */
const estimateLimits = {
  SERVICE_TOKENS: `checkout:${SERVICE_TOKEN},search:${OTHER_TOKEN}`,
  SERVICE_RATE_LIMIT_PER_SECOND: '1',
  SERVICE_RATE_LIMIT_BURST: String(BURST),
};

const precise = POLICY['POST /v1/estimates/precise']!.probe;
const rough = POLICY['POST /v1/estimates/rough']!.probe;

/** Sends until the first 429 (at most `bound` requests); returns the statuses and the 429 itself. */
async function exhaust<R extends { readonly statusCode: number }>(
  send: () => Promise<R>,
  bound: number,
): Promise<{ statuses: number[]; limited: R | undefined }> {
  const statuses: number[] = [];
  for (let i = 0; i < bound; i++) {
    const res = await send();
    statuses.push(res.statusCode);
    if (res.statusCode === 429) return { statuses, limited: res };
  }
  return { statuses, limited: undefined };
}

describe('the estimate API: one calling service at its limit leaves the others alone', () => {
  let app: ServiceApp;
  beforeAll(async () => {
    app = await buildFor(fixture, securityEnv(fixture, 'all', idp, estimateLimits));
  }, 60_000);
  afterAll(() => app?.close());

  const call =
    (headers: Record<string, string>, probe = precise) =>
    () =>
      app.inject({ method: 'POST', url: probe.url, headers, payload: probe.payload! });

  it('429 RATE_LIMITED with Retry-After past the burst, for the subject that sent them, on both routes', async () => {
    const greedy = { authorization: `Bearer ${SERVICE_TOKEN}` };
    const { statuses, limited } = await exhaust(call(greedy), BURST + 20);
    expect(statuses.slice(0, BURST)).toEqual(Array(BURST).fill(200));
    expect(limited?.statusCode).toBe(429);
    expect(limited?.json()).toEqual({ code: 'RATE_LIMITED', message: expect.stringMatching(/retry after/) });
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The bucket is the caller's, not the route's: the rough route does not get a burst of its own.
    const onRough = await exhaust(call(greedy, rough), BURST + 20);
    expect(onRough.statuses.length).toBeLessThan(BURST);

    // Every other calling service, whatever its credential, still has its whole burst.
    const others: [string, Record<string, string>][] = [
      ['another shared token', { authorization: `Bearer ${OTHER_TOKEN}` }],
      [
        'a service JWT',
        { authorization: `Bearer ${await idp.sign({ role: 'service' }, { sub: 'tracking' })}` },
      ],
      ['a mesh identity', { [MESH_HEADER]: 'URI=spiffe://cluster.local/ns/shop/sa/store-list' }],
    ];
    for (const [name, headers] of others) {
      const got: number[] = [];
      for (let i = 0; i < BURST; i++)
        got.push((await call(headers, i % 2 === 0 ? precise : rough)()).statusCode);
      expect({ name, got }).toEqual({ name, got: Array(BURST).fill(200) });
    }
  });

  it('a refused credential is not counted against anybody (401 before the limiter)', async () => {
    const forged = { authorization: 'Bearer checkout-token-that-nobody-configured-000' };
    for (let i = 0; i < BURST * 3; i++) expect((await call(forged)()).statusCode).toBe(401);
    const headers = { authorization: `Bearer ${await idp.sign({ role: 'service' }, { sub: 'fresh' })}` };
    for (let i = 0; i < BURST; i++) expect((await call(headers)()).statusCode).toBe(200);
  });

  it('the admin API is limited on its own: an estimate caller at its limit does not touch an owner', async () => {
    const script = { authorization: `Bearer ${SERVICE_TOKEN}` };
    expect((await exhaust(call(script), BURST + 20)).limited?.statusCode).toBe(429);
    const owner = {
      authorization: `Bearer ${await idp.sign({ role: 'owner', stores: [1] }, { sub: 'kim' })}`,
    };
    for (let i = 0; i < BURST; i++) {
      expect((await app.inject({ method: 'GET', url: '/v1/me', headers: owner })).statusCode).toBe(200);
    }
  });
});

describe('the estimate API with the default config', () => {
  it('does not limit a busy caller (SERVICE_RATE_LIMIT_PER_SECOND is off)', async () => {
    const app = await buildFor(fixture, securityEnv(fixture, 'all', idp));
    try {
      const headers = { authorization: `Bearer ${SERVICE_TOKEN}` };
      const statuses = new Set<number>();
      for (let i = 0; i < 300; i++) {
        statuses.add(
          (await app.inject({ method: 'POST', url: rough.url, headers, payload: rough.payload! })).statusCode,
        );
      }
      expect([...statuses]).toEqual([200]);
    } finally {
      await app.close();
    }
  });
});

describe('the admin API: one owner at the limit leaves other owners and operators alone', () => {
  it('429 RATE_LIMITED with Retry-After for the subject past its burst; others unaffected', async () => {
    const app = await buildFor(
      fixture,
      securityEnv(fixture, 'admin', idp, {
        ADMIN_RATE_LIMIT_BURST: String(BURST),
        ADMIN_RATE_LIMIT_PER_MINUTE: '1',
      }),
    );
    try {
      const me = (headers: Record<string, string>) => () =>
        app.inject({ method: 'GET', url: '/v1/me', headers });
      const script = {
        authorization: `Bearer ${await idp.sign({ role: 'owner', stores: [1] }, { sub: 'script' })}`,
      };
      const { statuses, limited } = await exhaust(me(script), BURST + 20);
      expect(statuses.slice(0, BURST)).toEqual(Array(BURST).fill(200));
      expect(limited?.json<{ code: string }>().code).toBe('RATE_LIMITED');
      expect(Number(limited?.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      // The same subject on a new token is the same subject: still limited.
      const again = {
        authorization: `Bearer ${await idp.sign({ role: 'owner', stores: [1, 2] }, { sub: 'script' })}`,
      };
      expect((await me(again)()).statusCode).toBe(429);
      for (const [sub, claims] of [
        ['kim', { role: 'owner', stores: [1] }],
        ['support-1', { role: 'operator' }],
      ] as const) {
        const headers = { authorization: `Bearer ${await idp.sign(claims, { sub })}` };
        const got = await Promise.all(Array.from({ length: BURST }, () => me(headers)()));
        expect({ sub, got: got.map((r) => r.statusCode) }).toEqual({ sub, got: Array(BURST).fill(200) });
      }
    } finally {
      await app.close();
    }
  });
});
