import type { StoreSettingsBody } from '@eta/contracts';

/**
 * Field-by-field comparison of two settings: what a history entry changed, and in a save conflict what
 * the owner changed against what someone else saved meanwhile. Keys only: the UI names fields and
 * values in the owner's language (i18n/text.ts).
 */

export type SettingsValues = Pick<
  StoreSettingsBody,
  | 'autoPrediction'
  | 'manualPrepMinutes'
  | 'manualDeliveryMinutes'
  | 'minShownMinutes'
  | 'maxShownMinutes'
  | 'busy'
>;
export type SettingsKey = keyof SettingsValues;

/** In form order. */
export const SETTINGS_KEYS: readonly SettingsKey[] = [
  'autoPrediction',
  'manualPrepMinutes',
  'manualDeliveryMinutes',
  'minShownMinutes',
  'maxShownMinutes',
  'busy',
];

/** Busy ends compare as instants: `…Z` and `…+09:00` spellings of one moment are no change. */
export function sameSetting(key: SettingsKey, a: SettingsValues, b: SettingsValues): boolean {
  if (key !== 'busy') return a[key] === b[key];
  if (a.busy === null || b.busy === null) return a.busy === b.busy;
  return a.busy.extraMinutes === b.busy.extraMinutes && Date.parse(a.busy.until) === Date.parse(b.busy.until);
}

/** The fields that differ, in form order. */
export function diffSettings(before: SettingsValues, after: SettingsValues): SettingsKey[] {
  return SETTINGS_KEYS.filter((key) => !sameSetting(key, before, after));
}

export interface ConflictRow {
  readonly key: SettingsKey;
  readonly changedByYou: boolean;
  readonly changedByOthers: boolean;
}

/**
 * The rows of the conflict view: every field that either side changed from the version the owner started
 * from (`base`). A field both changed to different values is the one to look at; one changed by others
 * only will be kept as theirs on retry. The view shows `mine` and `current` for each row's key.
 */
export function conflictRows(
  base: SettingsValues,
  mine: SettingsValues,
  current: SettingsValues,
): ConflictRow[] {
  return SETTINGS_KEYS.flatMap((key) => {
    const changedByYou = !sameSetting(key, base, mine);
    const changedByOthers = !sameSetting(key, base, current);
    if (!changedByYou && !changedByOthers) return [];
    return [{ key, changedByYou, changedByOthers }];
  });
}
