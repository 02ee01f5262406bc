// The replay's plan on the real inputs: the shared orders file, the BFF's seeded stores and Geo's index
// (the services' own code and data, loaded as the replay loads them). Checked against Geo's own functions,
// loaded separately: the distance of every planned destination, its region class and dong.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RegionClass } from '@eta/contracts';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOrdersFile, type DatasetOrder } from '../lib/replay/dataset.ts';
import { parseTimeOfDay } from '../lib/replay/options.ts';
import {
  DAY_START_S,
  ORDER_STEPS,
  planOrder,
  planReplay,
  schedule,
  selectRows,
  type Plan,
  type PlannedOrder,
} from '../lib/replay/plan.ts';
import { defaultDataPath } from '../lib/replay/replay.ts';
import { loadWorld, type World } from '../lib/replay/world.ts';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

interface GeoDomain {
  haversineM(lat1: number, lng1: number, lat2: number, lng2: number): number;
  loadGeoIndex(dir: string): Promise<{
    lookup(
      lat: number,
      lng: number,
    ): { inServiceArea: boolean; dong?: { code: string; regionClass: RegionClass } };
  }>;
  DEFAULT_DATA_DIR: string;
}

let rows: readonly DatasetOrder[];
let world: World;
let geo: GeoDomain;
let geoIndex: Awaited<ReturnType<GeoDomain['loadGeoIndex']>>;

beforeAll(async () => {
  geo = (await import(pathToFileURL(join(ROOT, 'services/geo/src/domain/index.ts')).href)) as GeoDomain;
  const [data, w, index] = await Promise.all([
    readOrdersFile(defaultDataPath(ROOT)),
    loadWorld(ROOT),
    geo.loadGeoIndex(geo.DEFAULT_DATA_DIR),
  ]);
  rows = data.orders;
  world = w;
  geoIndex = index;
}, 60_000);

const opts = (over: Partial<Parameters<typeof planReplay>[2]> = {}) => ({
  seed: 1,
  runId: 'test',
  orders: 400,
  ...over,
});

