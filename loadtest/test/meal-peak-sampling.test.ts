import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../lib/index.ts';
import { loadServiceArea } from '../lib/meal-peak/area.ts';
import {
  deriveHotSpots,
  HotSpotSampler,
  jitter,
  parseHotSpots,
  type InArea,
} from '../lib/meal-peak/hotspots.ts';
import { seededPermutation, StorePopularity, ZipfSampler } from '../lib/meal-peak/zipf.ts';

const ROOT = join(import.meta.dirname, '..', '..');

describe('meal-peak store popularity (Zipf)', () => {
  it('draws ranks with frequencies proportional to 1/k^s', () => {
    const n = 5000;
    const s = 1.0;
    const zipf = new ZipfSampler(n, s);
    const random = seededRandom(7);
    const draws = 200_000;
    const counts = new Map<number, number>();
    for (let i = 0; i < draws; i++) {
      const k = zipf.rank(random());
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    let h = 0;
    for (let k = 1; k <= n; k++) h += k ** -s;
    // The top ranks, each within 5 % of its expected frequency (at least ~1,400 draws each).
    for (const k of [1, 2, 3, 5, 10, 20]) {
      const expected = draws / (k ** s * h);
      expect(counts.get(k) ?? 0).toBeGreaterThan(expected * 0.95);
      expect(counts.get(k) ?? 0).toBeLessThan(expected * 1.05);
    }
    // The shape: the top 1 % of stores take a share close to the law's (H(50) / H(5000) = 0.50).
    let top = 0;
    for (let k = 1; k <= 50; k++) top += counts.get(k) ?? 0;
    let h50 = 0;
    for (let k = 1; k <= 50; k++) h50 += k ** -s;
    expect(top / draws).toBeCloseTo(h50 / h, 2);
    expect(Math.max(...counts.keys())).toBeLessThanOrEqual(n);
    expect(Math.min(...counts.keys())).toBeGreaterThanOrEqual(1);
  });

  it('a steeper exponent concentrates more; exponent 0 is uniform', () => {
    expect(new ZipfSampler(100, 2).probability(1)).toBeGreaterThan(new ZipfSampler(100, 1).probability(1));
    const flat = new ZipfSampler(4, 0);
    expect([1, 2, 3, 4].map((k) => flat.probability(k))).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(new ZipfSampler(10, 1).probability(1) / new ZipfSampler(10, 1).probability(2)).toBeCloseTo(2, 10);
  });

  it('maps ranks to a seeded shuffle of the store ids', () => {
    const p = seededPermutation(5000, 3);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    expect([...seededPermutation(5000, 3)]).toEqual([...p]);
    expect([...seededPermutation(5000, 4)]).not.toEqual([...p]);
    const stores = new StorePopularity(5000, 1, 3);
    expect(stores.idOfRank(1)).toBe(p[0]);
  });

  it('the same seed sends the same stores', () => {
    const a = new StorePopularity(5000, 1, 1);
    const b = new StorePopularity(5000, 1, 1);
    const ra = seededRandom(9);
    const rb = seededRandom(9);
    expect(Array.from({ length: 100 }, () => a.pick(ra))).toEqual(
      Array.from({ length: 100 }, () => b.pick(rb)),
    );
  });

  it('a store-list page holds distinct stores, popular ones most often', () => {
    const stores = new StorePopularity(5000, 1, 1);
    const random = seededRandom(2);
    let withTop = 0;
    for (let i = 0; i < 200; i++) {
      const page = stores.pickDistinct(random, 50);
      expect(new Set(page).size).toBe(50);
      expect(page.every((id) => id >= 1 && id <= 5000)).toBe(true);
      if (page.includes(stores.idOfRank(1))) withTop += 1;
    }
    // P(rank 1 in 50 draws) = 1 - (1 - 0.11)^50, nearly 1; the 5,000th store is in almost none.
    expect(withTop).toBeGreaterThan(190);
    // Even an extreme exponent ends with a full page.
    expect(new Set(new StorePopularity(60, 8, 1).pickDistinct(seededRandom(1), 60)).size).toBe(60);
    expect(() => stores.pickDistinct(random, 5001)).toThrow(/distinct/);
  });
});

describe('meal-peak hot spots', () => {
  let inArea: InArea;
  beforeAll(async () => {
    inArea = await loadServiceArea(ROOT);
  });

  it('derives weights from the station table, keeping only stations in the area', () => {
    const csv =
      '\uFEFF정제역명,지하철_총하차,위도,경도,주변_버스_하차,주변_상가_수,총_유입_인구,혼잡_가성비_지수\n' +
      '홍대입구,100,37.5569,126.9237,0,900,300,1\n' +
      '강남,100,37.4971,127.0282,0,800,100,1\n' +
      '수원,100,37.2660,127.0000,0,0,500,1\n' + // Gyeonggi: outside
      '깨진,x,y,z,0,0,0,0\n';
    const { spots, rows } = deriveHotSpots(csv, inArea);
    expect(rows).toEqual({ total: 4, outside: 1, invalid: 1, used: 2 });
    expect(spots.map((s) => s.name)).toEqual(['홍대입구', '강남']);
    expect(spots.map((s) => s.weight)).toEqual([0.75, 0.25]);
  });

  it('every destination drawn around the committed hot spots is inside the service area and the disc', () => {
    const file = parseHotSpots(
      JSON.parse(readFileSync(join(ROOT, 'loadtest', 'meal-peak', 'hot-spots.json'), 'utf8')),
    );
    const radiusM = 800;
    const sampler = new HotSpotSampler(file.spots, { radiusM, inArea });
    const random = seededRandom(5);
    const used = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const d = sampler.sample(random);
      expect(inArea(d.lat, d.lng)).toBe(true);
      const s = file.spots[d.spot]!;
      const dy = (d.lat - s.lat) * 111_320;
      const dx = (d.lng - s.lng) * 111_320 * Math.cos((s.lat * Math.PI) / 180);
      expect(Math.hypot(dx, dy)).toBeLessThanOrEqual(radiusM + 1);
      used.set(d.spot, (used.get(d.spot) ?? 0) + 1);
    }
    // Busier stations get more customers: the top one about its weight (1.5 %), far above an average one.
    const top = used.get(0) ?? 0;
    expect(top / 5000).toBeGreaterThan(file.spots[0]!.weight * 0.6);
    expect(top / 5000).toBeLessThan(file.spots[0]!.weight * 1.5);
  });

  it('redraws points outside the area, and falls back to the station itself', () => {
    const spot = { name: 'edge', lat: 37.5, lng: 127.0, weight: 1 };
    // An area that is only the half north of the station: about half the points are redrawn.
    const north: InArea = (lat) => lat >= 37.5;
    const random = seededRandom(1);
    for (let i = 0; i < 500; i++)
      expect(
        new HotSpotSampler([spot], { radiusM: 500, inArea: north }).sample(random).lat,
      ).toBeGreaterThanOrEqual(37.5);
    // An area that is only the station's own point: every draw falls back to it.
    const only: InArea = (lat, lng) => lat === 37.5 && lng === 127.0;
    const d = new HotSpotSampler([spot], { radiusM: 500, inArea: only }).sample(random);
    expect(d).toEqual({ lat: 37.5, lng: 127.0, spot: 0 });
    expect(() => new HotSpotSampler([spot], { radiusM: 500, inArea: () => false })).toThrow(/outside/);
  });

  it('jitters uniformly over the disc (half the points within 1/sqrt(2) of the radius)', () => {
    const random = seededRandom(11);
    let inner = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const p = jitter(37.55, 126.98, 1000, random);
      const dy = (p.lat - 37.55) * 111_320;
      const dx = (p.lng - 126.98) * 111_320 * Math.cos((37.55 * Math.PI) / 180);
      if (Math.hypot(dx, dy) <= 1000 / Math.SQRT2) inner += 1;
    }
    expect(inner / n).toBeGreaterThan(0.48);
    expect(inner / n).toBeLessThan(0.52);
  });
});
