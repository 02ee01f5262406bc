import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cellToLatLng, cellToParent, getResolution, polygonToCells } from 'h3-js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_DATA_DIR,
  DONGS_FILE,
  FOOD_DENSITY_FILE,
  GeoInputError,
  REGION_CLASSES,
  REGION_THRESHOLDS,
  classifyFoodDensity,
  loadGeoIndex,
  type GeoIndex,
  type RegionBlock,
} from '../../src/domain/index.ts';

let index: GeoIndex;
beforeAll(async () => {
  index = await loadGeoIndex(DEFAULT_DATA_DIR);
});

function place(r: RegionBlock): string {
  return `${r.gu?.name ?? '-'} ${r.dong?.name ?? '-'}`;
}

describe('lookup: known places', () => {
  it('puts Seoul City Hall in 중구; the data assigns its coordinate to 명동, not 소공동', () => {
    const r = index.lookup(37.5663, 126.9779);
    expect(r.inServiceArea).toBe(true);
    expect(r.gu).toEqual({ code: '11140', name: '중구' });
    expect(r.dong?.name).toBe('명동');
    expect(r.dong?.code).toBe('1114055000');
  });

  it('puts Hongik University station in 마포구 서교동', () => {
    expect(place(index.lookup(37.5572, 126.9245))).toBe('마포구 서교동');
  });

  it('puts Jamsil station in 송파구 잠실6동', () => {
    expect(place(index.lookup(37.5133, 127.1001))).toBe('송파구 잠실6동');
  });

  it('resolves both sides of Gangnam station, which sits on the 서초구 / 강남구 border (Gangnam-daero)', () => {
    expect(place(index.lookup(37.4979, 127.0276))).toBe('서초구 서초2동');
    expect(place(index.lookup(37.4979, 127.0295))).toBe('강남구 역삼1동');
  });

  it('splits the Han river between the bank gu at mid-channel, so points on the water are in service', () => {
    // Between Banpo and Dongjak bridges the river spans about 37.511..37.520.
    expect(place(index.lookup(37.514, 126.996))).toBe('서초구 반포2동');
    expect(place(index.lookup(37.5175, 126.996))).toBe('용산구 서빙고동');
  });

  it('reports Busan as outside the service area with no region, but with H3 cells', () => {
    const r = index.lookup(35.1796, 129.0756);
    expect(r.inServiceArea).toBe(false);
    expect('gu' in r).toBe(false);
    expect('dong' in r).toBe(false);
    expect(getResolution(r.h3.r9)).toBe(9);
  });

  it('reports points just outside the city limits as outside (Gwacheon, Bucheon, Guri)', () => {
    for (const [lat, lng] of [
      [37.4292, 126.9876],
      [37.5035, 126.766],
      [37.5943, 127.1296],
    ] as const) {
      expect(index.lookup(lat, lng).inServiceArea, `${lat},${lng}`).toBe(false);
    }
  });

  it('returns H3 cells r7 ⊃ r8 ⊃ r9 of the point', () => {
    const { h3 } = index.lookup(37.5663, 126.9779);
    expect([getResolution(h3.r7), getResolution(h3.r8), getResolution(h3.r9)]).toEqual([7, 8, 9]);
    expect(cellToParent(h3.r9, 8)).toBe(h3.r8);
    expect(cellToParent(h3.r9, 7)).toBe(h3.r7);
    expect(h3.r9).toBe('8930e1d8c0bffff');
  });

  it('works at the extremes of the coordinate range', () => {
    for (const [lat, lng] of [
      [90, 180],
      [-90, -180],
      [0, 0],
    ] as const) {
      expect(index.lookup(lat, lng).inServiceArea).toBe(false);
    }
  });
});

