import { describe, expect, it } from 'vitest';
import { seededRandom, weightedPicker, type RequestSpec } from '../lib/index.ts';
import { HotSpotSampler } from '../lib/meal-peak/hotspots.ts';
import { cpuCores, hitRatios, parseScrape } from '../lib/meal-peak/metrics.ts';
import {
  answerCheck,
  newTallies,
  seoulDate,
  seoulTime,
  slotMix,
  type MixDeps,
  type RouteLog,
} from '../lib/meal-peak/requests.ts';
import { ROUTES } from '../lib/meal-peak/routes.ts';
import { StorePopularity } from '../lib/meal-peak/zipf.ts';

const area = (lat: number, lng: number) => lat > 37.4 && lat < 37.7 && lng > 126.8 && lng < 127.2;
const deps = (over: Partial<MixDeps> = {}): MixDeps => ({
  serviceHeaders: { authorization: 'Bearer service', 'content-type': 'application/json' },
  owners: [
    { headers: { authorization: 'Bearer owner-1' }, storeIds: [11, 12, 13] },
    { headers: { authorization: 'Bearer owner-2' }, storeIds: [21] },
  ],
  stores: new StorePopularity(5000, 1, 1),
  spots: new HotSpotSampler([{ name: 'a', lat: 37.5569, lng: 126.9237, weight: 1 }], {
    radiusM: 500,
    inArea: area,
  }),
  pageSize: 50,
  weights: { rough: 60, detail: 30, checkout: 9.5, admin: 0.5 },
  ...over,
});

/** Builds `count` requests the way the generator does: pick an entry by weight, then build it for index i. */
function build(mix: ReturnType<typeof slotMix>, count: number) {
  const pick = weightedPicker(mix);
  const r = seededRandom(1);
  const ctx = seededRandom(2);
  return Array.from({ length: count }, (_, i) => {
    const e = mix[pick(r())]!;
    return { name: e.name, spec: e.build({ i, random: ctx }) };
  });
}

describe('meal-peak requests', () => {
  const slot = { date: '2026-12-06', startMinute: 18 * 60 + 30, minutes: 15, count: 2000 };

  it('builds each entry as its route expects and logs every request’s route by index', () => {
    const routes: RouteLog = [];
    const reqs = build(slotMix(deps(), slot, routes), 2000);
    expect(routes).toHaveLength(2000);
    reqs.forEach(({ name, spec }, i) => {
      const route = ROUTES[routes[i]!];
      if (name === 'rough') {
        expect(route).toBe('rough');
        expect(spec).toMatchObject({ method: 'POST', path: '/v1/estimates/rough' });
        const body = JSON.parse(spec.body as string) as {
          storeIds: number[];
          destination: { lat: number; lng: number };
        };
        expect(new Set(body.storeIds).size).toBe(50);
        expect(area(body.destination.lat, body.destination.lng)).toBe(true);
      } else if (name === 'admin') {
        expect(route).toBe('admin');
        expect(spec.method).toBe('GET');
        expect(spec.path).toMatch(/^\/v1\/stores\/(11|12|13|21)\/settings$/);
        const owner = spec.path.includes('/21/') ? 'Bearer owner-2' : 'Bearer owner-1';
        expect(spec.headers?.authorization).toBe(owner);
      } else {
        expect(route).toBe('precise');
        expect(spec.path).toBe('/v1/estimates/precise');
        const body = JSON.parse(spec.body as string) as {
          orderedAt: string;
          rider?: unknown;
          order?: unknown;
        };
        // The simulated Seoul time of request i: 18:30 + 15 min x i / 2000.
        expect(body.orderedAt).toBe(seoulTime('2026-12-06', 18 * 60 + 30 + (15 * i) / 2000));
        expect(
          body.orderedAt >= '2026-12-06T18:30:00+09:00' && body.orderedAt < '2026-12-06T18:45:00+09:00',
        ).toBe(true);
        expect(body.rider !== undefined).toBe(name === 'checkout');
      }
    });
    const share = (n: string) => reqs.filter((r) => r.name === n).length / 2000;
    expect(share('rough')).toBeGreaterThan(0.55);
    expect(share('rough')).toBeLessThan(0.65);
    expect(share('admin')).toBeLessThan(0.02);
  });

  it('leaves the admin traffic out without owners', () => {
    const mix = slotMix(deps({ owners: [] }), slot, []);
    expect(mix.map((e) => e.name)).toEqual(['rough', 'detail', 'checkout']);
  });

  it('writes Seoul times with +09:00 and the Seoul date', () => {
    expect(seoulTime('2026-12-06', 0)).toBe('2026-12-06T00:00:00+09:00');
    expect(seoulTime('2026-12-06', 23 * 60 + 59.5)).toBe('2026-12-06T23:59:30+09:00');
    expect(seoulTime('2026-12-06', 24 * 60)).toBe('2026-12-06T23:59:59+09:00');
    // 16:00 UTC is already the next day in Seoul.
    expect(seoulDate(new Date('2026-12-06T16:00:00Z'))).toBe('2026-12-07');
  });

  it('counts answers, degraded ones and sources per route, and refuses wrong bodies', () => {
    const tallies = newTallies();
    const check = answerCheck(tallies, 2);
    const precise: RequestSpec = { method: 'POST', path: '/v1/estimates/precise' };
    const rough: RequestSpec = { method: 'POST', path: '/v1/estimates/rough' };
    const admin: RequestSpec = { method: 'GET', path: '/v1/stores/1/settings' };
    const ok = (body: unknown, req: RequestSpec) => check({ body: JSON.stringify(body) }, req);
    expect(ok({ source: 'model', degraded: false, etaMinutes: 20 }, precise)).toBe(true);
    expect(ok({ source: 'rough', degraded: true, etaMinutes: 20 }, precise)).toBe(true);
    expect(ok({ source: 'guess', degraded: false }, precise)).toBe(false);
    expect(
      ok(
        {
          estimates: [
            { source: 'rough', degraded: false },
            { source: 'manual', degraded: true },
          ],
        },
        rough,
      ),
    ).toBe(true);
    expect(ok({ estimates: [{ source: 'rough', degraded: false }] }, rough)).toBe(false); // one short
    expect(
      ok(
        {
          estimates: [
            { source: 'rough', degraded: false },
            { storeId: 9, error: { code: 'STORE_NOT_FOUND' } },
          ],
        },
        rough,
      ),
    ).toBe(false);
    expect(ok({ autoPrediction: true, manualPrepMinutes: 10 }, admin)).toBe(true);
    expect(ok({ code: 'X' }, admin)).toBe(false);
    expect(tallies.precise).toEqual({ answers: 2, degraded: 1, bySource: { model: 1, rough: 1 } });
    expect(tallies.rough).toEqual({ answers: 2, degraded: 1, bySource: { rough: 1, manual: 1 } });
    expect(tallies.admin.answers).toBe(1);
  });
});

