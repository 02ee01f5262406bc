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
 * 5. Lead, to the minute (cron's resolution): a slot's requirement is in place from its start minus the
 *    lead, rounded down to the minute, until the slot ends, so a raise lands as early as needed and no
 *    earlier (the slot aggregation stays; only the raise's time is finer):
 *      leadNodes = max over the roles of ceil((podStart + nodeDelay + CONTROL_DELAY_S) / 60 s),
 *      leadPods  = max over the roles with a placeholder pool of ceil((podStart + CONTROL_DELAY_S) / 60 s),
 *      ahead(t, lead) = max required[i] over the slots i with start(i) - lead <= t < end(i)   (t: minute of the week).
 *    The roles share the longest lead of each kind, so one slot's raises fire at (at most) two minutes, not
 *    one per role a minute apart.
 *    A role with a placeholder pool: minReplicas(t) = ahead(t, leadPods), and the pool holds
 *      placeholders(t) = [ahead(t, leadNodes) - minReplicas(t)]                          (lead)
 *                      + max(0, minReplicas(t) - minReplicas(t - slot))                  (ramp)
 *    Lead: nodes for the pods the next raises will add come up a node delay before those pods are
 *    created. Ramp: for a slot's length after a raise, room for one more raise as large, so the HPA can go
 *    past the plan without waiting for a node. Real pods preempt placeholders at once. A role without a
 *    pool: minReplicas(t) = ahead(t, leadNodes) (its pods wait for their nodes themselves). The window
 *    ahead advances raises and never advances a lowering: a value falls only at the end of the slot whose
 *    requirement it was.
 * 6. Every minute of the week whose values differ from the minute before (cyclically) starts a schedule
 *    setting all values (absolute, as the prescaler sets them). Schedules at the same time of day with the
 *    same values on several weekdays become one, with those weekdays in the day-of-week field (`*` for
 *    all seven).
 */
import type { Capacity } from './capacity.ts';
import { weekdayField } from './cron.ts';
import { byRole, type Sample } from './history.ts';
import { quantile, type QuantileMethod } from './quantile.ts';
import { InputError, type TargetId, TARGETS } from './targets.ts';
import { DAY_S, fixedUtcOffsetSeconds, localDate, localTime, shiftMinuteOfWeek, WEEKDAYS } from './time.ts';

/**
 * A sample holds until the next one for at most this long, or two of the series' usual steps if longer; a
 * longer silence is a gap (the sample then holds one usual step).
 */
export const MAX_HOLD_S = 900;
/** The CronJob's own pod start and the HPA's next 15 s sync: between a schedule's time and pods being created. */
export const CONTROL_DELAY_S = 30;
export const DEFAULT_POD_START_S = 60;
export const DEFAULT_NODE_DELAY_S = 240;
export const MINUTES_PER_WEEK = 7 * 1440;

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
  /** Minutes from a raise of minReplicas to the slot it is for: the plan's leadPods with a pool, else leadNodes. */
  readonly leadPodMinutes: number;
  /** Minutes from nodes being asked for to the slot: the plan's leadNodes. */
  readonly leadTotalMinutes: number;
  readonly pool?: string;
  /** Per slot of the week (index = weekday x slotsPerDay + slot, weekday 0 = Sunday). */
  readonly quantileRps: readonly number[];
  readonly required: readonly number[];
  /** Per minute of the week (index = weekday x 1440 + minute of the day). */
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

/** A lead in seconds as whole minutes, rounded up: the raise it asks for is placed on a cron minute at or before it. */
export function leadMinutes(leadS: number): number {
  return Math.ceil(leadS / 60);
}

/**
 * Per minute of the week, the highest requirement of the slots whose raise time (slot start - `lead`
 * minutes) has come and which have not ended yet, cyclically over the week: a raise moves `lead` minutes
 * earlier, a lowering stays at the end of its slot.
 */
export function minutesAhead(required: readonly number[], slotMinutes: number, lead: number): number[] {
  const out = new Array<number>(MINUTES_PER_WEEK).fill(-Infinity);
  required.forEach((r, i) => {
    for (let d = -lead; d < slotMinutes; d++) {
      const k = shiftMinuteOfWeek(i * slotMinutes, d);
      if (r > out[k]!) out[k] = r;
    }
  });
  return out;
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
  const drafts: Omit<RolePlan, 'leadPodMinutes' | 'leadTotalMinutes' | 'minReplicas' | 'placeholders'>[] = [];
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
    drafts.push({
      role,
      rpsPerPod: cap.rpsPerPod,
      podStartS,
      ...(pool !== undefined && { pool }),
      quantileRps,
      required,
    });
  }
  if (drafts.length === 0) throw new InputError('no role of the history can be planned');

  // The leads, to the minute, shared by the roles of a kind: nodes (every role's node lead: placeholders,
  // and the pods of roles without a pool) and pool pods. Each is the longest its roles need, so one slot's
  // raises fire at two minutes instead of one per role (a minute apart, which would leave the CronJobs a
  // startingDeadlineSeconds of 10 s); it costs the roles with shorter pod starts the difference (Geo's 20 s
  // against the BFF's 60 s: one minute).
  const leadNodes = Math.max(...drafts.map((d) => leadMinutes(d.podStartS + o.nodeDelayS + CONTROL_DELAY_S)));
  const poolDrafts = drafts.filter((d) => d.pool !== undefined);
  const leadPoolPods = Math.max(0, ...poolDrafts.map((d) => leadMinutes(d.podStartS + CONTROL_DELAY_S)));
  const roles: RolePlan[] = drafts.map((d) => {
    const leadPod = d.pool !== undefined ? leadPoolPods : leadNodes;
    const minReplicas = minutesAhead(d.required, o.slotMinutes, leadPod);
    const nodesAhead = minutesAhead(d.required, o.slotMinutes, leadNodes);
    // Lead: room for the pods the raises of the next leadNodes - leadPod minutes will add. Ramp: for a
    // slot's length after a raise, room for one more raise as large, so the HPA can go past the plan
    // without waiting for a node.
    const placeholders =
      d.pool !== undefined
        ? nodesAhead.map(
            (t, i) =>
              t -
              minReplicas[i]! +
              Math.max(0, minReplicas[i]! - minReplicas[shiftMinuteOfWeek(i, -o.slotMinutes)]!),
          )
        : new Array<number>(MINUTES_PER_WEEK).fill(0);
    return { ...d, leadPodMinutes: leadPod, leadTotalMinutes: leadNodes, minReplicas, placeholders };
  });
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

  // Change points over the cyclic week, minute by minute; with none, one daily schedule at 00:00 sets the
  // constant values.
  const week = MINUTES_PER_WEEK;
  interface Change {
    i: number;
    key: string;
    state: ReturnType<typeof stateAt>;
    direction: string;
  }
  const states = Array.from({ length: week }, (_, i) => stateAt(i));
  const keys = states.map(keyOf);
  const changes: Change[] = [];
  for (let i = 0; i < week; i++) {
    const p = (i - 1 + week) % week;
    if (keys[p] === keys[i]) continue;
    const prev = states[p]!;
    const cur = states[i]!;
    // Judged by the replicas; by the placeholders only when the replicas stay (placeholders fall as pods
    // take their room, so a raise often lowers them).
    let direction = compare(Object.values(prev.minReplicas), Object.values(cur.minReplicas));
    if (direction === 'same')
      direction = compare(Object.values(prev.placeholders), Object.values(cur.placeholders));
    changes.push({ i, key: keys[i]!, state: cur, direction });
  }
  if (changes.length === 0) {
    const st = stateAt(0);
    changes.push(
      ...[0, 1, 2, 3, 4, 5, 6].map((w) => ({
        i: w * 1440,
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
    const w = Math.floor(c.i / 1440);
    const minuteOfDay = c.i % 1440;
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
    shortestGapS = Math.min(shortestGapS, ((b - a + week) % week || week) * 60);
  }
  return { slotMinutes: o.slotMinutes, offsetS, roles, schedules, shortestGapS, warnings };
}
