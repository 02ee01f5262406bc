import type { StoreSettingsBody } from '@eta/contracts';
import { formatTime } from './format.ts';

/**
 * Field-by-field comparison of two settings: what a history entry changed, and in a save conflict what
 * the owner changed against what someone else saved meanwhile.
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

export const SETTINGS_FIELDS: readonly { readonly key: SettingsKey; readonly label: string }[] = [
  { key: 'autoPrediction', label: 'Delivery time' },
  { key: 'manualPrepMinutes', label: 'Manual preparation time' },
  { key: 'manualDeliveryMinutes', label: 'Manual delivery time' },
  { key: 'minShownMinutes', label: 'Minimum shown' },
  { key: 'maxShownMinutes', label: 'Maximum shown' },
  { key: 'busy', label: 'Busy mode' },
];

export function formatSettingValue<K extends SettingsKey>(key: K, values: SettingsValues): string {
  switch (key) {
    case 'autoPrediction':
      return values.autoPrediction ? 'Automatic' : 'Manual';
    case 'manualPrepMinutes':
      return `${values.manualPrepMinutes} min`;
    case 'manualDeliveryMinutes':
      return `${values.manualDeliveryMinutes} min`;
    case 'minShownMinutes':
      return values.minShownMinutes === null ? 'No minimum' : `${values.minShownMinutes} min`;
    case 'maxShownMinutes':
      return values.maxShownMinutes === null ? 'No maximum' : `${values.maxShownMinutes} min`;
    default:
      return values.busy === null
        ? 'Off'
        : `+${values.busy.extraMinutes} min until ${formatTime(values.busy.until)}`;
  }
}

/** Busy ends compare as instants: `…Z` and `…+09:00` spellings of one moment are no change. */
export function sameSetting(key: SettingsKey, a: SettingsValues, b: SettingsValues): boolean {
  if (key !== 'busy') return a[key] === b[key];
  if (a.busy === null || b.busy === null) return a.busy === b.busy;
  return a.busy.extraMinutes === b.busy.extraMinutes && Date.parse(a.busy.until) === Date.parse(b.busy.until);
}

export interface FieldChange {
  readonly key: SettingsKey;
  readonly label: string;
  readonly before: string;
  readonly after: string;
}

/** The fields that differ, in form order. */
export function diffSettings(before: SettingsValues, after: SettingsValues): FieldChange[] {
  return SETTINGS_FIELDS.filter(({ key }) => !sameSetting(key, before, after)).map(({ key, label }) => ({
    key,
    label,
    before: formatSettingValue(key, before),
    after: formatSettingValue(key, after),
  }));
}

export interface ConflictRow {
  readonly key: SettingsKey;
  readonly label: string;
  /** What the owner tried to save. */
  readonly yours: string;
  /** What the server holds now. */
  readonly current: string;
  readonly changedByYou: boolean;
  readonly changedByOthers: boolean;
}

/**
 * The rows of the conflict view: every field that either side changed from the version the owner started
 * from (`base`). A field both changed to different values is the one to look at; one changed by others
 * only will be kept as theirs on retry.
 */
export function conflictRows(
  base: SettingsValues,
  mine: SettingsValues,
  current: SettingsValues,
): ConflictRow[] {
  return SETTINGS_FIELDS.flatMap(({ key, label }) => {
    const changedByYou = !sameSetting(key, base, mine);
    const changedByOthers = !sameSetting(key, base, current);
    if (!changedByYou && !changedByOthers) return [];
    return [
      {
        key,
        label,
        yours: formatSettingValue(key, mine),
        current: formatSettingValue(key, current),
        changedByYou,
        changedByOthers,
      },
    ];
  });
}
