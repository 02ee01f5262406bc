import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DONGS_FILE,
  FOOD_DENSITY_FILE,
  GeoDataError,
  buildGeoIndex,
  loadGeoIndex,
} from '../../src/domain/index.ts';

/** A square ring (1e-6 degree units, delta-encoded) with its south-west corner at (x, y) and side s. */
function square(x: number, y: number, s: number): number[] {
  return [x, y, s, 0, 0, s, -s, 0];
}

const LNG = 127_000_000;
const LAT = 37_500_000;

// An array, not a record: numeric-looking keys would be reordered by Object.entries, and order matters here.
function dongs(...list: [code: string, polygons: number[][][]][]) {
  return {
    format: 'eta-geo/seoul-dongs@1',
    source: 'test',
    scale: 1_000_000,
    gus: [{ code: '11110', name: '종로구' }],
    dongs: list.map(([code, p]) => ({
      code,
      kostatCode: code.slice(0, 7),
      name: `dong ${code}`,
      gu: '11110',
      polygons: p,
    })),
  };
}

function density(codes: readonly string[]) {
  return {
    format: 'eta-geo/dong-food-density@1',
    method: 'test',
    unit: 'shops',
    thresholds: { metropolitan: 350, urban: 100 },
    dongs: Object.fromEntries(codes.map((c) => [c, { foodDensity: 120, regionClass: 'urban' }])),
  };
}

describe('buildGeoIndex geometry', () => {
  it('treats an inner ring as a hole', () => {
    const index = buildGeoIndex(
      dongs(['1111000001', [[square(LNG, LAT, 10_000), square(LNG + 4_000, LAT + 4_000, 2_000)]]]),
      density(['1111000001']),
    );
    expect(index.lookup(37.501, 127.001).dong?.code).toBe('1111000001');
    expect(index.lookup(37.505, 127.005).inServiceArea).toBe(false);
  });

  it('finds every part of a multi-polygon dong', () => {
    const index = buildGeoIndex(
      dongs(['1111000001', [[square(LNG, LAT, 1_000)], [square(LNG + 5_000, LAT, 1_000)]]]),
      density(['1111000001']),
    );
    expect(index.lookup(37.5005, 127.0005).dong?.code).toBe('1111000001');
    expect(index.lookup(37.5005, 127.0055).dong?.code).toBe('1111000001');
    expect(index.lookup(37.5005, 127.003).inServiceArea).toBe(false);
  });

  it('resolves overlapping dongs to the first listed one, whatever the query order', () => {
    const index = buildGeoIndex(
      dongs(['1111000002', [[square(LNG, LAT, 2_000)]]], ['1111000001', [[square(LNG + 1_000, LAT, 2_000)]]]),
      density(['1111000001', '1111000002']),
    );
    expect(index.lookup(37.5005, 127.0015).dong?.code).toBe('1111000002');
    expect(index.lookup(37.5005, 127.0025).dong?.code).toBe('1111000001');
  });
});

describe('buildGeoIndex validation', () => {
  it('names a dong that has no food density', () => {
    expect(() => buildGeoIndex(dongs(['1111000001', [[square(LNG, LAT, 1_000)]]]), density([]))).toThrow(
      /no entry for dong 1111000001/,
    );
  });

  it('rejects a file of the wrong format with a GeoDataError naming the problem', () => {
    const bad = { ...dongs(['1111000001', [[square(LNG, LAT, 1_000)]]]), format: 'geojson' };
    expect(() => buildGeoIndex(bad, density(['1111000001']))).toThrow(GeoDataError);
    expect(() => buildGeoIndex(bad, density(['1111000001']))).toThrow(/seoul-dongs\.json: format/);
  });

  it('rejects a degenerate ring and an unknown gu', () => {
    expect(() => buildGeoIndex(dongs(['1111000001', [[[LNG, LAT, 1, 1]]]]), density(['1111000001']))).toThrow(
      /at least 3 vertices/,
    );
    const orphan = dongs(['1111000001', [[square(LNG, LAT, 1_000)]]]);
    orphan.dongs[0]!.gu = '11140';
    expect(() => buildGeoIndex(orphan, density(['1111000001']))).toThrow(/unknown gu 11140/);
  });

  it('rejects a duplicated dong', () => {
    const dup = dongs(['1111000001', [[square(LNG, LAT, 1_000)]]]);
    dup.dongs.push(dup.dongs[0]!);
    expect(() => buildGeoIndex(dup, density(['1111000001']))).toThrow(/listed twice/);
  });
});

describe('loadGeoIndex', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'geo-loader-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails with GeoDataError when a file is missing', async () => {
    await expect(loadGeoIndex(join(dir, 'nowhere'))).rejects.toThrow(GeoDataError);
    await expect(loadGeoIndex(join(dir, 'nowhere'))).rejects.toThrow(/cannot read geodata file/);
  });

  it('fails with GeoDataError when a file is not JSON', async () => {
    await writeFile(join(dir, DONGS_FILE), '{"format":');
    await writeFile(join(dir, FOOD_DENSITY_FILE), JSON.stringify(density([])));
    await expect(loadGeoIndex(dir)).rejects.toThrow(/is not valid JSON/);
  });

  it('loads a valid pair of files', async () => {
    await writeFile(
      join(dir, DONGS_FILE),
      JSON.stringify(dongs(['1111000001', [[square(LNG, LAT, 1_000)]]])),
    );
    await writeFile(join(dir, FOOD_DENSITY_FILE), JSON.stringify(density(['1111000001'])));
    const index = await loadGeoIndex(dir);
    expect(index.stats()).toMatchObject({ gus: 1, dongs: 1, polygons: 1, rings: 1, vertices: 4 });
  });
});
