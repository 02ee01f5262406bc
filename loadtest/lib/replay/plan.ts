/**
 * The replay's plan: which dataset orders are replayed, where in Seoul each one happens and when each of
 * its steps is due. Pure and deterministic: the same rows, world, seed and options give the same plan on
 * any machine (nothing here reads a clock or Math.random), and every order is planned from its own row
 * alone (`planOrder`), so choosing more or fewer orders never moves the others. The simulated shift
 * ("deliveries in these dongs take 30 % longer from 19:00", shift.ts) is a map over `PlannedOrder` between
 * `planReplay` and `schedule`: the dong, the day time and the minutes are all on the planned order.
 *
 * - Selection: a seeded shuffle of the usable rows (by a hash of seed and order id), the first `orders` of
 *   it, in the order of their time of day. The dataset's 44 days are folded onto one service day: its
 *   shape (lunch, the evening peak, nothing from 01:00 to 08:00) is kept, its dates are not.
 * - Place: the row's restaurant maps to one seeded store (by a hash of seed and restaurant), so a
 *   restaurant's orders share a store as far as they can; the destination is at the row's haversine
 *   distance from that store, in a seeded direction, inside Seoul and in a dong of the row's region class
 *   (`City` Metropolitian/Urban/Semi-Urban -> metropolitan/urban/semi-urban; NaN: any class). When the home
 *   store has no such point, other seeded stores are tried in a seeded order.
 * - Time: created at the row's order time; picked up after the row's pickup - order minutes; delivered
 *   after `Time_taken(min)`, read as minutes from the order (the contract's `actualMinutes`); the rider is
 *   assigned halfway to pickup (the file has no assignment time). When pickup - order is not shorter than
 *   the delivery minutes (4.5 % of the usable rows), pickup moves to half the delivery minutes.
 */
import type { LatLng, OrderDetails, RegionClass, RiderDetails } from '@eta/contracts';
import { ORDER_ID_MAX_LENGTH } from '@eta/contracts';
import { seededRandom } from '../mix.ts';
import type { DatasetOrder } from './dataset.ts';
import { destinationPoint, round6 } from './geometry.ts';
import type { World } from './world.ts';

/** The service day starts at 04:00: the file has no orders from 01:00 to 08:00, so 00:30 follows 23:59. */
export const DAY_START_S = 4 * 3600;
const DAY_S = 86_400;

/** Directions tried from the home store, then further stores and directions per store. */
const HOME_TRIES = 32;
const OTHER_STORES = 96;
const TRIES_PER_STORE = 8;

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,19}$/;

export interface SelectOptions {
  readonly seed: number;
  /** How many orders at most. */
  readonly orders: number;
  /** Only orders placed from this time of day (seconds since midnight), inclusive; wraps with `toS`. */
  readonly fromS?: number | undefined;
  /** ... until this one, exclusive. */
  readonly toS?: number | undefined;
}

export interface PlanOptions {
  readonly seed: number;
  /** Put before every dataset id (`<runId>-0x4607`): one run's order ids are its own. */
  readonly runId: string;
}

/** Minutes after the order at which each later step happens. */
export interface StepMinutes {
  readonly riderAssigned: number;
  readonly pickedUp: number;
  readonly delivered: number;
}

