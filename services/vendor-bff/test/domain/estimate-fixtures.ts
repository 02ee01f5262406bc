/**
 * Test stores and an in-memory StoreCatalog (our own port, not a server) for the estimate tests that do
 * not need the database. Integration tests put the same stores through the real data layer.
 */
import type { CatalogRead, Store, StoreCatalog, StoreSettings, StoreView } from '../../src/domain/stores.ts';

/** Seoul City Hall area and Gangnam: two real places inside the service area. */
export const CITY_HALL = { lat: 37.5663, lng: 126.9779 } as const;
export const GANGNAM = { lat: 37.4979, lng: 127.0276 } as const;
/** Busan: outside Seoul and outside its bounding box. */
export const BUSAN = { lat: 35.1796, lng: 129.0756 } as const;
/** Gwangmyeong: inside Seoul's bounding box but not in Seoul; only Geo's polygons can tell. */
export const GWANGMYEONG = { lat: 37.4786, lng: 126.8646 } as const;

export function store(id: number, over: Partial<Store> = {}): Store {
  return {
    id,
    name: `store ${id}`,
    lat: 37.5636,
    lng: 126.9826,
    category: 'meal',
    dongCode: '1114055000',
    guCode: '11140',
    regionClass: 'metropolitan',
    ...over,
  };
}

export function settings(storeId: number, over: Partial<StoreSettings> = {}): StoreSettings {
  return {
    storeId,
    autoPrediction: true,
    manualPrepMinutes: 10,
    manualDeliveryMinutes: 15,
    minShownMinutes: null,
    maxShownMinutes: null,
    busy: null,
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    version: 1,
    ...over,
  };
}

export function view(id: number, s: Partial<StoreSettings> = {}, st: Partial<Store> = {}): StoreView {
  return { store: store(id, st), settings: settings(id, s) };
}

export class MemoryCatalog implements StoreCatalog {
  readonly views = new Map<number, StoreView>();
  /** Set to make every read fail, like a catalogue with neither cache nor database. */
  failing = false;

  constructor(views: readonly StoreView[] = []) {
    for (const v of views) this.views.set(v.store.id, v);
  }

  async get(id: number): Promise<StoreView | undefined> {
    if (this.failing) throw new Error('catalogue unavailable');
    return this.views.get(id);
  }

  async getMany(ids: readonly number[]): Promise<CatalogRead> {
    if (this.failing) throw new Error('catalogue unavailable');
    const stores = new Map<number, StoreView>();
    for (const id of ids) {
      const v = this.views.get(id);
      if (v) stores.set(id, v);
    }
    return { stores, stale: false };
  }

  async invalidate(): Promise<void> {}
}
