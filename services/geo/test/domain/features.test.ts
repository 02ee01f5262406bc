import { seededRandom } from '@eta/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_DATA_DIR,
  EARTH_RADIUS_M,
  GeoInputError,
  HAN_RIVER_CROSSING_PENALTY_M,
  MAX_BATCH,
  circuityFactor,
  estimateRoadDistanceM,
  haversineM,
  initialBearingDeg,
  loadGeoIndex,
  type GeoIndex,
  type LatLng,
} from '../../src/domain/index.ts';

let index: GeoIndex;
beforeAll(async () => {
  index = await loadGeoIndex(DEFAULT_DATA_DIR);
});

const CITY_HALL: LatLng = { lat: 37.5663, lng: 126.9779 };
const HONGIK: LatLng = { lat: 37.5572, lng: 126.9245 };
const GANGNAM: LatLng = { lat: 37.4979, lng: 127.0276 };
const BUSAN: LatLng = { lat: 35.1796, lng: 129.0756 };

/** Spherical law of cosines: a different formula on the same sphere, as an independent check. */
function lawOfCosinesM(a: LatLng, b: LatLng): number {
  const r = Math.PI / 180;
  const c =
    Math.sin(a.lat * r) * Math.sin(b.lat * r) +
    Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.cos((b.lng - a.lng) * r);
  return EARTH_RADIUS_M * Math.acos(Math.min(1, c));
}

describe('great-circle distance and bearing', () => {
  it('matches closed forms: one degree of meridian, a quarter of the equator', () => {
    expect(haversineM(0, 0, 1, 0)).toBeCloseTo((Math.PI / 180) * EARTH_RADIUS_M, 6);
    expect(haversineM(0, 0, 0, 90)).toBeCloseTo((Math.PI / 2) * EARTH_RADIUS_M, 3);
    expect(haversineM(0, 0, 0, 180)).toBeCloseTo(Math.PI * EARTH_RADIUS_M, 3);
  });

  it('agrees with the law of cosines in Seoul and to Busan (to 0.5 m)', () => {
    for (const [a, b] of [
      [CITY_HALL, GANGNAM],
      [HONGIK, CITY_HALL],
      [CITY_HALL, BUSAN],
    ] as const) {
      expect(Math.abs(haversineM(a.lat, a.lng, b.lat, b.lng) - lawOfCosinesM(a, b))).toBeLessThan(0.5);
    }
    // Seoul to Busan is about 325 km as the crow flies.
    expect(haversineM(CITY_HALL.lat, CITY_HALL.lng, BUSAN.lat, BUSAN.lng) / 1000).toBeCloseTo(325, -1);
  });

  it('gives compass bearings for due north, east, south and west', () => {
    const { lat, lng } = CITY_HALL;
    expect(initialBearingDeg(lat, lng, lat + 0.01, lng)).toBeCloseTo(0, 6);
    expect(initialBearingDeg(lat, lng, lat, lng + 0.01)).toBeCloseTo(90, 2);
    expect(initialBearingDeg(lat, lng, lat - 0.01, lng)).toBeCloseTo(180, 6);
    expect(initialBearingDeg(lat, lng, lat, lng - 0.01)).toBeCloseTo(270, 2);
    expect(initialBearingDeg(0, 0, 1, 1)).toBeCloseTo(44.9956, 3);
  });

  it('keeps bearings in [0, 360) and reverses by about 180 degrees over short hops', () => {
    const next = seededRandom(7);
    for (let i = 0; i < 500; i++) {
      const a = { lat: 37.43 + next() * 0.27, lng: 126.76 + next() * 0.42 };
      const b = { lat: 37.43 + next() * 0.27, lng: 126.76 + next() * 0.42 };
      const ab = initialBearingDeg(a.lat, a.lng, b.lat, b.lng);
      const ba = initialBearingDeg(b.lat, b.lng, a.lat, a.lng);
      expect(ab).toBeGreaterThanOrEqual(0);
      expect(ab).toBeLessThan(360);
      // Meridian convergence over < 40 km at 37.5°N turns the reverse bearing by well under 0.5 degree.
      expect(Math.abs(((ab - ba + 360) % 360) - 180)).toBeLessThan(0.5);
    }
  });
});

describe('road distance estimate', () => {
  it('falls in circuity with distance, from 1.45 at zero to 1.18 beyond 20 km', () => {
    expect(circuityFactor(0)).toBe(1.45);
    expect(circuityFactor(750)).toBeCloseTo(1.375, 10);
    expect(circuityFactor(20_000)).toBe(1.18);
    expect(circuityFactor(300_000)).toBe(1.18);
    for (let d = 0; d < 25_000; d += 250)
      expect(circuityFactor(d + 250)).toBeLessThanOrEqual(circuityFactor(d));
  });

  it('is never shorter than the great circle and grows with it', () => {
    let prev = 0;
    for (let d = 0; d <= 40_000; d += 100) {
      const road = estimateRoadDistanceM(d, false);
      expect(road).toBeGreaterThanOrEqual(d);
      expect(road).toBeGreaterThanOrEqual(prev);
      prev = road;
    }
  });
});

