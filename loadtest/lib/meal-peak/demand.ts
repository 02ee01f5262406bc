/**
 * The demand curve of the meal-peak scenario: the share of a day's orders in each 15-minute slot, derived
 * from the order times of the real delivery dataset (`Time_Orderd`), and its mapping onto a compressed
 * Seoul day at a stated peak rate. Pure functions: the file I/O is in build-data.ts and the scenario.
 */
import { gunzipSync } from 'node:zlib';

export const SLOT_MINUTES = 15;
export const SLOTS_PER_DAY = (24 * 60) / SLOT_MINUTES;
export const DEMAND_FORMAT = 'eta-meal-peak-demand/1';

/**
 * Smoothing kernel over neighbouring slots (-30 to +30 minutes): a centred one-hour moving average. Its
 * weights sum to the same value over each phase of a period of four slots, so it removes exactly a ripple
 * that repeats every hour. The dataset has one: minutes are recorded on a five-minute grid with :05 never
 * present, so the first slot of every hour holds two grid minutes (:00, :10) and the others three.
 */
export const SMOOTHING_KERNEL: readonly number[] = [0.5, 1, 1, 1, 0.5];

export interface OrderTimeRows {
  /** Data rows read (header and empty lines excluded). */
  readonly total: number;
  /** Rows whose time is missing: the dataset's `NaN ` marker or an empty cell. Counted and dropped. */
  readonly missing: number;
  /** Rows with another number of fields than the header, or a time that does not parse. Counted and dropped. */
  readonly invalid: number;
  /** Rows counted in a slot. */
  readonly used: number;
}

export interface DemandCurve {
  readonly format: typeof DEMAND_FORMAT;
  readonly source: Readonly<Record<string, string>>;
  readonly method: string;
  readonly mapping: string;
  readonly timeZone: 'Asia/Seoul';
  readonly slotMinutes: number;
  readonly rows: OrderTimeRows;
  /** Orders per slot as read (slot 0 = 00:00-00:14). */
  readonly counts: readonly number[];
  /** Smoothed share of the day's orders per slot; sums to 1. */
  readonly share: readonly number[];
}

const TIME = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/** Minute of the day of an `HH:MM[:SS]` time, or null when it is not one. */
export function minuteOfDay(text: string): number | null {
  const m = TIME.exec(text);
  if (m === null) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = m[3] === undefined ? 0 : Number(m[3]);
  if (h > 23 || min > 59 || s > 59) return null;
  return h * 60 + min;
}

/**
 * Orders per 15-minute slot of the day from the dataset's CSV text (header row first, comma-separated,
 * no quoting: the dataset has none). `column` is the order time; `NaN` (with or without its trailing space)
 * or an empty cell counts as missing.
 */
export function orderTimeSlots(
  csv: string,
  column = 'Time_Orderd',
): { counts: number[]; rows: OrderTimeRows } {
  const lines = csv.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const at = header.indexOf(column);
  if (at < 0) throw new Error(`column ${column} is not in the header (${header.join(', ')})`);
  const counts = new Array<number>(SLOTS_PER_DAY).fill(0);
  let total = 0;
  let missing = 0;
  let invalid = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    total += 1;
    const cells = line.split(',');
    if (cells.length !== header.length) {
      invalid += 1;
      continue;
    }
    const value = cells[at]!.trim();
    if (value === '' || value === 'NaN') {
      missing += 1;
      continue;
    }
    const minute = minuteOfDay(value);
    if (minute === null) {
      invalid += 1;
      continue;
    }
    counts[Math.floor(minute / SLOT_MINUTES)]! += 1;
  }
  return { counts, rows: { total, missing, invalid, used: total - missing - invalid } };
}

/** Circular convolution with a centred kernel of odd length, normalised to keep the total. */
export function smoothCircular(
  values: readonly number[],
  kernel: readonly number[] = SMOOTHING_KERNEL,
): number[] {
  if (kernel.length % 2 !== 1) throw new Error('kernel length must be odd');
  const sum = kernel.reduce((a, b) => a + b, 0);
  const half = (kernel.length - 1) / 2;
  const n = values.length;
  return values.map((_, i) => {
    let acc = 0;
    for (let j = 0; j < kernel.length; j++)
      acc += kernel[j]! * values[(i + j - half + n * kernel.length) % n]!;
    return acc / sum;
  });
}

/** Values scaled to sum to 1. */
export function toShares(values: readonly number[]): number[] {
  const sum = values.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error('no orders to make a curve from');
  return values.map((v) => v / sum);
}

export const DEMAND_METHOD =
  'orders per 15-minute slot of Time_Orderd (HH:MM:SS, local time of the order); rows with NaN or an empty ' +
  'time counted as missing and dropped, rows that do not parse counted as invalid and dropped; every date ' +
  'pooled into one average day; smoothed by a circular centred one-hour moving average (weights 1/2, 1, 1, 1, ' +
  '1/2 over -30..+30 min), which removes the hourly ripple of the five-minute recording grid (no :05 minutes); ' +
  'scaled to sum to 1';

export const DEMAND_MAPPING =
  "slot HH:MM of the dataset's local clock is slot HH:MM of Asia/Seoul's (demand follows the local clock: " +
  'lunch and dinner stay at their hours; no time-zone shift). Korea keeps no daylight saving time, so every ' +
  'Seoul day has 96 slots';

