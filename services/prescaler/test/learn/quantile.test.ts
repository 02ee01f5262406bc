import { describe, expect, it } from 'vitest';
import { quantile } from '../../src/learn/quantile.ts';

describe('quantile, linear (type 7: numpy, Prometheus quantile_over_time)', () => {
  it('interpolates between the ranks around (n - 1) q, worked by hand', () => {
    // h = 3 x 0.95 = 2.85: 3 + 0.85 x (4 - 3)
    expect(quantile([1, 2, 3, 4], 0.95)).toBeCloseTo(3.85, 12);
    // h = 4 x 0.9 = 3.6: 40 + 0.6 x 10
    expect(quantile([50, 10, 40, 20, 30], 0.9)).toBeCloseTo(46, 12);
    expect(quantile([50, 10, 40, 20, 30], 0.5)).toBe(30);
    // 1..20, h = 19 x 0.95 = 18.05: 19 + 0.05
    expect(
      quantile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        0.95,
      ),
    ).toBeCloseTo(19.05, 12);
  });

  it('is the minimum at 0, the maximum at 1, and the value itself for one value', () => {
    expect(quantile([7, 3, 9], 0)).toBe(3);
    expect(quantile([7, 3, 9], 1)).toBe(9);
    expect(quantile([42], 0.95)).toBe(42);
  });
});

describe('quantile, nearest-rank', () => {
  it('takes the value at rank ceil(q n), worked by hand', () => {
    // ceil(0.95 x 4) = 4
    expect(quantile([1, 2, 3, 4], 0.95, 'nearest-rank')).toBe(4);
    // ceil(0.5 x 4) = 2
    expect(quantile([4, 3, 2, 1], 0.5, 'nearest-rank')).toBe(2);
    // ceil(0.95 x 20) = 19
    expect(
      quantile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        0.95,
        'nearest-rank',
      ),
    ).toBe(19);
    expect(quantile([5, 1], 0, 'nearest-rank')).toBe(1);
  });

  it('differs from linear where the methods disagree', () => {
    expect(quantile([1000, 2000, 3000, 4000], 0.5, 'nearest-rank')).toBe(2000);
    expect(quantile([1000, 2000, 3000, 4000], 0.5, 'linear')).toBe(2500);
  });
});

describe('quantile input', () => {
  it.each([
    ['no values', [], 0.5],
    ['q above 1', [1], 1.5],
    ['q below 0', [1], -0.1],
    ['NaN q', [1], NaN],
    ['a NaN value', [1, NaN], 0.5],
    ['an infinite value', [1, Infinity], 0.5],
  ])('refuses %s', (_why, values, q) => {
    expect(() => quantile(values, q)).toThrow(RangeError);
  });
});
