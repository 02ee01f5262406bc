/**
 * Deterministic synthetic traffic for the tests: a Seoul delivery day with a lunch and a dinner peak
 * (the shape only; the meal-peak benchmark derives the real one from order times).
 */
import { seededRandom } from '@eta/testing';
import type { Sample } from '../../src/learn/history.ts';
import type { TargetId } from '../../src/learn/targets.ts';

const SEOUL = 9 * 3600;

/** The peaks' widths (standard deviations, minutes): the default is a smooth day. */
export interface PeakWidths {
  readonly lunch: number;
  readonly dinner: number;
}
export const SMOOTH: PeakWidths = { lunch: 45, dinner: 60 };
/** Steeper peaks: most of a meal's rise within half an hour. */
export const STEEP: PeakWidths = { lunch: 20, dinner: 25 };

/** Rate at a local minute of the day, as a fraction of the dinner peak. */
export function mealShape(minuteOfDay: number, weekend = false, widths: PeakWidths = SMOOTH): number {
  const g = (mu: number, sigma: number) => Math.exp(-0.5 * ((minuteOfDay - mu) / sigma) ** 2);
  return 0.05 + (weekend ? 0.85 : 0.7) * g(12 * 60 + 15, widths.lunch) + 1.0 * g(18 * 60 + 45, widths.dinner);
}

/** Epoch seconds of local (Seoul) midnight of a date. */
export function seoulMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00+09:00`) / 1000;
}

/**
 * Per-minute samples for `days` days from the Seoul date `first`, each role at `peak` x shape, with up to
 * `noise` relative noise.
 */
export function mealPeakHistory(
  first: string,
  days: number,
  peaks: Partial<Record<TargetId, number>>,
  noise = 0.05,
  seed = 1,
  widths: PeakWidths = SMOOTH,
): Sample[] {
  const rnd = seededRandom(seed);
  const out: Sample[] = [];
  const start = seoulMidnight(first);
  for (let d = 0; d < days; d++) {
    const weekday = new Date((start + d * 86400 + SEOUL) * 1000).getUTCDay();
    for (let m = 0; m < 1440; m++) {
      const t = start + d * 86400 + m * 60;
      for (const [role, peak] of Object.entries(peaks) as [TargetId, number][]) {
        const rps =
          peak * mealShape(m, weekday === 0 || weekday === 6, widths) * (1 + noise * (2 * rnd() - 1));
        out.push({ t, role, rps: Math.round(rps * 10) / 10 });
      }
    }
  }
  return out;
}

export function toCsv(samples: readonly Sample[]): string {
  return `timestamp,role,rps\n${samples.map((s) => `${s.t},${s.role},${s.rps}`).join('\n')}\n`;
}
