import type { EstimateSource, PreviewPoint } from '@eta/contracts';
import { formatHour } from './format.ts';

/** The preview answer reshaped for the chart and a one-line text summary (also what screen readers get). */
export interface PreviewModel {
  readonly labels: string[];
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
    labels: sorted.map((p) => formatHour(p.hour)),
    eta: sorted.map((p) => p.etaMinutes),
    low: sorted.map((p) => p.low),
    spread: sorted.map((p) => Math.max(0, p.high - p.low)),
    fastest,
    slowest,
    sources: [...new Set(sorted.map((p) => p.source))],
  };
}

export function previewSummary(m: PreviewModel): string {
  if (m.fastest === null || m.slowest === null) return 'No estimates for this store yet.';
  if (m.fastest.minutes === m.slowest.minutes) return `Customers see ${m.fastest.minutes} min all day.`;
  return (
    `Customers see ${m.fastest.minutes} min at the quietest (${formatHour(m.fastest.hour)}) ` +
    `to ${m.slowest.minutes} min at the busiest (${formatHour(m.slowest.hour)}).`
  );
}

const SOURCE_NOTES: Partial<Record<EstimateSource, string>> = {
  manual: 'Some hours use your manual times.',
  rough: 'Some hours use the quick model because the detailed one did not answer.',
  fallback: 'Some hours use a regional default because the store settings could not be read.',
};

export function previewSourceNotes(m: PreviewModel): string[] {
  return m.sources.flatMap((s) => (SOURCE_NOTES[s] === undefined ? [] : [SOURCE_NOTES[s]]));
}
