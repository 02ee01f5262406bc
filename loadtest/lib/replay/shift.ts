/**
 * A simulated shift on top of the real orders (issue 13's drift run): from a time of day on, deliveries to
 * some dongs, or to one region class, take `factor` times as long, as in a rainstorm over part of the
 * city. It is a map over the planned orders between `planReplay` and `schedule` (plan.ts), so the same
 * seed and options still give the same run, and every order the shift touches says so (`shifted`).
 *
 * Only the leg after pickup stretches (the rain slows the rider, not the kitchen): `delivered` and
 * `actualMinutes` move, `rider-assigned` and `picked-up` stay. With a factor below 1 a delivery could
 * come before its pickup; pickup then moves to half the delivery minutes, as the plan does for such rows.
 * The figures are not the dataset's any more: the report labels the run as a simulated shift and counts
 * the orders it changed.
 */
import type { RegionClass } from '@eta/contracts';
import { ORDER_MAX_MINUTES } from '@eta/contracts';
import { daySecond, type PlannedOrder } from './plan.ts';

export interface ShiftOptions {
  /** Delivery minutes are multiplied by this (0.5 to 3). */
  readonly factor: number;
  /** From this time of day (seconds since midnight, the file's clock) on; before it nothing changes. */
  readonly fromS: number;
  /** Which orders: those to these dongs ... */
  readonly dongs: readonly string[] | null;
  /** ... or those to this region class. Exactly one of the two is set. */
  readonly regionClass: RegionClass | null;
}

export const SHIFT_FACTOR_MIN = 0.5;
export const SHIFT_FACTOR_MAX = 3;

/** Minutes in the events' precision: two decimals, so a shifted 23-minute delivery is 29.9, not 29.900000000000002. */
function roundMinutes(m: number): number {
  return Math.round(m * 100) / 100;
}

export function describeShift(s: ShiftOptions): string {
  const which =
    s.dongs !== null ? `deliveries to dongs ${s.dongs.join(', ')}` : `deliveries to ${s.regionClass} dongs`;
  const hh = String(Math.floor(s.fromS / 3600)).padStart(2, '0');
  const mm = String(Math.floor((s.fromS % 3600) / 60)).padStart(2, '0');
  return `SIMULATED SHIFT on top of the real orders: ${which} take ${s.factor}x as long from ${hh}:${mm}`;
}

export function shiftApplies(order: PlannedOrder, s: ShiftOptions): boolean {
  if (order.daySecond < daySecond(s.fromS)) return false;
  if (s.dongs !== null) return s.dongs.includes(order.dongCode);
  return order.regionClass === s.regionClass;
}

/** The planned orders with the shift applied, and how many it changed. Pure. */
export function applyShift(
  orders: readonly PlannedOrder[],
  s: ShiftOptions,
): { orders: PlannedOrder[]; shifted: number } {
  if (!(s.factor >= SHIFT_FACTOR_MIN && s.factor <= SHIFT_FACTOR_MAX)) {
    throw new RangeError(`shift factor must be within ${SHIFT_FACTOR_MIN} and ${SHIFT_FACTOR_MAX}`);
  }
  if ((s.dongs === null) === (s.regionClass === null)) {
    throw new RangeError('a shift names either dongs or a region class');
  }
  let shifted = 0;
  const out = orders.map((o) => {
    if (!shiftApplies(o, s)) return o;
    shifted++;
    const delivered = Math.min(ORDER_MAX_MINUTES, roundMinutes(o.actualMinutes * s.factor));
    const pickupMoved = o.minutes.pickedUp >= delivered;
    const pickedUp = pickupMoved ? delivered / 2 : o.minutes.pickedUp;
    return {
      ...o,
      actualMinutes: delivered,
      minutes: {
        riderAssigned: pickupMoved ? pickedUp / 2 : o.minutes.riderAssigned,
        pickedUp,
        delivered,
      },
      pickupMoved: o.pickupMoved || pickupMoved,
      shifted: true,
    };
  });
  return { orders: out, shifted };
}