describe('features', () => {
  it('describes Hongik station -> Gangnam station: across the river, different gu', () => {
    const f = index.features(HONGIK, GANGNAM);
    expect(f.distanceM).toBeCloseTo(haversineM(HONGIK.lat, HONGIK.lng, GANGNAM.lat, GANGNAM.lng), 9);
    expect(f.distanceM / 1000).toBeCloseTo(11.23, 2);
    expect(f.bearingDeg).toBeCloseTo(125.9, 1);
    expect(f.crossesHanRiver).toBe(true);
    expect(f.roadDistanceM).toBeCloseTo(
      f.distanceM * circuityFactor(f.distanceM) + HAN_RIVER_CROSSING_PENALTY_M,
      6,
    );
    expect(f.origin.dong?.name).toBe('서교동');
    expect(f.destination.gu?.name).toBe('서초구');
    expect([f.sameDong, f.sameGu]).toEqual([false, false]);
  });

  it('marks same dong and same gu, without a river crossing, for two points in 명동', () => {
    const f = index.features(CITY_HALL, { lat: 37.5636, lng: 126.9827 });
    expect([f.sameDong, f.sameGu, f.crossesHanRiver]).toEqual([true, true, false]);
    expect(f.roadDistanceM).toBeCloseTo(f.distanceM * circuityFactor(f.distanceM), 9);
  });

  it('marks same gu but not same dong within 중구', () => {
    const f = index.features(CITY_HALL, { lat: 37.5605, lng: 126.9951 });
    expect(f.destination.gu?.name).toBe('중구');
    expect([f.sameDong, f.sameGu]).toEqual([false, true]);
  });

  it('handles a zero-length pair', () => {
    const f = index.features(CITY_HALL, CITY_HALL);
    expect([f.distanceM, f.roadDistanceM, f.bearingDeg, f.sameDong]).toEqual([0, 0, 0, true]);
  });

  it('still measures a pair with an end outside Seoul, with no region and no shared area', () => {
    const f = index.features(CITY_HALL, BUSAN);
    expect(f.destination.inServiceArea).toBe(false);
    expect([f.sameDong, f.sameGu, f.crossesHanRiver]).toEqual([false, false, false]);
    const outside = index.features(BUSAN, { lat: 35.18, lng: 129.08 });
    expect([outside.sameDong, outside.sameGu]).toEqual([false, false]);
  });

  it('names the bad end of a pair', () => {
    expect(() => index.features(CITY_HALL, { lat: Number.NaN, lng: 127 })).toThrow(
      expect.objectContaining({ code: 'INVALID_COORDINATES', field: 'destination.lat' }),
    );
    expect(() => index.features(null as unknown as LatLng, CITY_HALL)).toThrow(
      expect.objectContaining({ code: 'INVALID_COORDINATES', field: 'origin' }),
    );
  });
});

describe('featuresBatch', () => {
  const next = seededRandom(42);
  // Mostly inside Seoul's bounding box, a few far outside, so both kinds of region block are compared.
  const others: LatLng[] = Array.from({ length: 50 }, (_, i) =>
    i % 10 === 9
      ? { lat: 35 + next(), lng: 128 + next() }
      : { lat: 37.43 + next() * 0.27, lng: 126.76 + next() * 0.42 },
  );

  it('equals one features() call per pair with the shared point as origin', () => {
    const batch = index.featuresBatch(HONGIK, others, 'origin');
    expect(batch).toEqual(others.map((o) => index.features(HONGIK, o)));
  });

  it('equals one features() call per pair with the shared point as destination', () => {
    const batch = index.featuresBatch(GANGNAM, others, 'destination');
    expect(batch).toEqual(others.map((o) => index.features(o, GANGNAM)));
    expect(batch[0]!.destination).toBe(batch[1]!.destination);
  });

  it('accepts an empty batch and a full one', () => {
    expect(index.featuresBatch(HONGIK, [])).toEqual([]);
    expect(
      index.featuresBatch(
        HONGIK,
        Array.from({ length: MAX_BATCH }, () => CITY_HALL),
      ),
    ).toHaveLength(MAX_BATCH);
  });

  it('rejects more than MAX_BATCH points with BATCH_TOO_LARGE', () => {
    const tooMany = Array.from({ length: MAX_BATCH + 1 }, () => CITY_HALL);
    expect(() => index.featuresBatch(HONGIK, tooMany)).toThrow(
      expect.objectContaining({ code: 'BATCH_TOO_LARGE', field: 'others' }),
    );
  });

  it('rejects the whole batch naming the first bad point', () => {
    const bad = [CITY_HALL, CITY_HALL, CITY_HALL, { lat: 37.5, lng: Number.POSITIVE_INFINITY }];
    expect(() => index.featuresBatch(HONGIK, bad)).toThrow(
      expect.objectContaining({ code: 'INVALID_COORDINATES', field: 'others[3].lng' }),
    );
    expect(() => index.featuresBatch({ lat: 200, lng: 0 }, [CITY_HALL])).toThrow(
      expect.objectContaining({ field: 'shared.lat' }),
    );
  });

  it('rejects a malformed call with INVALID_BATCH instead of crashing', () => {
    expect(() => index.featuresBatch(HONGIK, 'x' as unknown as LatLng[])).toThrow(GeoInputError);
    expect(() => index.featuresBatch(HONGIK, [], 'both' as 'origin')).toThrow(
      expect.objectContaining({ code: 'INVALID_BATCH', field: 'sharedEnd' }),
    );
  });
});
