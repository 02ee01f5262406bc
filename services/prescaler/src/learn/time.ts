/**
 * Local time of a fixed-offset zone, in plain arithmetic. The plan works in the chart's `timeZone`
 * (Asia/Seoul: +09:00, no daylight saving since 1988); instead of trusting that, fixedUtcOffsetSeconds
 * asks the runtime's time-zone database (Intl) for the zone's offset over the whole period involved and
 * refuses a zone whose offset changes, where "the 18:00 slot" would mean two different instants.
 */
import { InputError } from './targets.ts';

export const MINUTE_S = 60;
export const DAY_S = 86_400;
export const WEEK_S = 7 * DAY_S;
/** Cron's day-of-week numbers: 0 = Sunday ... 6 = Saturday. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** The zone's UTC offset in seconds at `epochS`, from Intl ("GMT+09:00" -> 32400). */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function utcOffsetSeconds(zone: string, epochS: number): number {
  let fmt = formatters.get(zone);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    } catch {
      throw new InputError(`time zone "${zone}" is not an IANA zone this runtime knows`);
    }
    formatters.set(zone, fmt);
  }
  const name = fmt.formatToParts(new Date(epochS * 1000)).find((p) => p.type === 'timeZoneName')?.value;
  if (name === 'GMT') return 0;
  const m = /^GMT([+-])(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(name ?? '');
  if (!m) throw new Error(`unexpected offset name ${name} for ${zone}`);
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -s : s;
}

/** Checks the zone every 3 hours from `fromS` to `toS`: DST or any other offset change is refused. */
export function fixedUtcOffsetSeconds(zone: string, fromS: number, toS: number): number {
  const first = utcOffsetSeconds(zone, fromS);
  const step = 3 * 3600;
  for (let t = fromS; ; t = Math.min(t + step, toS)) {
    const o = utcOffsetSeconds(zone, t);
    if (o !== first) {
      throw new InputError(
        `time zone ${zone} changes its UTC offset between ${new Date(fromS * 1000).toISOString()} and ` +
          `${new Date(t * 1000).toISOString()} (${formatOffset(first)} -> ${formatOffset(o)}): the plan needs a ` +
          'zone with one fixed offset (Asia/Seoul has had no daylight saving since 1988)',
      );
    }
    if (t >= toS) return first;
  }
}

export function formatOffset(s: number): string {
  const a = Math.abs(s);
  const hh = String(Math.floor(a / 3600)).padStart(2, '0');
  const mm = String(Math.floor((a % 3600) / 60)).padStart(2, '0');
  return `${s < 0 ? '-' : '+'}${hh}:${mm}`;
}

export interface LocalTime {
  /** Local calendar day, counted in days since 1970-01-01 (local). */
  readonly day: number;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
  readonly secondOfDay: number;
}

export function localTime(epochS: number, offsetS: number): LocalTime {
  const local = epochS + offsetS;
  const day = Math.floor(local / DAY_S);
  // 1970-01-01 was a Thursday (4).
  const weekday = (((day + 4) % 7) + 7) % 7;
  return { day, weekday, secondOfDay: local - day * DAY_S };
}

/** Local date YYYY-MM-DD of a local day number. */
export function localDate(day: number): string {
  return new Date(day * DAY_S * 1000).toISOString().slice(0, 10);
}

/** The local day number of a YYYY-MM-DD date. */
export function dayOfDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || !Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new InputError(`"${date}" is not a date (YYYY-MM-DD)`);
  }
  return ms / 1000 / DAY_S;
}

/**
 * A minute of the week (0 = Sunday 00:00) moved by `deltaMinutes` (negative: earlier), wrapping around the
 * week: Monday 00:10 moved 30 minutes earlier is Sunday 23:40.
 */
export function shiftMinuteOfWeek(minuteOfWeek: number, deltaMinutes: number): number {
  const week = 7 * 24 * 60;
  return (((minuteOfWeek + deltaMinutes) % week) + week) % week;
}

export function describeMinuteOfWeek(minuteOfWeek: number): string {
  const wd = Math.floor(minuteOfWeek / 1440);
  const m = minuteOfWeek % 1440;
  return `${WEEKDAYS[wd]} ${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
