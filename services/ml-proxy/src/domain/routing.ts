/**
 * Traffic splits between a model's stable version and a candidate.
 *
 * Canary: a share of live traffic is answered by the candidate. Sticky: the same key (a header such as
 * the store id, or the request `id`) always lands on the same side, so one customer does not see ETAs
 * jump between versions from one refresh to the next. Requests without a key are split at random.
 *
 * Shadow: a share of requests is also run on the candidate after the caller has its answer; only the
 * difference is recorded.
 */

export interface CanarySpec {
  readonly version: string;
  /** 0-100, may be fractional. */
  readonly percent: number;
  /** Where the HTTP layer takes the key from: `id` (the V2 request id) or `header:<name>`. */
  readonly stickyBy?: string;
}

export interface ShadowSpec {
  readonly version: string;
  readonly percent: number;
  /** Absolute difference above which an output value counts as different. */
  readonly tolerance: number;
}

/** FNV-1a, 32 bit: fast, stable across processes and releases, good enough spread for bucketing. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const BUCKETS = 10_000;

/** True when the request belongs to the canary share. The model name salts the hash so two models' canaries do not pick the same keys. */
export function inCanary(
  model: string,
  spec: CanarySpec,
  key: string | undefined,
  random: () => number = Math.random,
): boolean {
  if (spec.percent <= 0) return false;
  if (spec.percent >= 100) return true;
  const bucket = key === undefined ? Math.floor(random() * BUCKETS) : fnv1a(`${model}\u0000${key}`) % BUCKETS;
  return bucket < spec.percent * (BUCKETS / 100);
}

export function inShadow(spec: ShadowSpec, random: () => number = Math.random): boolean {
  return spec.percent > 0 && random() * 100 < spec.percent;
}

export interface ShadowComparison {
  readonly output: string;
  readonly maxAbsError: number;
  /** Values whose absolute difference exceeds the tolerance (NaN on one side only counts as different). */
  readonly differences: number;
  readonly values: number;
}

export function compareOutputs(
  primary: Readonly<Record<string, ArrayLike<number>>>,
  candidate: Readonly<Record<string, ArrayLike<number>>>,
  outputs: readonly string[],
  tolerance: number,
): ShadowComparison[] {
  const result: ShadowComparison[] = [];
  for (const output of outputs) {
    const a = primary[output];
    const b = candidate[output];
    if (a === undefined || b === undefined) continue;
    let maxAbsError = 0;
    let differences = 0;
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a[i] ?? Number.NaN;
      const y = b[i] ?? Number.NaN;
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      const diff = Math.abs(x - y);
      if (Number.isNaN(diff) || diff > tolerance) differences++;
      if (diff > maxAbsError) maxAbsError = diff;
    }
    result.push({ output, maxAbsError, differences, values: n });
  }
  return result;
}
