import { z } from 'zod';

/**
 * Store settings as the admin API reads and writes them. vendor-bff's settings write validates with these
 * schemas (and then the rules that need the current row: see domain/settings.ts), and admin-web uses the
 * same ones for its forms, so the browser and the server cannot disagree on what is valid.
 */

/** Sanity bound on every minutes field (4 h); also a CHECK constraint in the database. */
export const SETTINGS_MAX_MINUTES = 240;
/** Busy mode is meant for a rush, not a holiday: at most this far ahead. */
export const BUSY_MAX_HOURS = 12;

const minutes = (what: string) =>
  z
    .number({ error: `${what} must be a number of minutes` })
    .int({ error: `${what} must be whole minutes` })
    .min(0, { error: `${what} must not be negative` })
    .max(SETTINGS_MAX_MINUTES, { error: `${what} must be at most ${SETTINGS_MAX_MINUTES} minutes` });

export const BusyModeInput = z.strictObject({
  extraMinutes: minutes('busy extra time').min(1, { error: 'busy extra time must be at least 1 minute' }),
  /** RFC 3339 with an offset; when busy mode ends by itself. */
  until: z.iso
    .datetime({ offset: true, error: 'busy until must be an RFC 3339 date-time with an offset' })
    .transform((s) => new Date(s)),
});

/**
 * A partial update (PATCH body). `null` clears a clamp or ends busy mode; an absent key keeps the value.
 * Checks that need only the patch live here; the ones that need the stored row (min <= max after the
 * merge, busy end in the future) are in vendor-bff's domain/settings.ts.
 */
export const StoreSettingsPatch = z
  .strictObject({
    autoPrediction: z.boolean().optional(),
    manualPrepMinutes: minutes('manual preparation time').optional(),
    manualDeliveryMinutes: minutes('manual delivery time').optional(),
    minShownMinutes: minutes('minimum shown time').nullable().optional(),
    maxShownMinutes: minutes('maximum shown time').nullable().optional(),
    busy: BusyModeInput.nullable().optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), { error: 'the patch changes nothing' })
  .refine(
    (p) => p.minShownMinutes == null || p.maxShownMinutes == null || p.minShownMinutes <= p.maxShownMinutes,
    { error: 'minimum shown time must not exceed the maximum', path: ['minShownMinutes'] },
  );
export type StoreSettingsPatch = z.output<typeof StoreSettingsPatch>;

/** Settings as the admin API answers them (dates as RFC 3339 strings). `version` is the ETag. */
export const StoreSettingsBody = z.object({
  storeId: z.number().int().positive(),
  autoPrediction: z.boolean(),
  manualPrepMinutes: z.number().int(),
  manualDeliveryMinutes: z.number().int(),
  minShownMinutes: z.number().int().nullable(),
  maxShownMinutes: z.number().int().nullable(),
  busy: z.object({ extraMinutes: z.number().int(), until: z.iso.datetime({ offset: true }) }).nullable(),
  updatedAt: z.iso.datetime({ offset: true }),
  version: z.number().int().positive(),
});
export type StoreSettingsBody = z.infer<typeof StoreSettingsBody>;
