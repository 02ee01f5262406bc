import { z } from 'zod';
import { type InferenceResult } from './model.ts';

/**
 * golden.json: synthetic input rows with the outputs the exporting side computed, and a tolerance. A
 * new version must reproduce them before it takes traffic; this catches a corrupt or truncated file, a
 * feature-order mix-up and a mismatched runtime, none of which loading alone reveals.
 *
 * Two layouts are accepted: columnar (`inputs: number[][]`, `outputs: { p50: number[] }`) and a list of
 * cases (`cases: [{ input: number[], expected: { p50: number } }]`). JSON null stands for NaN.
 */
const Cell = z.number().nullable();
const Row = z.array(Cell);

const Tolerance = z.object({
  tolerance: z.number().nonnegative().optional(),
  atol: z.number().nonnegative().optional(),
  rtol: z.number().nonnegative().optional(),
});

const Columnar = Tolerance.extend({
  inputs: z.array(Row).min(1).optional(),
  features: z.array(Row).min(1).optional(),
  outputs: z.record(z.string(), z.array(Cell)).optional(),
  expected: z.record(z.string(), z.array(Cell)).optional(),
});

const Cases = Tolerance.extend({
  cases: z
    .array(
      z.object({
        input: Row.optional(),
        inputs: Row.optional(),
        features: Row.optional(),
        expected: z.record(z.string(), Cell).optional(),
        outputs: z.record(z.string(), Cell).optional(),
      }),
    )
    .min(1),
});

export interface Golden {
  readonly rows: number;
  readonly input: Float32Array;
  readonly expected: Readonly<Record<string, readonly number[]>>;
  readonly atol: number;
  readonly rtol: number;
}

const DEFAULT_ATOL = 1e-3;

const nan = (v: number | null): number => (v === null ? Number.NaN : v);

export function parseGolden(raw: unknown, width: number): Golden {
  const asCases = Cases.safeParse(raw);
  let rowsIn: (number | null)[][];
  let expected: Record<string, number[]>;
  let tol: z.output<typeof Tolerance>;
  if (asCases.success) {
    tol = asCases.data;
    rowsIn = [];
    expected = {};
    for (const [i, c] of asCases.data.cases.entries()) {
      const row = c.input ?? c.inputs ?? c.features;
      const out = c.expected ?? c.outputs;
      if (row === undefined || out === undefined) throw new Error(`golden case ${i} lacks input or expected`);
      rowsIn.push(row);
      for (const [name, value] of Object.entries(out)) (expected[name] ??= []).push(nan(value));
    }
  } else {
    const columnar = Columnar.parse(raw);
    tol = columnar;
    const rows = columnar.inputs ?? columnar.features;
    const out = columnar.outputs ?? columnar.expected;
    if (rows === undefined || out === undefined)
      throw new Error('golden.json lacks inputs or expected outputs');
    rowsIn = rows;
    expected = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.map(nan)]));
  }
  const input = new Float32Array(rowsIn.length * width);
  rowsIn.forEach((row, r) => {
    if (row.length !== width)
      throw new Error(`golden row ${r} has ${row.length} values, the model takes ${width}`);
    row.forEach((v, c) => (input[r * width + c] = nan(v)));
  });
  for (const [name, values] of Object.entries(expected)) {
    if (values.length !== rowsIn.length)
      throw new Error(`golden output ${name} has ${values.length} values for ${rowsIn.length} rows`);
  }
  if (Object.keys(expected).length === 0) throw new Error('golden.json has no expected outputs');
  return {
    rows: rowsIn.length,
    input,
    expected,
    atol: tol.atol ?? tol.tolerance ?? DEFAULT_ATOL,
    rtol: tol.rtol ?? 0,
  };
}

/** Returns a description of the first mismatch, or undefined when every expected value is reproduced. */
export function checkGolden(golden: Golden, actual: InferenceResult): string | undefined {
  for (const [name, expected] of Object.entries(golden.expected)) {
    const got = actual[name];
    if (got === undefined) return `output ${name} missing`;
    if (got.length !== expected.length)
      return `output ${name} has ${got.length} values, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const want = expected[i]!;
      const have = got[i]!;
      if (Number.isNaN(want) && Number.isNaN(have)) continue;
      const allowed = golden.atol + golden.rtol * Math.abs(want);
      if (!(Math.abs(have - want) <= allowed)) {
        return `output ${name}[${i}] = ${have}, expected ${want} (tolerance ${allowed})`;
      }
    }
  }
  return undefined;
}
