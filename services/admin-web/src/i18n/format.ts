import type { IntlShape } from 'react-intl';
import { STORE_TIME_ZONE } from './index.ts';

/**
 * Numbers, minutes, dates and times for the chosen language, always in Asia/Seoul (the intl object
 * carries the zone; it is repeated on every call so a formatter made elsewhere cannot show device time).
 * Minutes use Intl's `minute` unit: "45분" in Korean, "45 min" in English, with the locale's decimals.
 */

const SEOUL = { timeZone: STORE_TIME_ZONE } as const;

const toDate = (at: string | number | Date): Date => (at instanceof Date ? at : new Date(at));

/** `45분` / `45 min`; fractions to one decimal (`4.3분`), as figures like an average need. */
export function formatMinutes(intl: IntlShape, minutes: number, fractionDigits = 1): string {
  return intl.formatNumber(minutes, {
    style: 'unit',
    unit: 'minute',
    unitDisplay: 'short',
    maximumFractionDigits: fractionDigits,
  });
}

/** `오후 2:30` / `2:30 PM` in Seoul. */
export function formatTime(intl: IntlShape, at: string | number | Date): string {
  return intl.formatTime(toDate(at), { ...SEOUL, hour: 'numeric', minute: '2-digit' });
}

/** `2026. 3. 3. 오후 2:30` / `Mar 3, 2026, 2:30 PM` in Seoul. */
export function formatDateTime(intl: IntlShape, at: string | number | Date): string {
  return intl.formatDate(toDate(at), { ...SEOUL, dateStyle: 'medium', timeStyle: 'short' });
}

/** A Seoul calendar day (`YYYY-MM-DD`) for a sentence: `2026년 3월 3일 화요일` / `Tuesday, March 3, 2026`. */
export function formatDay(intl: IntlShape, day: string): string {
  // Noon of that day in Seoul: the same calendar day in every zone the formatter could be asked about.
  return intl.formatDate(new Date(`${day}T12:00:00+09:00`), {
    ...SEOUL,
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    weekday: 'long',
  });
}

/** The instant an hour of a Seoul day starts (Seoul has no daylight saving time: always UTC+9). */
export function seoulHourInstant(hour: number, day = '2000-01-01'): Date {
  return new Date(Date.parse(`${day}T00:00:00+09:00`) + hour * 3_600_000);
}

/** An hour of the day as the language says it: `오후 2시` / `2 PM` (chart axes, "the busiest hour"). */
export function formatHour(intl: IntlShape, hour: number): string {
  return intl.formatTime(seoulHourInstant(hour), { ...SEOUL, hour: 'numeric' });
}

/** An instant on a chart axis: the hour when it is on the hour (`오후 3시`), else the time. */
export function formatAxisTime(intl: IntlShape, at: number): string {
  const d = new Date(at);
  return d.getUTCMinutes() === 0 ? intl.formatTime(d, { ...SEOUL, hour: 'numeric' }) : formatTime(intl, d);
}

/** `83%`. */
export function formatPercent(intl: IntlShape, share: number): string {
  return intl.formatNumber(share, { style: 'percent', maximumFractionDigits: 0 });
}

/** A count as the locale writes it (`1,234`). */
export function formatCount(intl: IntlShape, n: number): string {
  return intl.formatNumber(n);
}