// Planning takes a second or more on a busy machine: the cap is far above that, not a bound on speed.
describe('planReplay', { timeout: 60_000 }, () => {
  it('is the same plan for the same seed and options', () => {
    const a = planReplay(rows, world, opts());
    const b = planReplay(rows, world, opts());
    expect(a.orders).toHaveLength(400);
    expect(b).toEqual(a);
    expect(schedule(b.orders, { speed: 60, maxDurationMs: 3_600_000 })).toEqual(
      schedule(a.orders, { speed: 60, maxDurationMs: 3_600_000 }),
    );
  });

  it('differs with the seed: other orders, and other stores and destinations for the same order', () => {
    const a = planReplay(rows, world, opts());
    const b = planReplay(rows, world, opts({ seed: 2 }));
    const idsA = new Set(a.orders.map((o) => o.sourceId));
    const shared = b.orders.filter((o) => idsA.has(o.sourceId)).length;
    // Two seeded samples of 400 of ~33,600 rows share a handful at most.
    expect(shared).toBeLessThan(40);
    const row = rows[0]!;
    const one = planOrder(row, world, { seed: 1, runId: 'test' })!;
    const two = planOrder(row, world, { seed: 2, runId: 'test' })!;
    expect(two.destination).not.toEqual(one.destination);
  });

  it('plans an order from its own row alone: a smaller run is part of a larger one', () => {
    const small = planReplay(rows, world, opts({ orders: 100 }));
    const large = new Map(planReplay(rows, world, opts({ orders: 300 })).orders.map((o) => [o.orderId, o]));
    for (const o of small.orders) expect(large.get(o.orderId)).toEqual(o);
  });

  it('names orders <run id>-<dataset id> and refuses a run id an order id cannot start with', () => {
    const plan = planReplay(rows, world, opts({ runId: 'r1x', orders: 5 }));
    for (const o of plan.orders) expect(o.orderId).toBe(`r1x-${o.sourceId}`);
    expect(() => planReplay(rows, world, opts({ runId: '-bad' }))).toThrow(/run id/);
    expect(() => planReplay(rows, world, opts({ runId: 'x'.repeat(21) }))).toThrow(/run id/);
  });

  // Every rare row (Semi-Urban and NaN City) and a seeded sample of the rest: planning all ~33,600 takes
  // 10 s or more on a busy machine (none of them is unplaceable with seed 1: `pnpm replay -- --dry-run`).
  describe('a large sample of the file', () => {
    let sample: Plan;
    const sourceRow = new Map<string, DatasetOrder>();
    beforeAll(() => {
      const rare = rows.filter((r) => r.regionClass === null || r.regionClass === 'semi-urban');
      const picked = [...new Set([...rare, ...selectRows(rows, { seed: 1, orders: 3_000 })])];
      for (const r of picked) sourceRow.set(r.id, r);
      sample = planReplay(picked, world, opts({ orders: picked.length }));
    }, 60_000);

    it('finds a place for every row', () => {
      expect(sourceRow.size).toBeGreaterThan(3_500);
      expect(sample.unplaceable).toEqual([]);
      expect(sample.orders).toHaveLength(sourceRow.size);
    });

    it('keeps the dataset distance between the seeded store and the destination (Geo haversine, within 1 m)', () => {
      const wrongOrigin: string[] = [];
      let worst = 0;
      for (const o of sample.orders) {
        const store = world.stores[o.storeId - 1]!;
        if (store.id !== o.storeId || store.lat !== o.origin.lat || store.lng !== o.origin.lng) {
          wrongOrigin.push(o.orderId);
        }
        const d = geo.haversineM(o.origin.lat, o.origin.lng, o.destination.lat, o.destination.lng);
        worst = Math.max(worst, Math.abs(d - sourceRow.get(o.sourceId)!.distanceM));
      }
      expect(wrongOrigin).toEqual([]);
      // Destinations are rounded to 1e-6 degrees (about 0.1 m).
      expect(worst).toBeLessThan(1);
    });

    it("puts every destination in Seoul, in a dong of the row's region class, and says which dong", () => {
      const mismatches: string[] = [];
      const classes = { metropolitan: 0, urban: 0, 'semi-urban': 0, any: 0 };
      for (const o of sample.orders) {
        const r = geoIndex.lookup(o.destination.lat, o.destination.lng);
        const want = sourceRow.get(o.sourceId)!.regionClass;
        if (o.requiredClass !== want) mismatches.push(`${o.orderId}: required ${o.requiredClass}`);
        if (!r.inServiceArea || r.dong === undefined) mismatches.push(`${o.orderId}: outside Seoul`);
        else {
          if (want !== null && r.dong.regionClass !== want)
            mismatches.push(`${o.orderId}: ${r.dong.regionClass}`);
          if (r.dong.code !== o.dongCode)
            mismatches.push(`${o.orderId}: dong ${r.dong.code} vs ${o.dongCode}`);
          if (r.dong.regionClass !== o.regionClass)
            mismatches.push(`${o.orderId}: class says ${o.regionClass}`);
          classes[want ?? 'any']++;
        }
      }
      expect(mismatches).toEqual([]);
      // Every class occurs, NaN City included.
      expect(
        Object.values(classes).every((n) => n > 50),
        JSON.stringify(classes),
      ).toBe(true);
    });

    it('keeps most of a restaurant at one store', () => {
      const home = sample.orders.filter((o) => o.homeStore);
      expect(home.length / sample.orders.length).toBeGreaterThan(0.6);
      const storesByRestaurant = new Map<string, Set<number>>();
      for (const o of home) {
        const key = sourceRow.get(o.sourceId)!.restaurantKey;
        storesByRestaurant.set(key, (storesByRestaurant.get(key) ?? new Set()).add(o.storeId));
      }
      expect([...storesByRestaurant.values()].filter((s) => s.size !== 1)).toEqual([]);
    });
  });

  it('takes only orders placed within --from/--to, wrapping past midnight', () => {
    const evening = planReplay(
      rows,
      world,
      opts({ fromS: parseTimeOfDay('from', '19:00'), toS: parseTimeOfDay('to', '20:00') }),
    );
    expect(evening.orders).toHaveLength(400);
    for (const o of evening.orders) {
      const clock = (o.daySecond + DAY_START_S) % 86_400;
      expect(clock).toBeGreaterThanOrEqual(19 * 3600);
      expect(clock).toBeLessThan(20 * 3600);
    }
    const late = planReplay(
      rows,
      world,
      opts({ fromS: parseTimeOfDay('from', '23:30'), toS: parseTimeOfDay('to', '00:30') }),
    );
    const clocks = late.orders.map((o) => (o.daySecond + DAY_START_S) % 86_400);
    expect(clocks.some((c) => c >= 23.5 * 3600)).toBe(true);
    expect(clocks.some((c) => c < 0.5 * 3600)).toBe(true);
    expect(clocks.every((c) => c >= 23.5 * 3600 || c < 0.5 * 3600)).toBe(true);
  });
});

