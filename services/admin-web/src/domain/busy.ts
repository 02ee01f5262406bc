import { BUSY_MAX_HOURS } from '@eta/contracts';

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
 * A custom duration typed by the owner, in whole minutes, or the reason it is not one. The upper bound is
 * the API's (busy mode lasts at most BUSY_MAX_HOURS), so the message comes before a round trip.
 */
export function parseBusyDuration(
  text: string,
): { ok: true; minutes: number } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: 'busy duration must be whole minutes' };
  const minutes = Number(trimmed);
  if (minutes < 1) return { ok: false, message: 'busy duration must be at least 1 minute' };
  if (minutes > BUSY_MAX_DURATION_MINUTES) {
    return { ok: false, message: `busy mode lasts at most ${BUSY_MAX_HOURS} hours` };
  }
  return { ok: true, minutes };
}
