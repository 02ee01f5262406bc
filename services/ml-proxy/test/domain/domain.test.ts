import { describe, expect, it } from 'vitest';
import { InferenceError } from '../../src/domain/errors.ts';
import { checkGolden, parseGolden } from '../../src/domain/golden.ts';
import { heuristicColumns, heuristicMinutes, runHeuristic } from '../../src/domain/heuristic.ts';
import { type ModelSignature, signatureFromMetadata } from '../../src/domain/model.ts';
import { compareOutputs, fnv1a, inCanary } from '../../src/domain/routing.ts';
import { validateTensor } from '../../src/domain/tensor.ts';

const signature: ModelSignature = {
  input: { name: 'features', datatype: 'FP32', shape: [-1, 3] },
  features: [
    { name: 'distance_km', nullable: true, unit: 'km', range: [0, 30] },
    { name: 'hour_of_day', nullable: false, unit: 'hour', range: [0, 23] },
    { name: 'weather', nullable: true, unit: null },
  ],
  outputs: ['p10', 'p50', 'p90'].map((name) => ({ name, datatype: 'FP32', shape: [-1] })),
};

const input = (over: Record<string, unknown> = {}) => ({
  name: 'features',
  datatype: 'FP32',
  shape: [2, 3],
  data: [1, 12, null, 2, 18, 0] as unknown[],
  ...over,
});

function rejects(fn: () => unknown, pattern: RegExp, code?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InferenceError);
    expect((err as InferenceError).kind).toBe('bad_request');
    expect((err as Error).message).toMatch(pattern);
    if (code !== undefined) expect((err as InferenceError).code).toBe(code);
    return;
  }
  throw new Error('expected a bad_request');
}

describe('validateTensor', () => {
  it('packs flat and nested data row-major, null as NaN for nullable features', () => {
    const flat = validateTensor(signature, [input()], undefined, 10);
    const nested = validateTensor(
      signature,
      [
        input({
          data: [
            [1, 12, null],
            [2, 18, 0],
          ],
        }),
      ],
      undefined,
      10,
    );
    expect(flat.rows).toBe(2);
    expect(Array.from(flat.data)).toEqual([1, 12, Number.NaN, 2, 18, 0]);
    expect(Array.from(nested.data)).toEqual(Array.from(flat.data));
    expect(flat.outputs).toEqual(['p10', 'p50', 'p90']);
  });

  it('returns only the requested outputs, once each, in the order asked', () => {
    const t = validateTensor(signature, [input()], [{ name: 'p90' }, { name: 'p50' }, { name: 'p90' }], 10);
    expect(t.outputs).toEqual(['p90', 'p50']);
  });

  it.each([
    ['a wrong input name', [input({ name: 'x' })], /unexpected input 'x'/],
    ['no input', [], /missing input/],
    ['the input twice', [input(), input()], /more than once/],
    ['a wrong datatype', [input({ datatype: 'FP64' })], /datatype FP64/],
    ['a wrong width', [input({ shape: [2, 4] })], /expects \[-1,3\]/],
    ['a rank-1 shape', [input({ shape: [6] })], /expects \[-1,3\]/],
    ['zero rows', [input({ shape: [0, 3], data: [] })], /at least 1/],
    ['too few values', [input({ data: [1, 2, 3] })], /has 3 values; shape \[2,3\] needs 6/],
    ['too many values', [input({ data: [1, 2, 3, 4, 5, 6, 7] })], /has 7 values/],
    [
      'a ragged nested row',
      [
        input({
          data: [
            [1, 2, 3],
            [1, 2],
          ],
        }),
      ],
      /row 1 does not have 3 values/,
    ],
    ['nested rows vs shape', [input({ data: [[1, 2, 3]] })], /data has 1 rows; shape says 2/],
    ['a string value', [input({ data: [1, '12', 0, 2, 18, 0] })], /column 1 \(hour_of_day\) is not a number/],
    ['a boolean value', [input({ data: [1, 12, true, 2, 18, 0] })], /is not a number/],
    ['null where NaN is not allowed', [input({ data: [1, null, 0, 2, 18, 0] })], /hour_of_day\) is missing/],
    ['a value beyond FP32', [input({ data: [1e39, 12, 0, 2, 18, 0] })], /out of FP32 range/],
  ])('refuses %s', (_what, inputs, pattern) => {
    rejects(() => validateTensor(signature, inputs as never, undefined, 10), pattern);
  });

  describe('regression: a distance of -5 km and an hour of 99 were accepted (issue 12, defect 6)', () => {
    it.each([
      [
        'a negative distance',
        [-5, 12, 0, 2, 18, 0],
        /row 0, column 0 \(distance_km\) is -5, outside its range 0 to 30 km/,
      ],
      ['a distance beyond the range', [1, 12, 0, 30.5, 18, 0], /row 1, column 0 \(distance_km\) is 30.5/],
      ['hour 99', [1, 99, 0, 2, 18, 0], /\(hour_of_day\) is 99, outside its range 0 to 23 hour/],
      ['a negative hour', [1, 12, 0, 2, -1, 0], /\(hour_of_day\) is -1/],
      ['an infinite distance', [Number.POSITIVE_INFINITY, 12, 0, 2, 18, 0], /out of FP32 range/],
    ])('refuses %s with INPUT_OUT_OF_RANGE', (_what, data, pattern) => {
      rejects(
        () => validateTensor(signature, [input({ data })], undefined, 10),
        pattern,
        'INPUT_OUT_OF_RANGE',
      );
    });

    it('accepts both edges of a range (inclusive) and features without one', () => {
      const t = validateTensor(signature, [input({ data: [0, 0, 1e6, 30, 23, -7] })], undefined, 10);
      expect(Array.from(t.data)).toEqual([0, 0, 1e6, 30, 23, -7]);
    });
  });

  it('reads a NaN value as missing: allowed where nullable, MISSING_VALUE_NOT_ALLOWED elsewhere', () => {
    const t = validateTensor(
      signature,
      [input({ data: [Number.NaN, 12, 0, 2, 18, Number.NaN] })],
      undefined,
      10,
    );
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(Number.isNaN(t.data[5])).toBe(true);
    rejects(
      () => validateTensor(signature, [input({ data: [1, Number.NaN, 0, 2, 18, 0] })], undefined, 10),
      /hour_of_day\) is missing/,
      'MISSING_VALUE_NOT_ALLOWED',
    );
  });

  it('reads valid_range from metadata.json into the signature', () => {
    const sig = signatureFromMetadata({
      features: [
        { name: 'distance_km', nullable: true, unit: 'km', valid_range: [0, 30] },
        { name: 'order_type', encoding: { snack: 0, meal: 1 } },
      ],
    });
    expect(sig.features).toEqual([
      { name: 'distance_km', nullable: true, unit: 'km', range: [0, 30] },
      { name: 'order_type', nullable: false, unit: null, codes: [0, 1] },
    ]);
    expect(() => signatureFromMetadata({ features: [{ name: 'x', valid_range: [3, 1] }] })).toThrow(
      /min <= max/,
    );
  });

  it('refuses more rows than allowed before looking at the data', () => {
    rejects(
      () => validateTensor(signature, [input({ shape: [11, 3], data: [] })], undefined, 10),
      /at most 10/,
    );
  });

  it('refuses an unknown output', () => {
    rejects(() => validateTensor(signature, [input()], [{ name: 'p99' }], 10), /unknown output 'p99'/);
  });
});

