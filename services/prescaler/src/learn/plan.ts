/**
 * The pre-scale plan learned from traffic history (services/prescaler/README.md, "The plan").
 *
 * 1. Local time: every sample is placed in the chart's time zone, which must keep one UTC offset over the
 *    history and the year after it (Asia/Seoul: +09:00, checked against the runtime's zone database).
 * 2. Per role, per local day and slot (15 or 30 minutes): the peak rate in the slot. A sample stands for
 *    the rate from its timestamp until the next sample (at most max(MAX_HOLD_S, two median steps); the
 *    last one, and one before a longer gap, for one median step).
 * 3. Per weekday and slot: the chosen quantile (default p95, `linear`) of those peaks across the history's
 *    weeks (across all days of the weekday's group, with day groups such as mon-fri,sat+sun). A weekday
 *    the history never covers takes its group's covered days, else all covered days. Only whole days
 *    count: a day with a slot without samples (a history starting or ending mid-day, a scrape outage) is
 *    left out with a note; a history without a whole day is refused.
 * 4. required = max(floor, ceil(quantile / rpsPerPod x headroom)), floor = --min or the HPA's minReplicas,
 *    at most the HPA's maxReplicas (a warning says when the traffic needed more).
 * 5. Lead, in whole slots so that every raise lands before its traffic (rounded up):
 *      kTotal = ceil((podStart + nodeDelay + CONTROL_DELAY_S) / slot),  kPod = ceil((podStart + CONTROL_DELAY_S) / slot).
 *    A role with a placeholder pool: minReplicas(i) = max required over slots i..i+kPod, and the pool holds
 *      placeholders(i) = [max required over i..i+kTotal - minReplicas(i)]            (lead)
 *                      + max(0, minReplicas(i) - minReplicas(i-1))                     (ramp)
 *    Lead: nodes for the pods the next raises will add come up a node delay before those pods are
 *    created (zero when the pods' own lead already covers the node delay). Ramp: while the plan rises,
 *    room for one more raise as large as the last, so the HPA can go past the plan without waiting for a
 *    node. Real pods preempt placeholders at once. A role without a pool: minReplicas(i) = max required
 *    over i..i+kTotal (its pods wait for their nodes themselves). Taking the maximum over the window
 *    ahead advances raises and never advances a lowering: a value falls only at the slot whose own
 *    requirement (and the next k's) fell.
 * 6. Every slot whose values differ from the slot before (cyclically over the week) starts a schedule
 *    setting all values (absolute, as the prescaler sets them); equal consecutive slots make no schedule.
 *    Schedules at the same time of day with the same values on several weekdays become one, with those
 *    weekdays in the day-of-week field (`*` for all seven).
 */
import type { Capacity } from './capacity.ts';
import { weekdayField } from './cron.ts';
import { byRole, type Sample } from './history.ts';
import { quantile, type QuantileMethod } from './quantile.ts';
import { InputError, type TargetId, TARGETS } from './targets.ts';
import { DAY_S, fixedUtcOffsetSeconds, localDate, localTime, WEEKDAYS } from './time.ts';

/**
 * A sample holds until the next one for at most this long, or two of the series' usual steps if longer; a
 * longer silence is a gap (the sample then holds one usual step).
 */
export const MAX_HOLD_S = 900;
/** The CronJob's own pod start and the HPA's next 15 s sync: between a schedule's time and pods being created. */
export const CONTROL_DELAY_S = 30;
export const DEFAULT_POD_START_S = 60;
export const DEFAULT_NODE_DELAY_S = 240;

/** One entry of the suite chart's prescale.schedules (charts/suite/values.schema.json). */
export interface ChartSchedule {
  readonly name: string;
  readonly schedule: string;
  readonly minReplicas: Partial<Record<TargetId, number>>;
  readonly placeholders?: Readonly<Record<string, number>>;
}