/** The whole derivation from the dataset's CSV text. */
export function deriveDemandCurve(csv: string, source: Readonly<Record<string, string>>): DemandCurve {
  const { counts, rows } = orderTimeSlots(csv);
  const share = toShares(smoothCircular(counts)).map((s) => Number(s.toPrecision(6)));
  return {
    format: DEMAND_FORMAT,
    source,
    method: DEMAND_METHOD,
    mapping: DEMAND_MAPPING,
    timeZone: 'Asia/Seoul',
    slotMinutes: SLOT_MINUTES,
    rows,
    counts,
    share,
  };
}

/** Checks a curve read from disk. */
export function parseDemandCurve(raw: unknown): DemandCurve {
  const c = raw as Partial<DemandCurve>;
  if (c.format !== DEMAND_FORMAT) throw new Error(`demand curve: format must be ${DEMAND_FORMAT}`);
  if (!Array.isArray(c.share) || c.share.length !== SLOTS_PER_DAY) {
    throw new Error(`demand curve: share must hold ${SLOTS_PER_DAY} numbers`);
  }
  if (!c.share.every((s) => typeof s === 'number' && Number.isFinite(s) && s >= 0)) {
    throw new Error('demand curve: every share must be a finite number >= 0');
  }
  const sum = c.share.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-3) throw new Error(`demand curve: shares sum to ${sum}, not 1`);
  return c as DemandCurve;
}

// ---------------------------------------------------------------------------------------------------
// The compressed day

export interface SlotPlan {
  readonly index: number;
  /** Seoul clock time at the slot's start, `HH:MM`. */
  readonly label: string;
  readonly minuteOfDay: number;
  /** Share of the day's orders in the slot (the curve). */
  readonly share: number;
  /** Demand relative to the busiest slot, before the floor (0..1). */
  readonly relative: number;
  /** Offered requests per second in the slot. */
  readonly rate: number;
  /** Real milliseconds from the start of the day to the slot's start. */
  readonly startMs: number;
  /** Real length of the slot, ms. */
  readonly durationMs: number;
  /** Requests the slot offers (rate x duration, rounded as the generator rounds). */
  readonly requests: number;
}

export interface DayPlanOptions {
  /** Requests per second offered in the busiest slot. */
  readonly peakRate: number;
  /** Simulated seconds per real second: 432 runs a day in 200 s. */
  readonly speed: number;
  /** Lowest rate as a share of the peak (0..1): the dataset has no orders from 00:45 to 07:15. */
  readonly floor: number;
  /** Only these slots (by index, inclusive); default the whole day. */
  readonly fromSlot?: number;
  readonly toSlot?: number;
}

export interface DayPlan {
  readonly speed: number;
  readonly peakRate: number;
  readonly floor: number;
  /** Real length of one 15-minute slot, ms. */
  readonly slotMs: number;
  /** Real length of the planned slots together, ms. */
  readonly dayMs: number;
  readonly slots: readonly SlotPlan[];
  /** Requests offered by all planned slots. */
  readonly requests: number;
}

export function slotLabel(index: number): string {
  const minute = index * SLOT_MINUTES;
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

/** Slot index of an `HH:MM` Seoul time (the slot it falls in). */
export function slotOf(hhmm: string): number {
  const minute = minuteOfDay(hhmm);
  if (minute === null) throw new Error(`expected HH:MM, got ${hhmm}`);
  return Math.floor(minute / SLOT_MINUTES);
}

/**
 * The day as the generator runs it: slot k lasts 15 min / speed of real time at rate
 * peakRate x max(share_k / max share, floor), one slot after another.
 */
export function planDay(share: readonly number[], opts: DayPlanOptions): DayPlan {
  if (share.length !== SLOTS_PER_DAY) throw new Error(`expected ${SLOTS_PER_DAY} shares`);
  if (!(opts.peakRate > 0) || !Number.isFinite(opts.peakRate)) throw new Error('peak rate must be > 0');
  if (!(opts.speed > 0) || !Number.isFinite(opts.speed)) throw new Error('speed must be > 0');
  if (!(opts.floor > 0 && opts.floor <= 1)) throw new Error('floor must be in (0, 1]');
  const from = opts.fromSlot ?? 0;
  const to = opts.toSlot ?? SLOTS_PER_DAY - 1;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to < SLOTS_PER_DAY && from <= to)) {
    throw new Error(`slot range ${from}..${to} is not within 0..${SLOTS_PER_DAY - 1}`);
  }
  const max = Math.max(...share);
  if (!(max > 0)) throw new Error('the curve has no demand');
  const slotMs = (SLOT_MINUTES * 60_000) / opts.speed;
  const slots: SlotPlan[] = [];
  for (let k = from; k <= to; k++) {
    const relative = share[k]! / max;
    const rate = Math.round(opts.peakRate * Math.max(relative, opts.floor) * 100) / 100;
    slots.push({
      index: k,
      label: slotLabel(k),
      minuteOfDay: k * SLOT_MINUTES,
      share: share[k]!,
      relative,
      rate,
      startMs: (k - from) * slotMs,
      durationMs: slotMs,
      requests: Math.round((slotMs * rate) / 1000),
    });
  }
  return {
    speed: opts.speed,
    peakRate: opts.peakRate,
    floor: opts.floor,
    slotMs,
    dayMs: slots.length * slotMs,
    slots,
    requests: slots.reduce((a, s) => a + s.requests, 0),
  };
}

// ---------------------------------------------------------------------------------------------------
// Reading the dataset

/** A CSV file's text, gunzipped when its bytes are gzip (the dataset ships as .csv.gz). */
export function csvText(bytes: Uint8Array): string {
  const gz = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  return (gz ? gunzipSync(bytes) : Buffer.from(bytes)).toString('utf8');
}
