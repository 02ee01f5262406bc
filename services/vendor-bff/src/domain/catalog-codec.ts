import type { Codec } from '@eta/cache';
import { z } from 'zod';
import type { StoreView } from './stores.ts';

/**
 * How a StoreView is kept in Redis. JSON turns Dates into strings, so decode must turn them back; and a
 * value written by an older image outlives a deploy, so decode validates: a shape this code does not know
 * is a cache miss (the cache recomputes), never a half-parsed settings object on the estimate path.
 */

const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

const storeViewJson = z.object({
  store: z.object({
    id: z.number().int().positive(),
    name: z.string(),
    lat: z.number(),
    lng: z.number(),
    category: z.enum(['snack', 'meal', 'drinks', 'buffet']),
    dongCode: z.string().nullable(),
    guCode: z.string().nullable(),
    regionClass: z.enum(['metropolitan', 'urban', 'semi-urban']).nullable(),
  }),
  settings: z.object({
    storeId: z.number().int().positive(),
    autoPrediction: z.boolean(),
    manualPrepMinutes: z.number().int(),
    manualDeliveryMinutes: z.number().int(),
    minShownMinutes: z.number().int().nullable(),
    maxShownMinutes: z.number().int().nullable(),
    busy: z.object({ extraMinutes: z.number().int(), until: date }).nullable(),
    updatedAt: date,
    version: z.number().int().positive(),
  }),
});

export const storeViewCodec: Codec<StoreView> = {
  encode: (view) => JSON.stringify(view),
  // Throws on a foreign shape; the cache counts that as an L2 error and recomputes.
  decode: (text) => storeViewJson.parse(JSON.parse(text)),
};