describe('meal-peak /metrics reading', () => {
  const scrape = (
    hits: number,
    misses: number,
    cpu: number,
  ) => `# HELP cache_hits_total Cache lookups answered by a fresh value, per tier.
# TYPE cache_hits_total counter
cache_hits_total{cache="rough-estimates",tier="l1"} ${hits}
cache_hits_total{cache="rough-estimates",tier="l2"} 0
cache_hits_total{cache="stores",tier="l1"} 100
cache_misses_total{cache="rough-estimates",tier="l1"} ${misses}
cache_misses_total{tier="l2",cache="rough-estimates"} 0
cache_stale_total{cache="stores",tier="l1"} 5
cache_bypassed_total{cache="rough-estimates",tier="l2"} ${misses}
cache_errors_total{cache="rough-estimates",tier="compute"} 0
process_cpu_seconds_total ${cpu}
process_resident_memory_bytes 524288000
`;

  it('reads the cache counters per cache and tier, CPU and RSS', () => {
    const s = parseScrape(scrape(70, 30, 12.5));
    expect(s.caches.get('rough-estimates/l1')).toEqual({ hits: 70, stale: 0, misses: 30, bypassed: 0 });
    expect(s.caches.get('rough-estimates/l2')).toEqual({ hits: 0, stale: 0, misses: 0, bypassed: 30 });
    expect(s.caches.get('stores/l1')).toEqual({ hits: 100, stale: 5, misses: 0, bypassed: 0 });
    expect(s.caches.has('rough-estimates/compute')).toBe(false);
    expect(s.cpuSeconds).toBe(12.5);
    expect(s.rssBytes).toBe(524288000);
  });

  it('gives the hit ratio per tier and CPU cores between two scrapes', () => {
    const before = { bff: parseScrape(scrape(70, 30, 12.5)) };
    const after = { bff: parseScrape(scrape(250, 50, 14.5)) };
    const r = hitRatios(before, after);
    expect(r['bff/rough-estimates/l1']).toEqual({
      lookups: 200,
      hits: 180,
      stale: 0,
      misses: 20,
      bypassed: 0,
      hitRatio: 0.9,
    });
    expect(r['bff/rough-estimates/l2']!.hitRatio).toBeNull(); // no L2 lookups: Redis not configured
    expect(r['bff/rough-estimates/l2']!.bypassed).toBe(20);
    expect(r['bff/stores/l1']!.lookups).toBe(0);
    expect(cpuCores(before, after, 4)).toEqual({ bff: 0.5 });
    expect(parseScrape('').cpuSeconds).toBeNull();
  });
});
