/**
 * The capacity search: the highest offered rate at which one step (a fresh open-loop run at a fixed rate)
 * passes. First a coarse geometric ramp from `start` (× `factor` while steps pass, ÷ `factor` while they miss),
 * then a bisection between the highest rate that passed and the lowest that missed, until the two are within
 * `resolution` of each other. Every rate measured lies in [min, max]. A step whose measurement throws counts
 * as a miss (with the message as its reason), except AbortSearch, which ends the search (the process under
 * test died: nothing after it would be a measurement of it). Pure apart from `measure`, so a fake one tests it.
 */

export interface SearchBounds {
  /** First rate tried (requests/s). */
  readonly start: number;
  /** Never below, never above. */
  readonly min: number;
  readonly max: number;
  /** Ramp multiplier, > 1 (2: 250, 500, 1000, ...). */
  readonly factor: number;
  /** Bisection stops once (hi - lo) / lo <= resolution. */
  readonly resolution: number;
  /** At most this many steps in all, ramp included. */
  readonly maxSteps: number;
}

/** What `measure` says of one step. */
export interface StepJudgement<T> {
  readonly pass: boolean;
  /** Why it missed (`p99 312 ms > 250 ms`, `errors 12`), or null. */
  readonly reason: string | null;
  readonly figures: T | null;
}

export interface SearchStep<T> extends StepJudgement<T> {
  readonly index: number;
  readonly phase: 'ramp' | 'bisect';
  readonly rate: number;
}

export type StopReason =
  /** lo and hi within the resolution: the normal end. */
  | 'resolution'
  /** `max` passed: the capacity is at least `max`, the search could not tell more. */
  | 'upper-bound'
  /** `min` missed: the capacity is below `min` (capacity null). */
  | 'below-min'
  | 'max-steps'
  /** Bisection could not name a rate strictly between lo and hi at the rounding used. */
  | 'no-midpoint'
  | 'aborted';

export interface SearchResult<T> {
  /** The highest rate that passed (lo), or null when none did. */
  readonly capacity: number | null;
  readonly lo: number | null;
  /** The lowest rate that missed, or null when none did. */
  readonly hi: number | null;
  readonly stop: StopReason;
  /** AbortSearch's message when aborted. */
  readonly abortReason: string | null;
  readonly steps: readonly SearchStep<T>[];
}

/** Thrown by `measure` to end the search: the step cannot be measured, and neither could the next ones. */
export class AbortSearch extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AbortSearch';
  }
}

export function checkBounds(b: SearchBounds): void {
  const problems: string[] = [];
  if (!(b.min > 0) || !Number.isFinite(b.min)) problems.push('min must be a number > 0');
  if (!(b.max >= b.min) || !Number.isFinite(b.max)) problems.push('max must be a number >= min');
  if (!(b.start >= b.min && b.start <= b.max)) problems.push('start must lie in [min, max]');
  if (!(b.factor > 1) || !Number.isFinite(b.factor)) problems.push('factor must be > 1');
  if (!(b.resolution > 0) || !Number.isFinite(b.resolution)) problems.push('resolution must be > 0');
  if (!(Number.isInteger(b.maxSteps) && b.maxSteps >= 1))
    problems.push('maxSteps must be a whole number >= 1');
  if (problems.length > 0) throw new Error(`capacity search bounds: ${problems.join('; ')}`);
}

/** Rounds a rate to three significant digits (2625 -> 2630, 87.25 -> 87.3): rates that read well. */
export function roundRate(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x;
  const step = 10 ** (Math.floor(Math.log10(x)) - 2);
  return Number((Math.round(x / step) * step).toPrecision(12));
}

/** A round rate strictly between lo and hi, or null when the rounding leaves none. */
export function midpoint(lo: number, hi: number): number | null {
  const mid = roundRate((lo + hi) / 2);
  if (mid > lo && mid < hi) return mid;
  const exact = (lo + hi) / 2;
  return exact > lo && exact < hi ? exact : null;
}

export async function searchCapacity<T>(
  bounds: SearchBounds,
  measure: (rate: number, phase: SearchStep<T>['phase']) => Promise<StepJudgement<T>>,
  onStep?: (step: SearchStep<T>) => void,
): Promise<SearchResult<T>> {
  checkBounds(bounds);
  const steps: SearchStep<T>[] = [];
  let lo: number | null = null;
  let hi: number | null = null;

  const done = (stop: StopReason, abortReason: string | null = null): SearchResult<T> => ({
    capacity: lo,
    lo,
    hi,
    stop,
    abortReason,
    steps,
  });

  /** One step: whether it passed, or the AbortSearch that ended the search. */
  const step = async (rate: number, phase: SearchStep<T>['phase']): Promise<boolean | AbortSearch> => {
    let j: StepJudgement<T>;
    try {
      j = await measure(rate, phase);
    } catch (err) {
      if (err instanceof AbortSearch || (err instanceof Error && err.name === 'AbortSearch')) {
        return err as AbortSearch;
      }
      j = {
        pass: false,
        reason: `measurement failed: ${err instanceof Error ? err.message : String(err)}`,
        figures: null,
      };
    }
    const s: SearchStep<T> = {
      index: steps.length,
      phase,
      rate,
      pass: j.pass,
      reason: j.reason,
      figures: j.figures,
    };
    steps.push(s);
    onStep?.(s);
    if (j.pass) lo = lo === null ? rate : Math.max(lo, rate);
    else hi = hi === null ? rate : Math.min(hi, rate);
    return j.pass;
  };

  // Ramp: up by `factor` while steps pass, down while they miss, until one of each (or a bound).
  let rate = bounds.start;
  for (;;) {
    if (steps.length >= bounds.maxSteps) return done('max-steps');
    const passed = await step(rate, 'ramp');
    if (passed instanceof AbortSearch) return done('aborted', passed.message);
    if (passed) {
      if (hi !== null) break;
      if (rate >= bounds.max) return done('upper-bound');
      rate = Math.min(bounds.max, roundRate(rate * bounds.factor));
    } else {
      if (lo !== null) break;
      if (rate <= bounds.min) return done('below-min');
      rate = Math.max(bounds.min, roundRate(rate / bounds.factor));
    }
  }

  // Bisection between the highest pass and the lowest miss.
  for (;;) {
    const l = lo!;
    const h = hi!;
    if ((h - l) / l <= bounds.resolution) return done('resolution');
    if (steps.length >= bounds.maxSteps) return done('max-steps');
    const mid = midpoint(l, h);
    if (mid === null) return done('no-midpoint');
    const passed = await step(mid, 'bisect');
    if (passed instanceof AbortSearch) return done('aborted', passed.message);
  }
}

/** How many steps a search takes at most from `start` when the capacity is anywhere in [min, max]. */
export function worstCaseSteps(b: SearchBounds): number {
  const up = Math.ceil(Math.log(b.max / b.start) / Math.log(b.factor));
  const down = Math.ceil(Math.log(b.start / b.min) / Math.log(b.factor));
  // After the ramp lo and hi are a factor apart; each bisection halves (hi - lo).
  const bisect = Math.max(0, Math.ceil(Math.log2((b.factor - 1) / b.resolution)));
  return Math.min(b.maxSteps, Math.max(up, down) + 1 + bisect);
}
