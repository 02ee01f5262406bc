/**
 * Five-field cron expressions as the Kubernetes CronJob controller reads them (robfig/cron's standard
 * parser): minute hour day-of-month month day-of-week; `*`, numbers, `a-b` ranges, `a,b` lists, `/step`,
 * month and weekday names (JAN, MON); day of week 0-7 with 0 and 7 Sunday. As in cron, when both the
 * day-of-month and the day-of-week are restricted (neither starts with `*`), a day matching either fires.
 * Used to replay the chart's hand-written schedules in the simulator and to write the learned ones.
 */
import { InputError } from './targets.ts';
import { WEEKDAYS } from './time.ts';

export interface Cron {
  readonly text: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday ... 6 = Saturday (7 folded into 0). */
  readonly weekdays: ReadonlySet<number>;
  readonly domStar: boolean;
  readonly dowStar: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function field(text: string, lo: number, hi: number, what: string, names?: readonly string[]): Set<number> {
  const out = new Set<number>();
  const value = (s: string): number => {
    const byName = names?.indexOf(s.toLowerCase()) ?? -1;
    if (byName >= 0) return byName + (what === 'month' ? 1 : 0);
    if (!/^\d+$/.test(s)) throw new InputError(`cron ${what} "${s}" is not a number`);
    const n = Number(s);
    if (n < lo || n > hi) throw new InputError(`cron ${what} ${n} is outside ${lo}-${hi}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') {
      throw new InputError(`cron ${what} "${part}" is malformed`);
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        throw new InputError(`cron ${what} step "${stepText}"`);
      step = Number(stepText);
    }
    let a: number;
    let b: number;
    if (range === '*') {
      [a, b] = [lo, hi];
    } else if (range.includes('-')) {
      const [x, y, more] = range.split('-');
      if (more !== undefined || x === undefined || y === undefined)
        throw new InputError(`cron ${what} "${range}"`);
      [a, b] = [value(x), value(y)];
      if (a > b) throw new InputError(`cron ${what} range ${range} runs backwards`);
    } else {
      a = value(range);
      // "5/15" means 5-max every 15, as robfig reads it.
      b = stepText !== undefined ? hi : a;
    }
    for (let n = a; n <= b; n += step) out.add(n);
  }
  return out;
}

export function parseCron(text: string): Cron {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) throw new InputError(`cron "${text}": expected five fields, found ${parts.length}`);
  const [mi, h, dom, mon, dow] = parts as [string, string, string, string, string];
  const weekdays = new Set([...field(dow, 0, 7, 'day-of-week', WEEKDAYS)].map((d) => d % 7));
  return {
    text,
    minutes: field(mi, 0, 59, 'minute'),
    hours: field(h, 0, 23, 'hour'),
    daysOfMonth: field(dom, 1, 31, 'day-of-month'),
    months: field(mon, 1, 12, 'month', MONTHS),
    weekdays,
    domStar: dom.startsWith('*'),
    dowStar: dow.startsWith('*'),
  };
}

/** Does the cron fire at this local minute? `date` is the local calendar date (UTC fields hold local time). */
export function cronMatches(c: Cron, local: Date): boolean {
  if (!c.minutes.has(local.getUTCMinutes()) || !c.hours.has(local.getUTCHours())) return false;
  if (!c.months.has(local.getUTCMonth() + 1)) return false;
  const domMatch = c.daysOfMonth.has(local.getUTCDate());
  const dowMatch = c.weekdays.has(local.getUTCDay());
  return c.domStar || c.dowStar ? domMatch && dowMatch : domMatch || dowMatch;
}

/** Day-of-week field for a set of weekdays (0 = Sunday): `*`, or ranges and lists ("1-5", "0,6"). */
export function weekdayField(days: readonly number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return '*';
  if (sorted.length === 0) throw new RangeError('no weekdays');
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    const a = sorted[i]!;
    const b = sorted[j]!;
    parts.push(j - i >= 2 ? `${a}-${b}` : j === i ? `${a}` : `${a},${b}`);
    i = j + 1;
  }
  return parts.join(',');
}
