import { describe, expect, it } from 'vitest';
import { budgetWithin, haversineKm, inSeoulBounds } from '../../src/domain/fallback.ts';
import { BUSAN, CITY_HALL, GANGNAM, GWANGMYEONG } from './estimate-fixtures.ts';

// The guarded call (deadline, breaker, one connect retry) is service-kit's dependency(), tested there
// (packages/service-kit/test/dependency.test.ts); the BFF's use of it is tested through the app.

describe('budgetWithin', () => {
  it('is the smaller of its own limit and what the parent has left minus the reserve', () => {
    expect(budgetWithin({ remainingMs: () => 100 }, 250, 5).remainingMs()).toBeLessThanOrEqual(95);
    expect(budgetWithin({ remainingMs: () => 10_000 }, 250, 5).remainingMs()).toBeLessThanOrEqual(250);
    expect(budgetWithin({ remainingMs: () => 3 }, 250, 5).remainingMs()).toBe(0);
  });
});

describe('geometry without Geo', () => {
  it('measures City Hall to Gangnam station as about 8.6 km', () => {
    expect(haversineKm(CITY_HALL, GANGNAM)).toBeCloseTo(8.6, 0);
  });

  it('refuses Busan by the bounding box and keeps Seoul', () => {
    expect(inSeoulBounds(BUSAN)).toBe(false);
    expect(inSeoulBounds(CITY_HALL)).toBe(true);
    expect(inSeoulBounds(GANGNAM)).toBe(true);
    // The box is coarse on purpose; Geo's polygons refuse this one (integration tests).
    expect(inSeoulBounds(GWANGMYEONG)).toBe(true);
  });
});
