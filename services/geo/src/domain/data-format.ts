import { z } from 'zod';
import { REGION_CLASSES } from './region-class.ts';

/**
 * The two committed data files (services/geo/data) and their schemas. Both are produced by the scripts in
 * services/geo/scripts; the loader validates them so a bad regeneration fails at start with a message, not
 * with a wrong answer in production.
 */

/** Coordinates are stored as integers in units of 1e-6 degrees (about 0.1 m). */
export const COORD_SCALE = 1_000_000;
export const DONGS_FORMAT = 'eta-geo/seoul-dongs@1';
export const FOOD_DENSITY_FORMAT = 'eta-geo/dong-food-density@1';
export const DONGS_FILE = 'seoul-dongs.json';
export const FOOD_DENSITY_FILE = 'dong-food-density.json';

const guCode = z.string().regex(/^11\d{3}$/, 'expected a 5-digit Seoul gu code (11xxx)');
const dongCode = z.string().regex(/^11\d{8}$/, 'expected a 10-digit Seoul dong code (11xxxxxxxx)');

/** [x0, y0, dx1, dy1, ...]: first vertex absolute, the rest as deltas; the ring closes implicitly. */
const encodedRing = z
  .array(z.number().int())
  .min(6, 'a ring needs at least 3 vertices')
  .refine((r) => r.length % 2 === 0, 'a ring needs an even number of values');

export const dongsFileSchema = z.object({
  format: z.literal(DONGS_FORMAT),
  source: z.string(),
  scale: z.literal(COORD_SCALE),
  gus: z.array(z.object({ code: guCode, name: z.string().min(1) })).min(1),
  dongs: z
    .array(
      z.object({
        code: dongCode,
        kostatCode: z.string(),
        name: z.string().min(1),
        gu: guCode,
        // Outer ring first, then holes, per polygon (GeoJSON order).
        polygons: z.array(z.array(encodedRing).min(1)).min(1),
      }),
    )
    .min(1),
});
export type DongsFile = z.infer<typeof dongsFileSchema>;

export const foodDensityFileSchema = z.object({
  format: z.literal(FOOD_DENSITY_FORMAT),
  method: z.string(),
  unit: z.string(),
  thresholds: z.object({ metropolitan: z.number(), urban: z.number() }),
  dongs: z.record(
    dongCode,
    z.object({ foodDensity: z.number().nonnegative(), regionClass: z.enum(REGION_CLASSES) }),
  ),
});
export type FoodDensityFile = z.infer<typeof foodDensityFileSchema>;
