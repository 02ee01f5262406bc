import { BUSY_MAX_HOURS } from '@eta/contracts';
import type { FieldIssue } from './field-issues.ts';

/**
 * Busy mode as the owner thinks of it: "15 more minutes for the next half hour". The API stores an end
 * instant (`until`); the form asks for a duration and computes it at the moment of saving, so time spent
 * on the form does not shorten the busy period.
 */

export const BUSY_DURATION_PRESETS = [15, 30, 60, 90] as const;
export const BUSY_MAX_DURATION_MINUTES = BUSY_MAX_HOURS * 60;

/** The end of busy mode `durationMinutes` from `now`, as the RFC 3339 string the API takes. */
export function busyUntil(now: Date, durationMinutes: number): string {
  return new Date(now.getTime() + durationMinutes * 60_000).toISOString();
}

/** Whole minutes of busy mode left at `now` (rounded up, so "1 min" shows until it really ends); 0 once over. */
export function busyMinutesLeft(until: string, now: Date): number {
  const ms = Date.parse(until) - now.getTime();
  return ms > 0 ? Math.ceil(ms / 60_000) : 0;
}

/**
 * A custom duration typed by the owner, in whole minutes, or why it is not one. The upper bound is the
 * API's (busy mode lasts at most BUSY_MAX_HOURS), so the owner hears it before a round trip.
 */
export function parseBusyDuration(
  text: string,
): { ok: true; minutes: number } | { ok: false; issue: FieldIssue } {
  const trimmed = text.trim();
  if (/^\d*\.\d+$/.test(trimmed)) return { ok: false, issue: { kind: 'notWhole' } };
  if (!/^\d+$/.test(trimmed)) return { ok: false, issue: { kind: 'notNumber' } };
  const minutes = Number(trimmed);
  if (minutes < 1) return { ok: false, issue: { kind: 'atLeast', minutes: 1 } };
  if (minutes > BUSY_MAX_DURATION_MINUTES) {
    return { ok: false, issue: { kind: 'busyTooLong', hours: BUSY_MAX_HOURS } };
  }
  return { ok: true, minutes };
}
