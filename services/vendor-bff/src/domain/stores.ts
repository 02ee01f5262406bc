/**
 * The store catalogue as the estimate path sees it: a store, its owner's settings and its region, read
 * through the tiered cache (never Postgres per request). This file is the contract between the data
 * layer (adapters/db, domain/settings) and the estimate path (domain/estimate, http/).
 */

export type OrderCategory = 'snack' | 'meal' | 'drinks' | 'buffet';
export type RegionClass = 'metropolitan' | 'urban' | 'semi-urban';

export interface Store {
  readonly id: number;
  readonly name: string;
  readonly lat: number;
  readonly lng: number;
  readonly category: OrderCategory;
  /** Administrative dong (adm_cd2, 10 digits) and gu (5 digits) computed from Geo at seed/creation time. */
  readonly dongCode: string | null;
  readonly guCode: string | null;
  readonly regionClass: RegionClass | null;
}

export interface BusyMode {
  readonly extraMinutes: number;
  /** Busy mode expires by itself at this instant. */
  readonly until: Date;
}

export interface StoreSettings {
  readonly storeId: number;
  /** On: customers see the model's estimate (with the owner's clamps). Off: the owner's manual times. */
  readonly autoPrediction: boolean;
  readonly manualPrepMinutes: number;
  readonly manualDeliveryMinutes: number;
  readonly minShownMinutes: number | null;
  readonly maxShownMinutes: number | null;
  readonly busy: BusyMode | null;
  readonly updatedAt: Date;
  /** Incremented by every write; the admin API's ETag. */
  readonly version: number;
}

export interface StoreView {
  readonly store: Store;
  readonly settings: StoreSettings;
}

export interface CatalogRead {
  /** Found stores by id; unknown ids are absent from the map. */
  readonly stores: ReadonlyMap<number, StoreView>;
  /** True when some of them came from the last known copy because Postgres could not be reached. */
  readonly stale: boolean;
}

/** Read port used by the estimate path. */
export interface StoreCatalog {
  get(id: number): Promise<StoreView | undefined>;
  getMany(ids: readonly number[]): Promise<CatalogRead>;
  /** Drops the cached copy of a store on every pod (after a settings write). */
  invalidate(id: number): Promise<void>;
}
