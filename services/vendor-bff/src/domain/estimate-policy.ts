/**
 * The owner's word on what customers see: busy mode adds minutes while it lasts, the min/max clamps bound
 * the shown figure, and with auto prediction off the manual times replace the model. Pure arithmetic, so
 * every rule is tested without a server.
 */
import { REGION_DEFAULT_MINUTES } from './fallback.ts';
import { activeBusy } from './settings.ts';
import type { RegionClass, StoreSettings } from './stores.ts';

export interface Quantiles {
  readonly p10: number;
  readonly p50: number;
  readonly p90: number;
}

export interface Shown {
  readonly etaMinutes: number;
  readonly range: { readonly low: number; readonly high: number };
  readonly components: { readonly prepMinutes: number; readonly travelMinutes: number };
}

/** The settings this module reads; a subset so callers without a store (region default) can pass none. */
export type ShownSettings = Pick<StoreSettings, 'minShownMinutes' | 'maxShownMinutes' | 'busy'>;

/** Busy mode counts only while `until` is in the future: it expires by itself, nobody has to switch it off. */
export function busyExtraMinutes(settings: ShownSettings | undefined, now: Date): number {
  const busy = settings === undefined ? null : activeBusy(settings, now);
  return busy === null ? 0 : Math.max(0, busy.extraMinutes);
}

/**
 * Manual and default answers have no model quantiles; this spread (-15 % / +25 %, skewed late like the
 * models' own p10-p90) keeps their range honest about being a guess.
 */
const GUESS_LOW = 0.85;
const GUESS_HIGH = 1.25;

function clampTo(settings: ShownSettings | undefined, minutes: number): number {
  let m = minutes;
  const min = settings?.minShownMinutes;
  const max = settings?.maxShownMinutes;
  if (max !== null && max !== undefined) m = Math.min(m, max);
  // Applied after max, so a (mis)configured min above max wins: promising too late beats too early.
  if (min !== null && min !== undefined) m = Math.max(m, min);
  return m;
}

/** Preparation assumed when nothing better is known (the ML proxy's heuristic uses the same). */
export const TYPICAL_PREP_MINUTES = 12;

/**
 * Turns raw minutes into what is shown: busy minutes added, clamps applied to the figure and its range,
 * whole minutes, low <= eta <= high. The models predict only the total, so the split is an estimate: the
 * total without busy minutes is shared between travel and preparation in proportion to the two estimates
 * given, and busy minutes count as preparation; prep + travel = eta always.
 */
function shape(
  q: Quantiles,
  split: { readonly travel: number; readonly prep: number },
  settings: ShownSettings | undefined,
  now: Date,
): Shown {
  const extra = busyExtraMinutes(settings, now);
  const eta = Math.max(1, Math.round(clampTo(settings, q.p50 + extra)));
  const low = Math.min(eta, Math.floor(clampTo(settings, q.p10 + extra)));
  const high = Math.max(eta, Math.ceil(clampTo(settings, q.p90 + extra)));
  const t = Math.max(0, split.travel);
  const p = Math.max(0, split.prep);
  const base = Math.max(0, eta - extra);
  const travelMinutes = t + p > 0 ? Math.min(eta, Math.round((base * t) / (t + p))) : 0;
  return {
    etaMinutes: eta,
    range: { low: Math.max(1, low), high },
    components: { prepMinutes: eta - travelMinutes, travelMinutes },
  };
}

/**
 * A model's quantiles. `travel` is the estimated time on the road; the owner's manual preparation time is
 * the other half of the split (TYPICAL_PREP_MINUTES when it is 0).
 */
export function shownFromModel(
  q: Quantiles,
  travel: number,
  settings: ShownSettings & Pick<StoreSettings, 'manualPrepMinutes'>,
  now: Date,
): Shown {
  const prep = settings.manualPrepMinutes > 0 ? settings.manualPrepMinutes : TYPICAL_PREP_MINUTES;
  return shape(q, { travel, prep }, settings, now);
}

/** The owner's manual preparation + delivery times. */
export function shownFromManual(
  settings: Pick<StoreSettings, 'manualPrepMinutes' | 'manualDeliveryMinutes'> & ShownSettings,
  now: Date,
): Shown {
  const total = settings.manualPrepMinutes + settings.manualDeliveryMinutes;
  return shape(
    { p10: total * GUESS_LOW, p50: total, p90: total * GUESS_HIGH },
    { travel: settings.manualDeliveryMinutes, prep: settings.manualPrepMinutes },
    settings,
    now,
  );
}

/** True when the manual times can stand as an answer. */
export function manualUsable(
  settings: Pick<StoreSettings, 'manualPrepMinutes' | 'manualDeliveryMinutes'>,
): boolean {
  const total = settings.manualPrepMinutes + settings.manualDeliveryMinutes;
  return (
    Number.isFinite(total) &&
    total > 0 &&
    settings.manualPrepMinutes >= 0 &&
    settings.manualDeliveryMinutes >= 0
  );
}

/** The last rung: a region's typical minutes, with the store's busy mode and clamps when they are known. */
export function shownFromRegionDefault(
  regionClass: RegionClass | null,
  settings: ShownSettings | undefined,
  now: Date,
  travel: number,
): Shown {
  const total = REGION_DEFAULT_MINUTES[regionClass ?? 'unknown'];
  return shape(
    { p10: total * GUESS_LOW, p50: total, p90: total * GUESS_HIGH },
    { travel, prep: TYPICAL_PREP_MINUTES },
    settings,
    now,
  );
}
