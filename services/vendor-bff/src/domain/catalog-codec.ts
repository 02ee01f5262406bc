import type { Codec } from '@eta/cache';
import { OrderType, RegionClass, StoreId, StoreSettingsBody } from '@eta/contracts';
import { z } from 'zod';
import type { StoreView } from './stores.ts';

/**
 * How a StoreView is kept in Redis. JSON turns Dates into strings, so decode must turn them back; and a
 * value written by an older image outlives a deploy, so decode validates: a shape this code does not know
 * is a cache miss (the cache recomputes), never a half-parsed settings object on the estimate path.
 */

// Field rules are the contracts' own (the admin API's settings body, the estimate API's order types, Geo's
// region classes), so the cache cannot drift from what the APIs accept and answer. Dates are the settings
// body's RFC 3339 strings, turned back into Dates.
const date = StoreSettingsBody.shape.updatedAt.transform((s) => new Date(s));

const storeViewJson = z.object({
  store: z.object({
    id: StoreId,
    name: z.string(),
    lat: z.number(),
    lng: z.number(),
    category: OrderType,
    dongCode: z.string().nullable(),
    guCode: z.string().nullable(),
    regionClass: RegionClass.nullable(),
  }),
  settings: StoreSettingsBody.extend({
    busy: StoreSettingsBody.shape.busy.unwrap().extend({ until: date }).nullable(),
    updatedAt: date,
  }),
});

export const storeViewCodec: Codec<StoreView> = {
  encode: (view) => JSON.stringify(view),
  // Throws on a foreign shape; the cache counts that as an L2 error and recomputes.
  decode: (text) => storeViewJson.parse(JSON.parse(text)),
};
