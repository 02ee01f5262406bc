/**
 * Store popularity: orders gather at popular stores. The store of popularity rank k (1 = the most popular)
 * is drawn with probability proportional to 1 / k^s (Zipf's law, exponent s); which store has which rank
 * is a seeded shuffle of the ids, so the popular stores are spread over the city rather than being ids
 * 1, 2, 3 (the seed places ids at random, but a shuffle makes that no assumption).
 */
import { cdfIndex, seededRandom } from '../mix.ts';

/** Draws ranks 1..n with P(k) proportional to k^-exponent, by inversion of the cumulative distribution. */
export class ZipfSampler {
  readonly n: number;
  readonly exponent: number;
  readonly #cdf: Float64Array;

  constructor(n: number, exponent: number) {
    if (!(Number.isInteger(n) && n >= 1)) throw new Error('zipf: n must be a whole number >= 1');
    if (!(exponent >= 0) || !Number.isFinite(exponent)) throw new Error('zipf: exponent must be >= 0');
    this.n = n;
    this.exponent = exponent;
    const cdf = new Float64Array(n);
    let acc = 0;
    for (let k = 1; k <= n; k++) {
      acc += k ** -exponent;
      cdf[k - 1] = acc;
    }
    for (let i = 0; i < n; i++) cdf[i]! /= acc;
    cdf[n - 1] = 1;
    this.#cdf = cdf;
  }

  /** Probability of rank k (1-based). */
  probability(k: number): number {
    if (k < 1 || k > this.n) return 0;
    return this.#cdf[k - 1]! - (k > 1 ? this.#cdf[k - 2]! : 0);
  }

  /** The rank (1..n) for a uniform u in [0, 1). */
  rank(u: number): number {
    return cdfIndex(this.#cdf, u) + 1;
  }
}

/** A seeded Fisher-Yates shuffle of 1..n: element r-1 is the id of popularity rank r. */
export function seededPermutation(n: number, seed: number): Int32Array {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i + 1;
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = ids[i]!;
    ids[i] = ids[j]!;
    ids[j] = t;
  }
  return ids;
}

/** Store ids 1..stores with Zipf popularity. */
export class StorePopularity {
  readonly stores: number;
  readonly #zipf: ZipfSampler;
  readonly #byRank: Int32Array;

  constructor(stores: number, exponent: number, seed = 14) {
    this.stores = stores;
    this.#zipf = new ZipfSampler(stores, exponent);
    this.#byRank = seededPermutation(stores, seed);
  }

  /** The id of popularity rank k (1-based). */
  idOfRank(k: number): number {
    return this.#byRank[k - 1]!;
  }

  pick(random: () => number): number {
    return this.#byRank[this.#zipf.rank(random()) - 1]!;
  }

  /**
   * `count` distinct ids, each drawn by popularity (a store list shows a store once). Redraws repeats;
   * after many redraws (a very steep exponent) the rest are filled in rank order, so it always ends.
   */
  pickDistinct(random: () => number, count: number): number[] {
    if (count > this.stores) throw new Error(`cannot pick ${count} distinct stores of ${this.stores}`);
    const seen = new Set<number>();
    for (let tries = 0; seen.size < count && tries < count * 50; tries++) seen.add(this.pick(random));
    for (let k = 1; seen.size < count; k++) seen.add(this.idOfRank(k));
    return [...seen];
  }
}