export interface RoleBounds {
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

export interface PlanOptions {
  /** 0 < q <= 1. */
  readonly quantile: number;
  readonly method: QuantileMethod;
  /** Multiplies the rate before dividing by capacity (1.2: pods run at most at 83 % of capacity). */
  readonly headroom: number;
  readonly slotMinutes: 15 | 30;
  readonly nodeDelayS: number;
  /** Overrides every role's measured podStartSeconds. */
  readonly podStartS?: number | undefined;
  /** Overrides every role's HPA minReplicas as the floor. */
  readonly min?: number | undefined;
  /** IANA zone of the schedules (the chart's `timeZone`). */
  readonly timeZone: string;
  /** The HPA bounds of every target that has an HPA in the release; a role without one is not planned. */
  readonly bounds: Partial<Record<TargetId, RoleBounds>>;
  /** Placeholder pools (placeholders.pools, when placeholders are enabled): pool -> its workload. */
  readonly pools: Readonly<Record<string, TargetId>>;
  /** Weekdays that share one profile (parseDayGroups); default each weekday its own. */
  readonly dayGroups?: readonly (readonly number[])[] | undefined;
}

export interface RolePlan {
  readonly role: TargetId;
  readonly rpsPerPod: number;
  readonly podStartS: number;
  readonly kPod: number;
  readonly kTotal: number;
  readonly pool?: string;
  /** Per slot of the week (index = weekday x slotsPerDay + slot, weekday 0 = Sunday). */
  readonly quantileRps: readonly number[];
  readonly required: readonly number[];
  readonly minReplicas: readonly number[];
  readonly placeholders: readonly number[];
}

export interface LearnedPlan {
  readonly slotMinutes: number;
  readonly offsetS: number;
  readonly roles: readonly RolePlan[];
  readonly schedules: readonly ChartSchedule[];
  /** Shortest time between two firings anywhere in the week, seconds (for startingDeadlineSeconds). */
  readonly shortestGapS: number;
  readonly warnings: readonly string[];
}

/** max of values[i..i+k], cyclically. */
export function maxAhead(values: readonly number[], k: number): number[] {
  const n = values.length;
  return values.map((_, i) => {
    let m = -Infinity;
    for (let j = 0; j <= k; j++) m = Math.max(m, values[(i + j) % n]!);
    return m;
  });
}

/** ceil, forgiving the floating-point dust of a division that is meant to be whole (1000 / 500 x 1.2 ...). */
export function ceilReplicas(x: number): number {
  return Math.ceil(x - 1e-9);
}

function medianStep(times: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) steps.push(times[i]! - times[i - 1]!);
  if (steps.length === 0) return 60;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

/**
 * Per local day and slot, the peak rate of one role's samples (sorted by time): a map from
 * day x slotsPerDay + slot to the peak.
 */
export function slotPeaks(samples: readonly Sample[], offsetS: number, slotS: number): Map<number, number> {
  const perDay = DAY_S / slotS;
  const step = medianStep(samples.map((s) => s.t));
  const peaks = new Map<number, number>();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const next = samples[i + 1]?.t;
    const end = next !== undefined && next - s.t <= Math.max(MAX_HOLD_S, 2 * step) ? next : s.t + step;
    const a = localTime(s.t, offsetS);
    const first = a.day * perDay + Math.floor(a.secondOfDay / slotS);
    // The last slot the interval [t, end) reaches.
    const b = localTime(end, offsetS);
    const lastRaw = b.day * perDay + Math.floor(b.secondOfDay / slotS);
    const last = b.secondOfDay % slotS === 0 ? lastRaw - 1 : lastRaw;
    for (let k = first; k <= Math.max(first, last); k++)
      peaks.set(k, Math.max(peaks.get(k) ?? -Infinity, s.rps));
  }
  return peaks;
}

/** 'up' when some value rises and none falls, 'down' the other way round, 'set' when both, 'same' when neither. */
function compare(before: readonly (number | undefined)[], after: readonly (number | undefined)[]): string {
  const up = after.some((v, k) => (v ?? 0) > (before[k] ?? 0));
  const down = after.some((v, k) => (v ?? 0) < (before[k] ?? 0));
  return up && down ? 'set' : up ? 'up' : down ? 'down' : 'same';
}

function hhmm(minuteOfDay: number): string {
  return `${String(Math.floor(minuteOfDay / 60)).padStart(2, '0')}${String(minuteOfDay % 60).padStart(2, '0')}`;
}

const SHORT_DAYS = ['su', 'mo', 'tu', 'we', 'th', 'fr', 'sa'];

/**
 * Schedule name: days, time, direction ("daily-1045-up", "weekdays-1730-up", "weekend-2100-down",
 * "mowefr-1100-set"); at most 23 characters (the chart allows 30, and 52 for "<release>-prescale-<name>").
 */
