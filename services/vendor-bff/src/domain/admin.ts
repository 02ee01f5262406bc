import type { AdminStore, StoreSettingsBody, StoreSettingsPut } from '@eta/contracts';
import { activeBusy, settingsToBody } from './settings.ts';
import type { Store, StoreSettings } from './stores.ts';

/**
 * Rules of the store-owner admin API that need no I/O: who may see which store, and the store and its
 * settings as the admin API shows them (admin-service.ts applies them).
 */

/** What the admin API knows of its caller (auth/jwt.ts builds it from a verified token). */
export type AdminCaller =
  | { readonly kind: 'owner'; readonly subject: string; readonly storeIds: readonly number[] }
  | { readonly kind: 'operator'; readonly subject: string };

/**
 * Operators may manage every store; an owner only the ids in their token. A store that is not the caller's
 * gets the same answer as a store that does not exist (404 STORE_NOT_FOUND), so ids cannot be probed.
 */
export function mayManage(caller: AdminCaller, storeId: number): boolean {
  return caller.kind === 'operator' || caller.storeIds.includes(storeId);
}

/**
 * Settings as the admin API answers them: busy mode that has already ended reads as off. The row keeps
 * the old `busy_until` (expiry is evaluated at read time, domain/settings.ts), but a form that showed it
 * would save an end in the past and be refused; what the owner sees is what customers get now.
 */
export function settingsForAdmin(s: StoreSettings, now: Date): StoreSettingsBody {
  return settingsToBody({ ...s, busy: activeBusy(s, now) });
}

/** A full replacement as the data layer's write takes it (every field set, so nothing of the old row leaks). */
export function putAsPatch(put: StoreSettingsPut): Required<StoreSettingsPut> {
  return {
    autoPrediction: put.autoPrediction,
    manualPrepMinutes: put.manualPrepMinutes,
    manualDeliveryMinutes: put.manualDeliveryMinutes,
    minShownMinutes: put.minShownMinutes,
    maxShownMinutes: put.maxShownMinutes,
    busy: put.busy,
  };
}

/** The store as the admin API shows it; the region's name from `names` (dong code, else gu code), if known. */
export function toAdminStore(store: Store, names: ReadonlyMap<string, string>): AdminStore {
  const name =
    (store.dongCode !== null ? names.get(store.dongCode) : undefined) ??
    (store.guCode !== null ? names.get(store.guCode) : undefined) ??
    null;
  return {
    id: store.id,
    name: store.name,
    location: { lat: store.lat, lng: store.lng },
    category: store.category,
    region: { guCode: store.guCode, dongCode: store.dongCode, name, regionClass: store.regionClass },
  };
}
