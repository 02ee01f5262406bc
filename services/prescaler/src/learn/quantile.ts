/**
 * Quantiles of a small sample (one value per week of history, or a few hundred at most).
 *
 * - `linear` (the default): Hyndman and Fan's type 7, what numpy.quantile, R's default, Excel's
 *   PERCENTILE.INC and Prometheus' quantile_over_time compute: sort, h = (n - 1) q, and interpolate
 *   between the values at ranks floor(h) and ceil(h) (0-based). Never above the sample's maximum.
 * - `nearest-rank`: the value at 1-based rank ceil(q n) of the sorted sample (q = 0: the minimum). Always a
 *   value that occurred; with few values it is the maximum sooner than `linear` (n = 4, q = 0.95: the 4th).
 */
export type QuantileMethod = 'linear' | 'nearest-rank';

export const QUANTILE_METHODS: readonly QuantileMethod[] = ['linear', 'nearest-rank'];

export function quantile(values: readonly number[], q: number, method: QuantileMethod = 'linear'): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q}: expected 0..1`);
  for (const v of values)
    if (!Number.isFinite(v)) throw new RangeError(`quantile of a non-finite value (${v})`);
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (method === 'nearest-rank') {
    const rank = Math.max(1, Math.ceil(q * n));
    return sorted[rank - 1]!;
  }
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (h - lo) * (b - a);
}