export function scheduleName(weekdays: readonly number[], minuteOfDay: number, direction: string): string {
  const days = [...new Set(weekdays)].sort((a, b) => a - b);
  const key = days.join('');
  const label =
    key === '0123456'
      ? 'daily'
      : key === '12345'
        ? 'weekdays'
        : key === '06'
          ? 'weekend'
          : days.map((d) => SHORT_DAYS[d]).join('');
  return `${label}-${hhmm(minuteOfDay)}-${direction}`;
}

/**
 * Weekday groups from text: "each" (every weekday on its own, the default), "all" (one profile for the
 * week), or groups separated by commas, each a day, a range or days joined by "+": "mon-fri,sat+sun".
 * Days not named form groups of their own.
 */
export function parseDayGroups(text: string): number[][] {
  const t = text.trim().toLowerCase();
  if (t === 'each') return [0, 1, 2, 3, 4, 5, 6].map((d) => [d]);
  if (t === 'all') return [[0, 1, 2, 3, 4, 5, 6]];
  const day = (s: string) => {
    const d = (WEEKDAYS as readonly string[]).indexOf(s);
    if (d < 0) throw new InputError(`day groups "${text}": "${s}" is not a day (sun, mon, ... sat)`);
    return d;
  };
  const seen = new Set<number>();
  const groups = t.split(',').map((g) => {
    const days: number[] = [];
    for (const part of g.split('+')) {
      const [a, b, extra] = part.trim().split('-');
      if (a === undefined || a === '' || extra !== undefined)
        throw new InputError(`day groups "${text}": "${part}"`);
      // A range runs forward through the week: fri-mon is fri, sat, sun, mon.
      const from = day(a);
      const to = b === undefined ? from : day(b);
      for (let d = from; ; d = (d + 1) % 7) {
        days.push(d);
        if (d === to) break;
      }
    }
    for (const d of days) {
      if (seen.has(d)) throw new InputError(`day groups "${text}": ${WEEKDAYS[d]} is in two groups`);
      seen.add(d);
    }
    return days;
  });
  for (let d = 0; d < 7; d++) if (!seen.has(d)) groups.push([d]);
  return groups;
}

function validate(o: PlanOptions): void {
  const bad: string[] = [];
  if (!(o.quantile > 0 && o.quantile <= 1)) bad.push(`quantile ${o.quantile}: expected 0 < q <= 1`);
  if (!(o.headroom > 0 && o.headroom <= 10)) bad.push(`headroom ${o.headroom}: expected > 0 and <= 10`);
  if (o.slotMinutes !== 15 && o.slotMinutes !== 30)
    bad.push(`slot ${o.slotMinutes}: expected 15 or 30 minutes`);
  if (!(o.nodeDelayS >= 0 && o.nodeDelayS <= 3600))
    bad.push(`node delay ${o.nodeDelayS}: expected 0..3600 s`);
  if (o.podStartS !== undefined && !(o.podStartS >= 0 && o.podStartS <= 3600)) {
    bad.push(`pod start ${o.podStartS}: expected 0..3600 s`);
  }
  if (o.min !== undefined && !(Number.isInteger(o.min) && o.min >= 1 && o.min <= 1000)) {
    bad.push(`min ${o.min}: expected a whole number 1..1000`);
  }
  if (bad.length > 0) throw new InputError(bad.join('; '));
}

