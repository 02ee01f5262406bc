import { type ModelSignature } from './model.ts';
import { type PromotionFigures } from './release.ts';

/**
 * The promotion rule of `pnpm model promote`: a candidate becomes the serving version only when
 *
 *  (a) the running proxies mirrored at least `minComparisons` requests to it (shadow), and none of those
 *      mirrored calls failed (`ml_proxy_shadow_errors_total` 0: an error or a missed deadline on live
 *      traffic is a candidate that cannot serve it), and
 *  (b) on delivered orders it did not train on (their training rows written after it was published), with at least
 *      `minRows` of them, its p50 is not further from the actual minutes than the serving version's
 *      (MAE), and its p10-p90 interval is not much worse calibrated (coverage within COVERAGE_SLACK of the
 *      serving version's distance from the nominal 80 %).
 *
 * Both versions score the same rows, with the features exactly as they were served, through the proxy's
 * own ONNX loading; the answer that was shown is not used (it may come from a canary or a fallback).
 */

/** Shadow comparisons required by default. With the default 10 % mirror that is 10,000 precise requests. */
export const DEFAULT_MIN_COMPARISONS = 1000;
/**
 * Delivered orders required by default. With 200 rows the standard error of an MAE of ~3-4 minutes is
 * ~0.2 minutes and of a coverage ~0.03: enough to tell a worse model from a better one by more than that.
 */
export const DEFAULT_MIN_ROWS = 200;
/** p10-p90 is an 80 % interval. */
export const NOMINAL_COVERAGE = 0.8;
/** How much further from 80 % the candidate's coverage may be than the serving version's. */
export const COVERAGE_SLACK = 0.05;

export interface ShadowFigures {
  readonly proxies: readonly string[];
  readonly comparisons: number;
  readonly shadowErrors: number;
}

export interface Accuracy {
  readonly version: string;
  readonly rows: number;
  readonly mae: number;
  readonly coverage: number;
}

export interface RuleInput {
  readonly minComparisons: number;
  readonly minRows: number;
  /** undefined when no proxy was asked (only allowed with --force). */
  readonly shadow?: ShadowFigures | undefined;
  /** undefined when no rows were read (only allowed with --force). */
  readonly accuracy?:
    { readonly since: string; readonly serving: Accuracy; readonly candidate: Accuracy } | undefined;
}

/** Every reason the rule refuses (empty: it allows the promotion), and the figures to record. */
export function evaluatePromotion(input: RuleInput): { refusals: string[]; figures: PromotionFigures } {
  const refusals: string[] = [];
  const figures: { -readonly [K in keyof PromotionFigures]: PromotionFigures[K] } = {
    minComparisons: input.minComparisons,
    minRows: input.minRows,
  };
  const shadow = input.shadow;
  if (shadow === undefined) {
    refusals.push('no proxy was asked for shadow comparisons (--proxy)');
  } else {
    figures.proxies = [...shadow.proxies];
    figures.comparisons = shadow.comparisons;
    figures.shadowErrors = shadow.shadowErrors;
    // Written so that a count that is not a number (NaN from a broken exposition) is refused too.
    if (!(shadow.comparisons >= input.minComparisons)) {
      refusals.push(
        `too few shadow comparisons: ${shadow.comparisons} of the ${input.minComparisons} required`,
      );
    }
    if (!(shadow.shadowErrors <= 0)) {
      refusals.push(`the candidate failed ${shadow.shadowErrors} shadow call(s); 0 are allowed`);
    }
  }
  const accuracy = input.accuracy;
  if (accuracy === undefined) {
    refusals.push('no delivered orders were read (--rows)');
  } else {
    const { serving, candidate } = accuracy;
    figures.since = accuracy.since;
    figures.rows = candidate.rows;
    figures.serving = {
      version: serving.version,
      mae: round(serving.mae),
      coverage: round(serving.coverage),
    };
    figures.candidate = {
      version: candidate.version,
      mae: round(candidate.mae),
      coverage: round(candidate.coverage),
    };
    if (candidate.rows < input.minRows) {
      refusals.push(
        `too few delivered orders since ${accuracy.since}: ${candidate.rows} of the ${input.minRows} required`,
      );
    } else {
      if (candidate.mae > serving.mae) {
        refusals.push(
          `the candidate is less accurate on ${candidate.rows} delivered orders: MAE ${fmt(candidate.mae)} ` +
            `vs ${fmt(serving.mae)} for version ${serving.version}`,
        );
      }
      const gapCandidate = Math.abs(candidate.coverage - NOMINAL_COVERAGE);
      const gapServing = Math.abs(serving.coverage - NOMINAL_COVERAGE);
      if (gapCandidate > gapServing + COVERAGE_SLACK) {
        refusals.push(
          `the candidate's p10-p90 coverage ${fmt(candidate.coverage)} is further from ${NOMINAL_COVERAGE} than ` +
            `version ${serving.version}'s ${fmt(serving.coverage)} by more than ${COVERAGE_SLACK}`,
        );
      }
    }
  }
  return { refusals, figures };
}

const round = (n: number): number => Math.round(n * 10_000) / 10_000;
const fmt = (n: number): string => n.toFixed(3);

// ---------------------------------------------------------------------------------------------------
// Rows as served, into the model's input tensor.

export interface ServedRow {
  /** `training_rows.features`: the row as sent to the model, by feature name; null is "unknown". */
  readonly features: Readonly<Record<string, unknown>>;
  readonly actualMinutes: number;
}

/**
 * The rows every signature can take, as one row-major Float32Array per signature (columns in each one's
 * order; null or absent is NaN). A row is left out when a value is not a number, or is unknown where a
 * signature does not allow it: both versions must score exactly the same orders.
 */
export function tensorsFor(
  rows: readonly ServedRow[],
  signatures: readonly ModelSignature[],
): { inputs: Float32Array[]; actual: Float64Array; skipped: number } {
  const usable: ServedRow[] = [];
  for (const row of rows) {
    if (!Number.isFinite(row.actualMinutes)) continue;
    const ok = signatures.every((sig) =>
      sig.features.every((f) => {
        const v = row.features[f.name];
        if (v === null || v === undefined) return f.nullable;
        return typeof v === 'number' && Number.isFinite(v);
      }),
    );
    if (ok) usable.push(row);
  }
  const inputs = signatures.map((sig) => {
    const width = sig.features.length;
    const data = new Float32Array(usable.length * width);
    usable.forEach((row, r) => {
      sig.features.forEach((f, c) => {
        const v = row.features[f.name];
        data[r * width + c] = typeof v === 'number' ? v : Number.NaN;
      });
    });
    return data;
  });
  return {
    inputs,
    actual: Float64Array.from(usable, (r) => r.actualMinutes),
    skipped: rows.length - usable.length,
  };
}

/** MAE of p50 and p10-p90 coverage against the actual minutes. */
export function accuracyOf(
  version: string,
  actual: ArrayLike<number>,
  p10: ArrayLike<number>,
  p50: ArrayLike<number>,
  p90: ArrayLike<number>,
): Accuracy {
  const n = actual.length;
  let absError = 0;
  let inside = 0;
  for (let i = 0; i < n; i++) {
    const y = actual[i]!;
    absError += Math.abs(p50[i]! - y);
    if (p10[i]! <= y && y <= p90[i]!) inside++;
  }
  return { version, rows: n, mae: n === 0 ? 0 : absError / n, coverage: n === 0 ? 0 : inside / n };
}
