import type { IncomingHttpHeaders } from 'node:http';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** One HTTP request as the generator sends it. */
export interface RequestSpec {
  readonly method?: HttpMethod;
  /** Path and query string, e.g. `/v1/eta?storeId=s-1`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
}

export interface BuildContext {
  /** Index of this request in the whole run (warm-up included), starting at 0. */
  readonly i: number;
  /** Seeded uniform random number in [0, 1): runs with the same seed send the same data. */
  readonly random: () => number;
}

/** One weighted entry of a request mix. `build` runs once per request, so each can carry fresh data. */
export interface MixEntry {
  readonly name: string;
  readonly weight: number;
  readonly build: (ctx: BuildContext) => RequestSpec;
}

export interface ResponseInfo {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Mulberry32 (the tests' generator): tiny, fast and good enough to spread a mix; not for anything secret. */
export { seededRandom } from '@eta/testing/random';

/**
 * The first index whose cumulative probability is above u (u in [0, 1), the last entry 1): inversion of a
 * normalised cumulative distribution by binary search, for distributions too long for a linear scan.
 */
export function cdfIndex(cdf: ArrayLike<number>, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (u < cdf[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Returns a picker that maps a uniform number in [0, 1) to an entry index, in proportion to weight. */
export function weightedPicker(mix: readonly MixEntry[]): (u: number) => number {
  if (mix.length === 0) throw new Error('request mix is empty');
  const cumulative: number[] = [];
  let total = 0;
  for (const entry of mix) {
    if (!(entry.weight >= 0) || !Number.isFinite(entry.weight)) {
      throw new Error(`mix entry ${entry.name}: weight must be a finite number >= 0`);
    }
    total += entry.weight;
    cumulative.push(total);
  }
  if (total <= 0) throw new Error('request mix: weights sum to 0');
  if (mix.length === 1) return () => 0;
  return (u) => {
    const x = u * total;
    // Mixes are a handful of entries: a linear scan beats a binary search here.
    for (let i = 0; i < cumulative.length; i++) if (x < cumulative[i]!) return i;
    return cumulative.length - 1;
  };
}