export function learnPlan(samples: readonly Sample[], capacity: Capacity, o: PlanOptions): LearnedPlan {
  validate(o);
  if (samples.length === 0) throw new InputError('the history has no samples');
  const warnings: string[] = [];
  const slotS = o.slotMinutes * 60;
  const perDay = DAY_S / slotS;
  const n = 7 * perDay;
  let from = Infinity;
  let to = -Infinity;
  for (const s of samples) {
    from = Math.min(from, s.t);
    to = Math.max(to, s.t);
  }
  // The schedules will run after the history: the zone must keep its offset for a year beyond it too.
  const offsetS = fixedUtcOffsetSeconds(o.timeZone, from, to + 366 * DAY_S);

  const groups = byRole(samples);
  const roles: RolePlan[] = [];
  for (const role of TARGETS) {
    const list = groups.get(role);
    if (!list) continue;
    const cap = capacity.roles[role];
    if (!cap) throw new InputError(`the history has ${role} but the capacity file does not`);
    const bounds = o.bounds[role];
    if (!bounds) {
      warnings.push(
        `${role}: in the history, but the release gives it no HPA (disabled, or autoscaling off): not planned`,
      );
      continue;
    }
    const peaks = slotPeaks(list, offsetS, slotS);
    // Whole days only: a day some slot of which has no sample (the history's first and last days when it
    // does not start and end at midnight, a day with a scrape outage) is left out.
    const slotsOfDay = new Map<number, number>();
    for (const key of peaks.keys()) {
      const day = Math.floor(key / perDay);
      slotsOfDay.set(day, (slotsOfDay.get(day) ?? 0) + 1);
    }
    const partial = [...slotsOfDay].filter(([, count]) => count < perDay).map(([day]) => day);
    if (partial.length === slotsOfDay.size) {
      throw new InputError(
        `${role}: the history has no whole day in ${o.timeZone} (every day misses samples in some ${o.slotMinutes}-minute slot); give whole days`,
      );
    }
    if (partial.length > 0) {
      const dates = partial.sort((a, b) => a - b).map(localDate);
      warnings.push(
        `${role}: left out ${partial.length} day(s) with slots without samples: ${dates.slice(0, 5).join(', ')}${dates.length > 5 ? ', ...' : ''}`,
      );
    }
    const whole = new Set([...slotsOfDay.keys()].filter((d) => !partial.includes(d)));
    // Per weekday and slot: the peaks of each whole day.
    const perWeekdaySlot: number[][] = Array.from({ length: n }, () => []);
    const coveredDays = new Map<number, number>(); // day -> weekday
    for (const [key, v] of peaks) {
      const day = Math.floor(key / perDay);
      if (!whole.has(day)) continue;
      const weekday = (((day + 4) % 7) + 7) % 7;
      coveredDays.set(day, weekday);
      perWeekdaySlot[weekday * perDay + (key - day * perDay)]!.push(v);
    }
    const coveredWeekdays = new Set(coveredDays.values());
    const uncovered = [0, 1, 2, 3, 4, 5, 6].filter((w) => !coveredWeekdays.has(w));
    if (uncovered.length > 0) {
      warnings.push(
        `${role}: the history has no ${uncovered.map((w) => WEEKDAYS[w]).join(', ')}; ` +
          `those days take the quantile over their day group's covered days, or all ${coveredDays.size} covered day(s)`,
      );
    }
    const groupOf = (w: number) => (o.dayGroups ?? []).find((g) => g.includes(w)) ?? [w];
    const quantileRps: number[] = new Array<number>(n);
    for (let w = 0; w < 7; w++) {
      const covered = groupOf(w).filter((d) => coveredWeekdays.has(d));
      const from = covered.length > 0 ? covered : [...coveredWeekdays];
      for (let s = 0; s < perDay; s++) {
        quantileRps[w * perDay + s] = quantile(
          from.flatMap((d) => perWeekdaySlot[d * perDay + s]!),
          o.quantile,
          o.method,
        );
      }
    }
    const floor = Math.max(1, o.min ?? bounds.minReplicas);
    if (floor > bounds.maxReplicas) {
      throw new InputError(
        `${role}: the floor ${floor} is above the HPA's maxReplicas ${bounds.maxReplicas}`,
      );
    }
    let capped = 0;
    let worst = 0;
    const required = quantileRps.map((q) => {
      const r = Math.max(floor, ceilReplicas((q / cap.rpsPerPod) * o.headroom));
      if (r > bounds.maxReplicas) {
        capped++;
        worst = Math.max(worst, r);
        return bounds.maxReplicas;
      }
      return r;
    });
    if (capped > 0) {
      warnings.push(
        `${role}: ${capped} slot(s) of the week need up to ${worst} replicas, above the HPA's maxReplicas ${bounds.maxReplicas}; ` +
          'planned at the maximum (raise maxReplicas, or those peaks run short)',
      );
    }
    const podStartS = o.podStartS ?? cap.podStartSeconds ?? DEFAULT_POD_START_S;
    const pool = Object.keys(o.pools)
      .sort()
      .find((p) => o.pools[p] === role);
    const kTotal = Math.ceil((podStartS + o.nodeDelayS + CONTROL_DELAY_S) / slotS);
    const kPod = pool !== undefined ? Math.ceil((podStartS + CONTROL_DELAY_S) / slotS) : kTotal;
    const minReplicas = maxAhead(required, kPod);
    const nodesAhead = maxAhead(required, kTotal);
    // Lead: room for the pods the raises of the next kTotal - kPod slots will add. Ramp: while the plan
    // rises, room for one more raise as large as the last one, so the HPA can go past the plan without
    // waiting for a node.
    const placeholders =
      pool !== undefined
        ? nodesAhead.map(
            (t, i) => t - minReplicas[i]! + Math.max(0, minReplicas[i]! - minReplicas[(i - 1 + n) % n]!),
          )
        : new Array<number>(n).fill(0);
    roles.push({
      role,
      rpsPerPod: cap.rpsPerPod,
      podStartS,
      kPod,
      kTotal,
      ...(pool !== undefined && { pool }),
      quantileRps,
      required,
      minReplicas,
      placeholders,
    });
  }
  if (roles.length === 0) throw new InputError('no role of the history can be planned');
  for (const role of Object.keys(o.bounds) as TargetId[]) {
    if (!groups.has(role)) warnings.push(`${role}: not in the history; the schedules leave its HPA alone`);
  }

  // Pools the schedules set: every pool of a planned workload (a second pool of one workload stays at 0).
  const poolsSet = Object.keys(o.pools)
    .sort()
    .filter((p) => roles.some((r) => r.role === o.pools[p]));
  const stateAt = (i: number) => {
    const minReplicas: Partial<Record<TargetId, number>> = {};
    for (const r of roles) minReplicas[r.role] = r.minReplicas[i]!;
    const placeholders: Record<string, number> = {};
    for (const p of poolsSet) {
      const r = roles.find((x) => x.pool === p);
      placeholders[p] = r ? r.placeholders[i]! : 0;
    }
    return { minReplicas, placeholders };
  };
  const keyOf = (st: ReturnType<typeof stateAt>) => JSON.stringify(st);

  // Change points over the cyclic week; with none, one daily schedule at 00:00 sets the constant values.
  interface Change {
    i: number;
    key: string;
    state: ReturnType<typeof stateAt>;
    direction: string;
  }
  const changes: Change[] = [];
  for (let i = 0; i < n; i++) {
    const prev = stateAt((i - 1 + n) % n);
    const cur = stateAt(i);
    if (keyOf(prev) === keyOf(cur)) continue;
    // Judged by the replicas; by the placeholders only when the replicas stay (placeholders fall as pods
    // take their room, so a raise often lowers them).
    let direction = compare(Object.values(prev.minReplicas), Object.values(cur.minReplicas));
    if (direction === 'same')
      direction = compare(Object.values(prev.placeholders), Object.values(cur.placeholders));
    changes.push({ i, key: keyOf(cur), state: cur, direction });
  }
  if (changes.length === 0) {
    const st = stateAt(0);
    changes.push(
      ...[0, 1, 2, 3, 4, 5, 6].map((w) => ({
        i: w * perDay,
        key: keyOf(st),
        state: st,
        direction: 'set' as const,
      })),
    );
  }

  // Group by (time of day, values) across weekdays.
  const groupsByTime = new Map<
    string,
    { minuteOfDay: number; days: number[]; state: Change['state']; dirs: Set<string> }
  >();
  for (const c of changes) {
    const w = Math.floor(c.i / perDay);
    const minuteOfDay = (c.i % perDay) * o.slotMinutes;
    const k = `${minuteOfDay}|${c.key}`;
    let g = groupsByTime.get(k);
    if (!g) groupsByTime.set(k, (g = { minuteOfDay, days: [], state: c.state, dirs: new Set() }));
    g.days.push(w);
    g.dirs.add(c.direction);
  }
  const schedules: ChartSchedule[] = [...groupsByTime.values()]
    .sort((a, b) => a.minuteOfDay - b.minuteOfDay || Math.min(...a.days) - Math.min(...b.days))
    .map((g) => {
      const direction = g.dirs.size === 1 ? [...g.dirs][0]! : 'set';
      return {
        name: scheduleName(g.days, g.minuteOfDay, direction),
        schedule: `${g.minuteOfDay % 60} ${Math.floor(g.minuteOfDay / 60)} * * ${weekdayField(g.days)}`,
        minReplicas: g.state.minReplicas,
        ...(poolsSet.length > 0 && { placeholders: g.state.placeholders }),
      };
    });

  const firings = [...new Set(changes.map((c) => c.i))].sort((a, b) => a - b);
  let shortestGapS = 7 * DAY_S;
  for (let k = 0; k < firings.length && firings.length > 1; k++) {
    const a = firings[k]!;
    const b = firings[(k + 1) % firings.length]!;
    shortestGapS = Math.min(shortestGapS, ((b - a + n) % n || n) * slotS);
  }
  return { slotMinutes: o.slotMinutes, offsetS, roles, schedules, shortestGapS, warnings };
}
