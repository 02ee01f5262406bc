/**
 * Whether one fixed-rate step held the role's SLO: no more failed requests than allowed (0 by default; a
 * degraded estimate fails its check), p99 of the successful ones within the SLO, and a generator that kept
 * the schedule (otherwise the step measured the generator and counts as a miss, with that reason).
 */
import { fmtMs, type LoadResult } from '../result.ts';
import type { RoleSlo } from './options.ts';

export type StepLoad = Pick<
  LoadResult,
  'scheduled' | 'ok' | 'errors' | 'errorsByKind' | 'latencyMs' | 'schedulingLagMs'
>;

export function judgeStep(
  r: StepLoad,
  slo: RoleSlo,
  maxLagMs: number,
): { pass: boolean; reason: string | null } {
  const reasons: string[] = [];
  const rate = r.scheduled > 0 ? r.errors / r.scheduled : 0;
  if (r.errors > 0 && rate > slo.maxErrorRate) {
    const kinds = Object.entries(r.errorsByKind)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    reasons.push(`errors ${r.errors} of ${r.scheduled}${kinds === '' ? '' : ` (${kinds})`}`);
  }
  if (r.ok === 0) reasons.push('no successful request');
  else if (r.latencyMs.p99 > slo.p99Ms) reasons.push(`p99 ${fmtMs(r.latencyMs.p99)} > ${slo.p99Ms}ms`);
  if (r.schedulingLagMs.p99 > maxLagMs) {
    reasons.push(`generator fell behind: send lag p99 ${fmtMs(r.schedulingLagMs.p99)} > ${maxLagMs}ms`);
  }
  return { pass: reasons.length === 0, reason: reasons.length === 0 ? null : reasons.join('; ') };
}

/** True when the only reason a step missed is the generator's own lag: the search hit the generator's limit. */
export function generatorOnly(reason: string | null): boolean {
  return reason !== null && reason.split('; ').every((r) => r.startsWith('generator fell behind'));
}
