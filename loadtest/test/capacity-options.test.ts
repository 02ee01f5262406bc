import { describe, expect, it } from 'vitest';
import {
  adminLoad,
  estimateLoad,
  explained,
  geoLoad,
  ownersFor,
  seoulMinuteOfDay,
} from '../lib/capacity/mixes.ts';
import { preciseAnswered, roughAnswered } from '../lib/estimates.ts';
import {
  DEFAULT_CAPACITY_SLO,
  DEFAULT_OUT,
  parseCapacityOptions,
  QUICK_OUT,
  roleOf,
} from '../lib/capacity/options.ts';
import { DEFAULT_SLO } from '../lib/meal-peak/options.ts';
import { seededRandom } from '../lib/mix.ts';

describe('capacity options', () => {
  it('defaults: every role, both cache cases, the meal-peak SLOs for the BFF routes, 0 errors', () => {
    const o = parseCapacityOptions({}, false);
    expect(o.roles).toEqual(['precise', 'rough', 'admin', 'geo', 'ml-proxy']);
    expect(o.cacheCases).toEqual(['cold', 'warm']);
    expect(o.slo.precise.p99Ms).toBe(DEFAULT_SLO.precise.p99Ms);
    expect(o.slo.admin.p99Ms).toBe(DEFAULT_SLO.admin.p99Ms);
    expect(o.slo.geo).toEqual(DEFAULT_CAPACITY_SLO.geo);
    expect(Object.values(o.slo).every((s) => s.maxErrorRate === 0)).toBe(true);
    expect(o.out).toBe(DEFAULT_OUT);
    expect(parseCapacityOptions({}, true).out).toBe(QUICK_OUT);
    expect(parseCapacityOptions({ BENCH_CAPACITY_OUT: 'none' }, false).out).toBeNull();
  });

  it('reads per-role values and role names in either form', () => {
    const o = parseCapacityOptions(
      {
        BENCH_CAPACITY_ROLES: 'vendor-bff-precise, ml',
        BENCH_CAPACITY_CACHE: 'warm',
        BENCH_CAPACITY_SLO_P99_MS: 'precise=25,ml-proxy=10',
        BENCH_CAPACITY_START: '2000',
        BENCH_CAPACITY_CALL_MIX: 'precise=1,rough=0',
      },
      false,
    );
    expect(o.roles).toEqual(['precise', 'ml-proxy']);
    expect(o.cacheCases).toEqual(['warm']);
    expect(o.slo.precise.p99Ms).toBe(25);
    expect(o.slo['ml-proxy'].p99Ms).toBe(10);
    expect(o.slo.rough.p99Ms).toBe(DEFAULT_SLO.rough.p99Ms);
    expect(o.bounds.geo.start).toBe(2000);
    expect(o.callMix).toEqual({ precise: 1, rough: 0 });
    expect(roleOf('vendor-bff-admin')).toBe('admin');
    expect(roleOf('checkout')).toBeUndefined();
  });

  it('names a bad value', () => {
    expect(() => parseCapacityOptions({ BENCH_CAPACITY_ROLES: 'precise,checkout' }, false)).toThrow(
      /checkout/,
    );
    expect(() => parseCapacityOptions({ BENCH_CAPACITY_CACHE: 'hot' }, false)).toThrow(
      /BENCH_CAPACITY_CACHE/,
    );
    expect(() => parseCapacityOptions({ BENCH_CAPACITY_SLO_P99_MS: 'precise=-1' }, false)).toThrow(/SLO_P99/);
    expect(() => parseCapacityOptions({ BENCH_CAPACITY_START: 'geo=1' }, false)).toThrow(
      /min <= start <= max/,
    );
  });
});

describe('capacity mixes', () => {
  const build = (entry: { build: (c: { i: number; random: () => number }) => unknown }, i = 0) =>
    entry.build({ i, random: seededRandom(i + 1) }) as {
      method: string;
      path: string;
      body?: string;
      headers?: Record<string, string>;
    };

  it('cold estimates: the store and destination differ on every request', () => {
    const load = estimateLoad(
      'rough',
      'cold',
      { authorization: 'Bearer t' },
      { pageSize: 50, stores: 5000 },
      null,
      10,
    );
    const a = JSON.parse(build(load.mix[0]!, 1).body!) as { storeIds: number[]; destination: unknown };
    const b = JSON.parse(build(load.mix[0]!, 2).body!) as { storeIds: number[]; destination: unknown };
    expect(a.storeIds).toHaveLength(50);
    expect(new Set(a.storeIds).size).toBe(50);
    expect(a.destination).not.toEqual(b.destination);
    expect(() => estimateLoad('precise', 'warm', {}, { pageSize: 50, stores: 5000 }, null, 10)).toThrow(
      /warm/,
    );
  });

  it('admin: owners in turn, each on one of its own stores, with its own token', () => {
    const owners = [
      { token: 'a', storeIds: [1, 2, 3] },
      { token: 'b', storeIds: [4, 5, 6] },
    ];
    const load = adminLoad(owners);
    const r0 = build(load.mix[0]!, 0);
    const r1 = build(load.mix[0]!, 1);
    expect(r0.headers!.authorization).toBe('Bearer a');
    expect(r1.headers!.authorization).toBe('Bearer b');
    expect(Number(/\/v1\/stores\/(\d+)\/settings/.exec(r1.path)![1])).toBeGreaterThanOrEqual(4);
    expect(ownersFor(8000, 1.5)).toBe(5334);
  });

  it('Geo: a pair call or a batch of pageSize + 1 points, by the call mix', () => {
    const load = geoLoad({ pageSize: 50, callMix: { precise: 0, rough: 1 } });
    expect(load.mix.map((e) => e.name)).toEqual(['batch']);
    const body = JSON.parse(build(load.mix[0]!).body!) as { destinations: unknown[] };
    expect(body.destinations).toHaveLength(51);
    const ok = {
      status: 200,
      headers: {},
      body: JSON.stringify({ results: body.destinations.map(() => ({})), errors: 0 }),
    };
    expect(load.check(ok, { path: '/v1/features/batch' })).toBe(true);
    expect(load.check({ ...ok, body: '{"results":[],"errors":0}' }, { path: '/v1/features/batch' })).toBe(
      false,
    );
  });

  it('a refused estimate says which estimate and why, the verdict unchanged', () => {
    const precise = explained(preciseAnswered);
    expect(precise({ body: '{"source":"model","degraded":false}' })).toBe(true);
    expect(() => precise({ body: '{"storeId":7,"source":"fallback","degraded":true}' })).toThrow(
      '1 of 1 estimates degraded or not from the model (first: store 7, source fallback, degraded true)',
    );
    const rough = explained(roughAnswered(3));
    const item = (storeId: number, degraded: boolean) => ({ storeId, source: 'rough', degraded });
    expect(
      rough({ body: JSON.stringify({ estimates: [item(1, false), item(2, false), item(3, false)] }) }),
    ).toBe(true);
    expect(() =>
      rough({ body: JSON.stringify({ estimates: [item(1, false), item(2, true), item(3, true)] }) }),
    ).toThrow(/^2 of 3 estimates degraded .* store 2, source rough, degraded true/);
    expect(() => rough({ body: JSON.stringify({ estimates: [item(1, false)] }) })).toThrow(
      /not what was asked/,
    );
  });

  it("Seoul's minute of the day is UTC+9", () => {
    expect(seoulMinuteOfDay(new Date('2026-12-06T00:00:00Z'))).toBe(9 * 60);
    expect(seoulMinuteOfDay(new Date('2026-12-06T15:30:00Z'))).toBe(30);
  });
});