export interface PlannedOrder {
  readonly orderId: string;
  /** The dataset's ID. */
  readonly sourceId: string;
  readonly storeId: number;
  /** At the store its dataset restaurant maps to (false: another store had to take it). */
  readonly homeStore: boolean;
  readonly origin: LatLng;
  readonly destination: LatLng;
  /** The dataset's restaurant -> delivery distance, kept between store and destination. */
  readonly distanceM: number;
  readonly dongCode: string;
  readonly regionClass: RegionClass;
  /** What the row asked for; null when its City was NaN. */
  readonly requiredClass: RegionClass | null;
  /** When the order was placed: seconds since the service day's start (DAY_START_S). */
  readonly daySecond: number;
  readonly minutes: StepMinutes;
  /** True when pickup had to move before delivery (see the header). */
  readonly pickupMoved: boolean;
  /** The dataset's `Time_taken(min)`, or what a simulated shift made of it (shift.ts). */
  readonly actualMinutes: number;
  /** True when a simulated shift changed this order's minutes (shift.ts); false: the dataset's own. */
  readonly shifted: boolean;
  readonly order: OrderDetails;
  readonly rider: RiderDetails | null;
  readonly riderId: string | null;
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash for seeding per-row choices. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Seconds since midnight -> seconds since the service day's start. */
export function daySecond(secondOfDay: number): number {
  return (((secondOfDay - DAY_START_S) % DAY_S) + DAY_S) % DAY_S;
}

function inWindow(s: number, fromS: number | undefined, toS: number | undefined): boolean {
  const t = daySecond(s);
  const lo = fromS === undefined ? 0 : daySecond(fromS);
  const hi = toS === undefined ? DAY_S : daySecond(toS) || DAY_S;
  return t >= lo && t < hi;
}

/** The rows to replay: a seeded sample of `orders` within the window, by time of day (then id). */
export function selectRows(rows: readonly DatasetOrder[], opts: SelectOptions): DatasetOrder[] {
  if (!Number.isInteger(opts.orders) || opts.orders < 0)
    throw new RangeError('orders must be an integer >= 0');
  const keyed = rows
    .filter((r) => inWindow(r.orderedAtS, opts.fromS, opts.toS))
    .map((r) => ({ r, k: hash32(`${opts.seed}:pick:${r.id}`) }));
  keyed.sort((a, b) => a.k - b.k || (a.r.id < b.r.id ? -1 : 1));
  return keyed
    .slice(0, opts.orders)
    .map((x) => x.r)
    .sort((a, b) => daySecond(a.orderedAtS) - daySecond(b.orderedAtS) || (a.id < b.id ? -1 : 1));
}

/** The order and rider parts of the precise estimate request the row supports. */
function details(row: DatasetOrder): { order: OrderDetails; rider: RiderDetails | null } {
  const order: { -readonly [K in keyof OrderDetails]: OrderDetails[K] } = {};
  if (row.orderType !== null) order.type = row.orderType;
  if (row.multipleDeliveries !== null) order.multipleDeliveries = row.multipleDeliveries;
  if (row.festival !== null) order.festival = row.festival;
  // The contract needs the vehicle and its condition for a rider; without them the fleet's typical rider.
  if (row.vehicleType === null || row.vehicleCondition === null) return { order, rider: null };
  return {
    order,
    rider: {
      vehicleType: row.vehicleType,
      vehicleCondition: row.vehicleCondition,
      ...(row.riderAge !== null ? { age: row.riderAge } : {}),
      ...(row.riderRating !== null ? { rating: row.riderRating } : {}),
    },
  };
}

export function stepMinutes(row: DatasetOrder): { minutes: StepMinutes; pickupMoved: boolean } {
  const pickupMoved = row.prepMinutes >= row.actualMinutes;
  const pickedUp = pickupMoved ? row.actualMinutes / 2 : row.prepMinutes;
  return { minutes: { riderAssigned: pickedUp / 2, pickedUp, delivered: row.actualMinutes }, pickupMoved };
}

/**
 * One row as an order in Seoul, or null when no seeded store has a point at its distance in its region
 * class (never seen with the shipped data: up to 21 km, a few tries at most).
 */
export function planOrder(row: DatasetOrder, world: World, opts: PlanOptions): PlannedOrder | null {
  const stores = world.stores;
  if (stores.length === 0) throw new RangeError('the world has no stores');
  const orderId = `${opts.runId}-${row.id}`;
  if (orderId.length > ORDER_ID_MAX_LENGTH) throw new RangeError(`order id ${orderId} is too long`);
  const random = seededRandom(hash32(`${opts.seed}:place:${row.id}`));
  const home = hash32(`${opts.seed}:store:${row.restaurantKey}`) % stores.length;

  const tryStore = (index: number, tries: number) => {
    const store = stores[index]!;
    for (let t = 0; t < tries; t++) {
      const destination = round6(destinationPoint(store, row.distanceM, random() * 360));
      const region = world.region(destination);
      if (region !== null && (row.regionClass === null || region.regionClass === row.regionClass)) {
        return { store, destination, region };
      }
    }
    return null;
  };

  let found = tryStore(home, HOME_TRIES);
  const homeStore = found !== null;
  for (let s = 0; found === null && s < OTHER_STORES; s++) {
    found = tryStore(Math.floor(random() * stores.length), TRIES_PER_STORE);
  }
  if (found === null) return null;

  const { minutes, pickupMoved } = stepMinutes(row);
  return {
    orderId,
    sourceId: row.id,
    storeId: found.store.id,
    homeStore,
    origin: { lat: found.store.lat, lng: found.store.lng },
    destination: found.destination,
    distanceM: row.distanceM,
    dongCode: found.region.dongCode,
    regionClass: found.region.regionClass,
    requiredClass: row.regionClass,
    daySecond: daySecond(row.orderedAtS),
    minutes,
    pickupMoved,
    actualMinutes: row.actualMinutes,
    shifted: false,
    ...details(row),
    riderId: row.riderId,
  };
}

export interface Plan {
  /** In the order of their time of day. */
  readonly orders: readonly PlannedOrder[];
  /** Selected rows no store could take (see planOrder). */
  readonly unplaceable: readonly string[];
}

export function planReplay(
  rows: readonly DatasetOrder[],
  world: World,
  opts: PlanOptions & SelectOptions,
): Plan {
  if (!RUN_ID_PATTERN.test(opts.runId)) {
    throw new RangeError(
      `run id ${opts.runId}: 1-20 letters, digits and . _ : -, starting with a letter or digit`,
    );
  }
  const orders: PlannedOrder[] = [];
  const unplaceable: string[] = [];
  for (const row of selectRows(rows, opts)) {
    const planned = planOrder(row, world, opts);
    if (planned === null) unplaceable.push(row.id);
    else orders.push(planned);
  }
  return { orders, unplaceable };
}

// ---------------------------------------------------------------------------------------------------
// Time compression

export const ORDER_STEPS = ['created', 'rider-assigned', 'picked-up', 'delivered'] as const;
export type OrderStep = (typeof ORDER_STEPS)[number];

/** What happens at one instant: the checkout estimate (just before `created`) or a lifecycle event. */
export type StepKind = 'checkout' | OrderStep;

export interface ScheduledOrder {
  readonly order: PlannedOrder;
  /** Milliseconds after the replay's start at which each step is due. */
  readonly atMs: Readonly<Record<OrderStep, number>>;
}

export interface ScheduledStep {
  readonly atMs: number;
  readonly kind: StepKind;
  readonly scheduled: ScheduledOrder;
}

export interface Schedule {
  readonly orders: readonly ScheduledOrder[];
  /** Every step of every order, by time (an order's steps keep their order at equal times). */
  readonly steps: readonly ScheduledStep[];
  /** Planned orders left out because their delivery would come after `maxDurationMs`. */
  readonly beyondMaxDuration: number;
  /** When the last step is due. */
  readonly durationMs: number;
}

export interface ScheduleOptions {
  /** Dataset seconds per wall-clock second (60: an hour of the day in a minute). */
  readonly speed: number;
  /** Only orders whose whole lifecycle fits: a run ends by then (plus the time its last sends take). */
  readonly maxDurationMs: number;
}

const STEP_RANK: Readonly<Record<StepKind, number>> = {
  checkout: 0,
  created: 1,
  'rider-assigned': 2,
  'picked-up': 3,
  delivered: 4,
};

/** The plan on the wall clock: time since the first order divided by `speed`. */
export function schedule(orders: readonly PlannedOrder[], opts: ScheduleOptions): Schedule {
  if (!(opts.speed > 0) || !Number.isFinite(opts.speed))
    throw new RangeError('speed must be a positive number');
  if (!(opts.maxDurationMs >= 0)) throw new RangeError('maxDurationMs must be >= 0');
  const first = orders.reduce((m, o) => Math.min(m, o.daySecond), Infinity);
  const wall = (o: PlannedOrder, minutes: number) =>
    Math.round(((o.daySecond - first + minutes * 60) * 1000) / opts.speed);
  const kept: ScheduledOrder[] = [];
  let beyond = 0;
  for (const order of orders) {
    const atMs = {
      created: wall(order, 0),
      'rider-assigned': wall(order, order.minutes.riderAssigned),
      'picked-up': wall(order, order.minutes.pickedUp),
      delivered: wall(order, order.minutes.delivered),
    };
    if (atMs.delivered > opts.maxDurationMs) beyond++;
    else kept.push({ order, atMs });
  }
  const steps: ScheduledStep[] = [];
  for (const scheduled of kept) {
    steps.push({ atMs: scheduled.atMs.created, kind: 'checkout', scheduled });
    for (const kind of ORDER_STEPS) steps.push({ atMs: scheduled.atMs[kind], kind, scheduled });
  }
  const index = new Map(kept.map((s, i) => [s, i]));
  steps.sort(
    (a, b) =>
      a.atMs - b.atMs ||
      index.get(a.scheduled)! - index.get(b.scheduled)! ||
      STEP_RANK[a.kind] - STEP_RANK[b.kind],
  );
  return {
    orders: kept,
    steps,
    beyondMaxDuration: beyond,
    durationMs: steps.length === 0 ? 0 : steps[steps.length - 1]!.atMs,
  };
}