describe('heuristic', () => {
  it('finds distance and hour columns by name, then by unit', () => {
    expect(heuristicColumns(signature.features)).toEqual({ distance: 0, hour: 1 });
    expect(
      heuristicColumns([
        { name: 'a', nullable: false, unit: 'hour' },
        { name: 'b', nullable: false, unit: 'km' },
      ]),
    ).toEqual({ distance: 1, hour: 0 });
    expect(heuristicColumns([{ name: 'a', nullable: false, unit: null }])).toEqual({
      distance: undefined,
      hour: undefined,
    });
  });

  it('follows the documented formula, slower at meal peaks, ordered quantiles', () => {
    expect(heuristicMinutes(6, 15).p50).toBeCloseTo(12 + 20, 6);
    expect(heuristicMinutes(6.5, 12).p50).toBeCloseTo(12 + 30, 6);
    const m = heuristicMinutes(4, 19);
    expect(m.p10).toBeLessThan(m.p50);
    expect(m.p90).toBeGreaterThan(m.p50);
    // Unknown distance counts as 3 km.
    expect(heuristicMinutes(Number.NaN, 15).p50).toBeCloseTo(22, 6);
  });

  it('reads each row from its columns', () => {
    const out = runHeuristic(signature, new Float32Array([6, 15, 0, 6.5, 12, 0]), 2, ['p50']);
    expect(Array.from(out['p50']!)).toEqual([32, 42]);
  });
});

describe('routing', () => {
  it('puts the same key on the same side every time, and about the configured share overall', () => {
    const spec = { version: '2', percent: 20 };
    let inside = 0;
    for (let i = 0; i < 5000; i++) {
      const key = `store-${i}`;
      const first = inCanary('eta-precise', spec, key);
      for (let j = 0; j < 3; j++) expect(inCanary('eta-precise', spec, key)).toBe(first);
      if (first) inside++;
    }
    expect(inside / 5000).toBeGreaterThan(0.17);
    expect(inside / 5000).toBeLessThan(0.23);
  });

  it('splits keyless requests with the random source; 0 and 100 are absolute', () => {
    expect(inCanary('m', { version: '2', percent: 50 }, undefined, () => 0.1)).toBe(true);
    expect(inCanary('m', { version: '2', percent: 50 }, undefined, () => 0.9)).toBe(false);
    expect(inCanary('m', { version: '2', percent: 0 }, 'k')).toBe(false);
    expect(inCanary('m', { version: '2', percent: 100 }, 'k')).toBe(true);
  });

  it('hashes stably across releases (FNV-1a test vector)', () => {
    expect(fnv1a('a')).toBe(0xe40c292c);
  });

  it('counts differences beyond the tolerance and the largest error', () => {
    const [c] = compareOutputs({ p50: [10, 20, 30] }, { p50: [10.1, 21, Number.NaN] }, ['p50'], 0.5);
    expect(c).toEqual({ output: 'p50', maxAbsError: 1, differences: 2, values: 3 });
  });
});

describe('golden', () => {
  it('accepts the columnar and the case-list layouts and checks within tolerance', () => {
    const columnar = parseGolden({ tolerance: 0.01, inputs: [[1, 2, null]], outputs: { p50: [5] } }, 3);
    const cases = parseGolden({ atol: 0.01, cases: [{ input: [1, 2, null], expected: { p50: 5 } }] }, 3);
    for (const g of [columnar, cases]) {
      expect(Number.isNaN(g.input[2])).toBe(true);
      expect(checkGolden(g, { p50: [5.005] })).toBeUndefined();
      expect(checkGolden(g, { p50: [5.5] })).toMatch(/p50\[0\] = 5.5, expected 5/);
      expect(checkGolden(g, {})).toMatch(/missing/);
    }
  });

  it('refuses golden rows that do not fit the model', () => {
    expect(() => parseGolden({ inputs: [[1, 2]], outputs: { p50: [5] } }, 3)).toThrow(/2 values/);
  });
});
