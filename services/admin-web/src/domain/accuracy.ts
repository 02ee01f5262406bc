import { AccuracyQuery, type AccuracyPoint, type StoreAccuracyResponse } from '@eta/contracts';

/**
 * The live accuracy card's logic: which day "today" is in Seoul, and the API's answer reshaped for the
 * chart (delivered orders on a time axis of that Seoul day, each with its promise, range and actual
 * minutes; the hourly error as bars in the middle of their hour).
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const seoulDayFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Seoul',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The calendar day in Seoul at `now`, `YYYY-MM-DD`: the card's default date and its latest. */
export function seoulDay(now: Date): string {
  const parts = Object.fromEntries(seoulDayFormat.formatToParts(now).map((p) => [p.type, p.value]));
  return `${parts['year']}-${parts['month']}-${parts['day']}`;
}

/** Midnight of a Seoul day as epoch ms (Seoul is UTC+9 all year: no daylight saving time). */
export function seoulDayStart(day: string): number {
  return Date.parse(`${day}T00:00:00+09:00`);
}

/** A date the API takes (`AccuracyQuery`): what a date input gives, or '' while the owner clears it. */
export function isAccuracyDate(text: string): boolean {
  return text !== '' && AccuracyQuery.safeParse({ date: text }).success;
}

export interface AccuracyHourBar {
  readonly hour: number;
  /** The middle of the hour on the day's time axis. */
  readonly at: number;
  readonly maeMinutes: number;
  readonly orders: number;
}

export interface AccuracyModel {
  readonly date: string;
  readonly dayStart: number;
  /** The axis' end: midnight after the day, or later when an order placed that evening arrived after it. */
  readonly axisEnd: number;
  /** Delivered orders, oldest delivery first; the chart's series are index-aligned with it. */
  readonly points: readonly AccuracyPoint[];
  readonly predicted: readonly [number, number][];
  /** `[deliveredAt, low, high]`. */
  readonly band: readonly [number, number, number][];
  readonly actual: readonly [number, number][];
  readonly hours: readonly AccuracyHourBar[];
}

export function accuracyModel(res: StoreAccuracyResponse): AccuracyModel {
  const dayStart = seoulDayStart(res.date);
  const points = [...res.points].sort((a, b) => Date.parse(a.deliveredAt) - Date.parse(b.deliveredAt));
  const at = points.map((p) => Date.parse(p.deliveredAt));
  const lastDelivery = at.length === 0 ? dayStart : Math.max(...at);
  // Whole hours, so the axis' last label is on the hour like the others.
  const axisEnd = Math.max(
    dayStart + DAY_MS,
    Math.ceil((lastDelivery - dayStart) / HOUR_MS) * HOUR_MS + dayStart,
  );
  return {
    date: res.date,
    dayStart,
    axisEnd,
    points,
    predicted: points.map((p, i) => [at[i] ?? 0, p.predictedMinutes]),
    band: points.map((p, i) => [at[i] ?? 0, p.low, p.high]),
    actual: points.map((p, i) => [at[i] ?? 0, p.actualMinutes]),
    hours: res.hours
      .filter((h) => h.orders > 0 && h.maeMinutes !== null)
      .map((h) => ({
        hour: h.hour,
        at: dayStart + h.hour * HOUR_MS + HOUR_MS / 2,
        maeMinutes: h.maeMinutes ?? 0,
        orders: h.orders,
      }))
      .sort((a, b) => a.hour - b.hour),
  };
}

/**
 * Which way the day leaned. `bias` is predicted − actual: negative means orders arrived later than
 * promised. Under a twentieth of a minute it shows as 0.0 anyway, so it is called even.
 */
export function biasDirection(biasMinutes: number): 'late' | 'early' | 'none' {
  if (Math.abs(biasMinutes) < 0.05) return 'none';
  return biasMinutes < 0 ? 'late' : 'early';
}

/**
 * The plotted orders as text for the chart's `data-values` (browser tests cannot read a canvas):
 * `orderId=predicted/actual`, comma-separated, oldest delivery first. Order ids never hold `=`, `/` or `,`
 * (contracts' OrderId).
 */
export function accuracyChartValues(model: AccuracyModel): string {
  return model.points.map((p) => `${p.orderId}=${p.predictedMinutes}/${p.actualMinutes}`).join(',');
}