describe('lookup: every dong', () => {
  const raw = JSON.parse(readFileSync(join(DEFAULT_DATA_DIR, DONGS_FILE), 'utf8')) as {
    scale: number;
    dongs: { code: string; polygons: number[][][] }[];
  };

  it('finds each dong at interior points of its own polygon (H3 cell centres inside it)', () => {
    const wrong: string[] = [];
    for (const d of raw.dongs) {
      const polygons = d.polygons.map((p) =>
        p.map((ring) => {
          const pts: [number, number][] = [];
          let x = 0;
          let y = 0;
          for (let k = 0; k < ring.length; k += 2) {
            x += ring[k]!;
            y += ring[k + 1]!;
            pts.push([x / raw.scale, y / raw.scale]);
          }
          return pts;
        }),
      );
      // Resolution 10 cells (~0.015 km2) so even the smallest dong has some; a handful per dong is enough.
      const cells = polygons.flatMap((p) => polygonToCells(p, 10, true));
      expect(cells.length, d.code).toBeGreaterThan(0);
      const step = Math.max(1, Math.floor(cells.length / 8));
      for (let i = 0; i < cells.length; i += step) {
        const [lat, lng] = cellToLatLng(cells[i]!);
        const got = index.lookup(lat, lng).dong?.code;
        if (got !== d.code) wrong.push(`${d.code} at ${lat},${lng} -> ${got}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('region data', () => {
  it('has 25 gu and 425 dong, each dong inside its gu by code', () => {
    const all = index.dongs();
    expect(index.gus()).toHaveLength(25);
    expect(all).toHaveLength(425);
    for (const { dong, gu } of all) expect(dong.code.startsWith(gu.code), dong.code).toBe(true);
    expect(new Set(all.map((d) => d.gu.code)).size).toBe(25);
  });

  it('gives every dong a region class that matches its food density and the documented thresholds', () => {
    const file = JSON.parse(readFileSync(join(DEFAULT_DATA_DIR, FOOD_DENSITY_FILE), 'utf8')) as {
      thresholds: unknown;
    };
    expect(file.thresholds).toEqual(REGION_THRESHOLDS);
    const seen = new Set<string>();
    for (const { dong } of index.dongs()) {
      expect(REGION_CLASSES).toContain(dong.regionClass);
      expect(classifyFoodDensity(dong.foodDensity), dong.code).toBe(dong.regionClass);
      seen.add(dong.regionClass);
    }
    // All three classes occur, or the model's City-type feature would be constant over Seoul.
    expect([...seen].sort()).toEqual([...REGION_CLASSES].sort());
  });

  it('classifies the commercial cores as metropolitan and the green belt edge as semi-urban', () => {
    expect(index.lookup(37.5636, 126.9827).dong).toMatchObject({ name: '명동', regionClass: 'metropolitan' });
    expect(index.lookup(37.5572, 126.9245).dong?.regionClass).toBe('metropolitan');
    // 내곡동 (서초구): hills and the green belt.
    expect(index.lookup(37.4595, 127.0717).dong).toMatchObject({ name: '내곡동', regionClass: 'semi-urban' });
  });
});

describe('lookup: bad input', () => {
  const cases: [string, unknown, unknown, string][] = [
    ['NaN latitude', Number.NaN, 127, 'lat'],
    ['NaN longitude', 37.5, Number.NaN, 'lng'],
    ['infinite latitude', Number.POSITIVE_INFINITY, 127, 'lat'],
    ['latitude above 90', 91, 127, 'lat'],
    ['longitude below -180', 37.5, -180.0001, 'lng'],
    ['swapped lat and lng', 126.9779, 37.5663, 'lat'],
    ['a string', '37.5', 127, 'lat'],
    ['null', 37.5, null, 'lng'],
    ['undefined', undefined, 127, 'lat'],
  ];
  it.each(cases)('rejects %s with INVALID_COORDINATES naming the field', (_name, lat, lng, field) => {
    let caught: unknown;
    try {
      index.lookup(lat as number, lng as number);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GeoInputError);
    expect(caught).toMatchObject({ code: 'INVALID_COORDINATES', field });
  });
});