describe('schedule', { timeout: 60_000 }, () => {
  let orders: readonly PlannedOrder[];
  beforeAll(() => {
    orders = planReplay(rows, world, opts({ orders: 500 })).orders;
  }, 60_000);

  it('keeps time of day order: the first order at 0, an order after the dataset minutes divided by the speed', () => {
    const s = schedule(orders, { speed: 60, maxDurationMs: Infinity });
    expect(s.orders).toHaveLength(500);
    expect(s.steps).toHaveLength(500 * 5);
    expect(s.steps[0]!.atMs).toBe(0);
    const first = orders[0]!.daySecond;
    for (const { order, atMs } of s.orders) {
      // speed 60: a dataset minute is a wall second.
      expect(Math.abs(atMs.created - (order.daySecond - first) * (1000 / 60))).toBeLessThanOrEqual(0.5);
      expect(Math.abs(atMs.delivered - atMs.created - order.actualMinutes * 1000)).toBeLessThanOrEqual(1);
    }
  });

  it("orders every order's steps: checkout, created, rider-assigned, picked-up, delivered, never decreasing", () => {
    const s = schedule(orders, { speed: 600, maxDurationMs: Infinity });
    for (let i = 1; i < s.steps.length; i++)
      expect(s.steps[i]!.atMs).toBeGreaterThanOrEqual(s.steps[i - 1]!.atMs);
    const kinds = new Map<string, string[]>();
    for (const step of s.steps) {
      const id = step.scheduled.order.orderId;
      kinds.set(id, [...(kinds.get(id) ?? []), step.kind]);
    }
    for (const k of kinds.values()) expect(k).toEqual(['checkout', ...ORDER_STEPS]);
    for (const { order } of s.orders) {
      const m = order.minutes;
      expect(0).toBeLessThan(m.riderAssigned);
      expect(m.riderAssigned).toBeLessThan(m.pickedUp);
      expect(m.pickedUp).toBeLessThan(m.delivered);
      expect(m.delivered).toBe(order.actualMinutes);
    }
  });

  it('compresses by the speed factor: twice the speed, half the offsets', () => {
    const slow = schedule(orders, { speed: 60, maxDurationMs: Infinity });
    const fast = schedule(orders, { speed: 120, maxDurationMs: Infinity });
    slow.orders.forEach((o, i) => {
      for (const kind of ORDER_STEPS) {
        expect(Math.abs(fast.orders[i]!.atMs[kind] - o.atMs[kind] / 2)).toBeLessThanOrEqual(1);
      }
    });
    expect(Math.abs(fast.durationMs - slow.durationMs / 2)).toBeLessThanOrEqual(1);
  });

  it('leaves out the orders whose delivery comes after the max duration, and counts them', () => {
    const full = schedule(orders, { speed: 600, maxDurationMs: Infinity });
    const cap = Math.round(full.durationMs / 2);
    const capped = schedule(orders, { speed: 600, maxDurationMs: cap });
    const fits = full.orders.filter((o) => o.atMs.delivered <= cap);
    expect(capped.orders.map((o) => o.order.orderId)).toEqual(fits.map((o) => o.order.orderId));
    expect(capped.beyondMaxDuration).toBe(500 - fits.length);
    expect(fits.length).toBeGreaterThan(0);
    expect(capped.beyondMaxDuration).toBeGreaterThan(0);
    expect(capped.durationMs).toBeLessThanOrEqual(cap);
  });
});
