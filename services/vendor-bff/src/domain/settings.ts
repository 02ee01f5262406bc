import { BUSY_MAX_HOURS, type StoreSettingsBody, type StoreSettingsPatch } from '@eta/contracts';
import type { BusyMode, StoreSettings } from './stores.ts';

/**
 * Pure rules of a store owner's settings: merging a patch, the checks that need the stored row, busy-mode
 * expiry, and the JSON shape used by the admin API and the audit trail.
 */

/** The editable part of StoreSettings (what a write sets; storeId, updatedAt and version are the row's). */
export type SettingsValues = Pick<
  StoreSettings,
  | 'autoPrediction'
  | 'manualPrepMinutes'
  | 'manualDeliveryMinutes'
  | 'minShownMinutes'
  | 'maxShownMinutes'
  | 'busy'
>;

export type PatchOutcome =
  { readonly ok: true; readonly values: SettingsValues } | { readonly ok: false; readonly message: string };

/**
 * Busy mode as of `now`. Busy mode expires by itself: the stored `until` is kept and compared at read time,
 * so a cached settings copy (L1, Redis, or the last-known copy during a Postgres outage) can never keep a
 * store busy past its end. The estimate path must use this, not `settings.busy` directly.
 */
export function activeBusy(settings: Pick<StoreSettings, 'busy'>, now: Date): BusyMode | null {
  const busy = settings.busy;
  return busy !== null && busy.until.getTime() > now.getTime() ? busy : null;
}

/** Applies a validated patch (contracts' StoreSettingsPatch) to the current values and checks the result. */
export function applySettingsPatch(
  current: SettingsValues,
  patch: StoreSettingsPatch,
  now: Date,
): PatchOutcome {
  const values: SettingsValues = {
    autoPrediction: patch.autoPrediction ?? current.autoPrediction,
    manualPrepMinutes: patch.manualPrepMinutes ?? current.manualPrepMinutes,
    manualDeliveryMinutes: patch.manualDeliveryMinutes ?? current.manualDeliveryMinutes,
    minShownMinutes: patch.minShownMinutes === undefined ? current.minShownMinutes : patch.minShownMinutes,
    maxShownMinutes: patch.maxShownMinutes === undefined ? current.maxShownMinutes : patch.maxShownMinutes,
    busy: patch.busy === undefined ? current.busy : patch.busy,
  };
  // Checked after the merge: a patch that sets only min can conflict with the stored max.
  if (
    values.minShownMinutes !== null &&
    values.maxShownMinutes !== null &&
    values.minShownMinutes > values.maxShownMinutes
  ) {
    return { ok: false, message: 'minimum shown time must not exceed the maximum' };
  }
  if (patch.busy != null) {
    const until = patch.busy.until.getTime();
    if (until <= now.getTime()) return { ok: false, message: 'busy until must be in the future' };
    if (until > now.getTime() + BUSY_MAX_HOURS * 3_600_000) {
      return { ok: false, message: `busy mode lasts at most ${BUSY_MAX_HOURS} hours` };
    }
  }
  return { ok: true, values };
}

/** The admin API's and the audit trail's JSON shape of a settings row. */
export function settingsToBody(s: StoreSettings): StoreSettingsBody {
  return {
    storeId: s.storeId,
    autoPrediction: s.autoPrediction,
    manualPrepMinutes: s.manualPrepMinutes,
    manualDeliveryMinutes: s.manualDeliveryMinutes,
    minShownMinutes: s.minShownMinutes,
    maxShownMinutes: s.maxShownMinutes,
    busy: s.busy === null ? null : { extraMinutes: s.busy.extraMinutes, until: s.busy.until.toISOString() },
    updatedAt: s.updatedAt.toISOString(),
    version: s.version,
  };
}
