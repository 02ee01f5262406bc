import { createCoalescer } from '@eta/service-kit';
import type { StoreSource } from '../../domain/catalog.ts';
import type { OrderCategory, RegionClass, Store, StoreSettings, StoreView } from '../../domain/stores.ts';
import type { Queryable } from './database.ts';

/** Row mapping between the stores/store_settings tables and the StoreView contract. */

export interface StoreViewRow {
  id: number | string | bigint;
  name: string;
  lat: number;
  lng: number;
  category: string;
  dong_code: string | null;
  gu_code: string | null;
  region_class: string | null;
  auto_prediction: boolean;
  manual_prep_minutes: number;
  manual_delivery_minutes: number;
  min_shown_minutes: number | null;
  max_shown_minutes: number | null;
  busy_extra_minutes: number | null;
  busy_until: Date | null;
  updated_at: Date;
  version: number;
}

export const SETTINGS_COLUMNS = `st.store_id, st.auto_prediction, st.manual_prep_minutes, st.manual_delivery_minutes,
  st.min_shown_minutes, st.max_shown_minutes, st.busy_extra_minutes, st.busy_until, st.updated_at, st.version`;

// A store is in the catalogue only together with its settings row (the seed and store creation write
// both in one transaction); an inner join keeps a half-created store invisible rather than defaulted.
export const SELECT_VIEWS = `SELECT s.id, s.name, s.lat, s.lng, s.category, s.dong_code, s.gu_code, s.region_class,
  ${SETTINGS_COLUMNS}
FROM stores s JOIN store_settings st ON st.store_id = s.id
WHERE s.id = ANY($1::bigint[])`;

export type SettingsRow = Omit<
  StoreViewRow,
  'id' | 'name' | 'lat' | 'lng' | 'category' | 'dong_code' | 'gu_code' | 'region_class'
> & { store_id: number | string | bigint };

export function settingsFromRow(r: SettingsRow): StoreSettings {
  // The CHECK constraint guarantees both busy columns are set or neither.
  const busy =
    r.busy_extra_minutes !== null && r.busy_until !== null
      ? { extraMinutes: r.busy_extra_minutes, until: new Date(r.busy_until) }
      : null;
  return {
    storeId: Number(r.store_id),
    autoPrediction: r.auto_prediction,
    manualPrepMinutes: r.manual_prep_minutes,
    manualDeliveryMinutes: r.manual_delivery_minutes,
    minShownMinutes: r.min_shown_minutes,
    maxShownMinutes: r.max_shown_minutes,
    busy,
    updatedAt: new Date(r.updated_at),
    version: r.version,
  };
}

export function viewFromRow(r: StoreViewRow): StoreView {
  // bigint ids come back as strings from pg and as numbers from PGlite; ids stay far below 2^53.
  const id = Number(r.id);
  const store: Store = {
    id,
    name: r.name,
    lat: r.lat,
    lng: r.lng,
    category: r.category as OrderCategory,
    dongCode: r.dong_code,
    guCode: r.gu_code,
    regionClass: r.region_class as RegionClass | null,
  };
  return { store, settings: settingsFromRow({ ...r, store_id: id }) };
}

/** Loads store views by id with ONE query; unknown ids are absent from the map. */
export async function loadStoreViews(db: Queryable, ids: readonly number[]): Promise<Map<number, StoreView>> {
  const out = new Map<number, StoreView>();
  if (ids.length === 0) return out;
  const { rows } = await db.query<StoreViewRow>(SELECT_VIEWS, [ids]);
  for (const row of rows) {
    const view = viewFromRow(row);
    out.set(view.store.id, view);
  }
  return out;
}

/** Catalogue reads never outlive a deadline of their own: the database's statement timeout bounds them. */
const NO_DEADLINE = { remainingMs: () => Infinity };

/**
 * The catalog's read port, backed by the database. The reads of one event-loop turn (every request's
 * misses and background refreshes) share one `WHERE id = ANY($1)` query of at most `maxBatchIds` ids,
 * through the service kit's coalescer, so stores expiring together are not re-read one query each. A
 * failed read fails the callers whose ids it carried.
 */
export function createDbStoreSource(db: Queryable, opts: { maxBatchIds?: number } = {}): StoreSource {
  const reads = createCoalescer<number, StoreView | null>({
    maxWeight: opts.maxBatchIds ?? 500,
    send: async (ids) => {
      const found = await loadStoreViews(db, [...new Set(ids)]);
      return ids.map((id) => found.get(id) ?? null);
    },
  });
  return {
    async loadMany(ids) {
      const views = await Promise.all(ids.map((id) => reads.submit(id, NO_DEADLINE)));
      const out = new Map<number, StoreView>();
      for (const view of views) if (view !== null) out.set(view.store.id, view);
      return out;
    },
  };
}

/** A page of store ids in ascending order after `afterId` (the warm-up reads every store once). */
export async function listStoreIds(db: Queryable, afterId: number, limit: number): Promise<number[]> {
  const { rows } = await db.query<{ id: number | string | bigint }>(
    'SELECT id FROM stores WHERE id > $1 ORDER BY id LIMIT $2',
    [afterId, limit],
  );
  return rows.map((r) => Number(r.id));
}
