import { describe, expect, it } from 'vitest';
import { runDay } from '../lib/meal-peak/day.ts';
import { planDay, SLOTS_PER_DAY } from '../lib/meal-peak/demand.ts';
import { HotSpotSampler } from '../lib/meal-peak/hotspots.ts';
import { parseScrape } from '../lib/meal-peak/metrics.ts';
import { slotMix } from '../lib/meal-peak/requests.ts';
import { ROUTES } from '../lib/meal-peak/routes.ts';
import { StorePopularity } from '../lib/meal-peak/zipf.ts';
import { json, startServer } from './helpers.ts';

describe('meal-peak day runner', () => {
  it('runs each slot at its rate and tells the routes apart in every figure', async () => {
    let lookups = 0;
    const server = await startServer((req, res, path) => {
      if (path === '/metrics') {
        res.end(
          `cache_hits_total{cache="rough-estimates",tier="l1"} ${lookups}\ncache_misses_total{cache="rough-estimates",tier="l1"} ${lookups}\nprocess_cpu_seconds_total 1\n`,
        );
        return true;
      }
      if (path === '/v1/estimates/precise')
        return json(res, 200, { source: 'model', degraded: false, etaMinutes: 20 });
      if (path === '/v1/estimates/rough') {
        lookups += 4;
        // One estimate in four degraded.
        return json(res, 200, {
          estimates: [0, 1, 2, 3].map((k) => ({ source: 'rough', degraded: k === 0 })),
        });
      }
      // The admin API refuses: its errors must stay its own.
      if (path.startsWith('/v1/stores/')) return json(res, 503, { code: 'OVERLOADED' });
      return false;
    });
    try {
      // Three slots of 400 ms (speed 2250) at 50, 100 and 50 requests/s.
      const share = Array.from({ length: SLOTS_PER_DAY }, (_, k) => (k === 41 ? 2 : 1));
      const plan = planDay(share, { peakRate: 100, speed: 2250, floor: 0.1, fromSlot: 40, toSlot: 42 });
      expect(plan.slots.map((s) => [s.label, s.rate, s.requests])).toEqual([
        ['10:00', 50, 20],
        ['10:15', 100, 40],
        ['10:30', 50, 20],
      ]);
      const area = () => true;
      const deps = {
        serviceHeaders: { authorization: 'Bearer s', 'content-type': 'application/json' },
        owners: [{ headers: { authorization: 'Bearer o' }, storeIds: [1] }],
        stores: new StorePopularity(100, 1, 1),
        spots: new HotSpotSampler([{ name: 'x', lat: 37.55, lng: 126.98, weight: 1 }], {
          radiusM: 100,
          inArea: area,
        }),
        pageSize: 4,
        weights: { rough: 50, detail: 20, checkout: 10, admin: 20 },
      };
      const lines: string[] = [];
      const day = await runDay({
        origin: server.origin,
        plan,
        warmupMs: 0,
        timeoutMs: 2000,
        seed: 1,
        pageSize: 4,
        mixFor: (slot, routes) =>
          slotMix(
            deps,
            { date: '2026-12-06', startMinute: slot.minuteOfDay, minutes: 15, count: slot.requests },
            routes,
          ),
        scrape: async () => ({ svc: parseScrape(await (await fetch(`${server.origin}/metrics`)).text()) }),
        out: (l) => lines.push(l),
      });

      expect(day.slots.map((s) => s.label)).toEqual(['10:00', '10:15', '10:30']);
      expect(day.slots.map((s) => s.total.scheduled)).toEqual([20, 40, 20]);
      expect(lines).toHaveLength(3);
      // What the server saw per path is what each route's figures say it was sent.
      const hits = (p: (path: string) => boolean) =>
        [...server.hits].filter(([path]) => p(path)).reduce((a, [, n]) => a + n, 0);
      expect(day.run.precise.scheduled).toBe(hits((p) => p === '/v1/estimates/precise'));
      expect(day.run.rough.scheduled).toBe(hits((p) => p === '/v1/estimates/rough'));
      expect(day.run.admin.scheduled).toBe(hits((p) => p.startsWith('/v1/stores/')));
      expect(ROUTES.reduce((a, r) => a + day.run[r].scheduled, 0)).toBe(80);
      // Admin's 503s are admin's errors only; the estimate routes answered every request.
      expect(day.run.admin.errors).toBe(day.run.admin.scheduled);
      expect(day.run.admin.errorsByKind).toEqual({ http_503: day.run.admin.scheduled });
      expect(day.run.precise.errors + day.run.rough.errors).toBe(0);
      expect(day.run.precise.p99Ms).not.toBeNull();
      expect(day.run.rough.degradedShare).toBe(0.25);
      for (const s of day.slots) {
        expect(ROUTES.reduce((a, r) => a + s.routes[r].scheduled, 0)).toBe(s.total.scheduled);
        expect(s.generator.scheduled).toBe(s.total.scheduled);
        expect(s.generator.startSlipMs).not.toBeNull();
      }
      // Cache counters read at the slots' edges (the server answers as many hits as misses).
      const tiers = day.slots.map((s) => s.caches?.['svc/rough-estimates/l1']);
      for (const t of tiers) expect(t === undefined || t.hitRatio === null || t.hitRatio === 0.5).toBe(true);
      expect(tiers.reduce((a, t) => a + (t?.lookups ?? 0), 0)).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  }, 30_000);
});
