import { build, type Histogram } from 'hdr-histogram-js';

/** Latency figures in milliseconds, recorded at microsecond resolution. */
export interface LatencyFigures {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p95: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * The median of a few figures (one per window or per start, not per request: those go through a
 * MicrosHistogram); the mean of the two middle ones for an even count, NaN for none.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

// One minute is far beyond any request timeout we use; values above it are clamped rather than
// thrown away, so a pathological stall still shows up as "max = 60 s" instead of vanishing.
const HIGHEST_US = 60_000_000;

/**
 * A microsecond HdrHistogram. Three significant digits keep the relative error under 0.1% at any
 * magnitude, which is what lets p99.9 and max be reported honestly without storing every sample.
 */
export class MicrosHistogram {
  readonly #h: Histogram;

  constructor() {
    this.#h = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: 3,
      bitBucketSize: 32,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  /** Records a duration given in milliseconds (performance.now() units). */
  recordMs(ms: number): void {
    const us = Math.round(ms * 1000);
    this.#h.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
  }

  get count(): number {
    return this.#h.totalCount;
  }

  figures(): LatencyFigures {
    const h = this.#h;
    if (h.totalCount === 0) {
      return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    }
    const ms = (us: number) => Math.round(us) / 1000;
    // A percentile is its bucket's upper edge, which can lie above the largest value actually
    // recorded; clamping keeps p99 <= max, as a reader expects.
    const max = h.maxValue;
    const at = (p: number) => ms(Math.min(h.getValueAtPercentile(p), max));
    return {
      count: h.totalCount,
      min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
      mean: ms(h.mean),
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: ms(max),
    };
  }
}
