import type { EstimateSource, PreviewPoint } from '@eta/contracts';

/** The preview answer reshaped for the chart and its one-line summary (i18n/text.ts words it). */
export interface PreviewModel {
  /** Hours of the day (Asia/Seoul), ascending. */
  readonly hours: number[];
  readonly eta: number[];
  /** The band is drawn as `low` plus a stacked `high - low`: ECharts' way of filling between two lines. */
  readonly low: number[];
  readonly spread: number[];
  readonly fastest: { readonly hour: number; readonly minutes: number } | null;
  readonly slowest: { readonly hour: number; readonly minutes: number } | null;
  /** Sources other than the model that appear, so the owner knows when manual times are what customers see. */
  readonly sources: readonly EstimateSource[];
}

export function previewModel(points: readonly PreviewPoint[]): PreviewModel {
  const sorted = [...points].sort((a, b) => a.hour - b.hour);
  let fastest: PreviewModel['fastest'] = null;
  let slowest: PreviewModel['slowest'] = null;
  for (const p of sorted) {
    // Strict comparisons: on a tie the earliest hour is named, which reads naturally.
    if (fastest === null || p.etaMinutes < fastest.minutes) fastest = { hour: p.hour, minutes: p.etaMinutes };
    if (slowest === null || p.etaMinutes > slowest.minutes) slowest = { hour: p.hour, minutes: p.etaMinutes };
  }
  return {
    hours: sorted.map((p) => p.hour),
    eta: sorted.map((p) => p.etaMinutes),
    low: sorted.map((p) => p.low),
    spread: sorted.map((p) => Math.max(0, p.high - p.low)),
    fastest,
    slowest,
    sources: [...new Set(sorted.map((p) => p.source))],
  };
}
