import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_SEED, generateSeedStores, type SeedData, type SeedStore } from '../../domain/seed.ts';
import type { Database, DbLogger } from './database.ts';

export const SEED_DONGS_FILE: string = fileURLToPath(
  new URL('../../../data/seed-dongs.json', import.meta.url),
);

const seedDongsSchema = z.object({
  format: z.literal('vendor-bff/seed-dongs@1'),
  scale: z.number().int().positive(),
  dongs: z
    .array(
      z.object({
        code: z.string().regex(/^11\d{8}$/),
        name: z.string().min(1),
        gu: z.string().regex(/^11\d{3}$/),
        regionClass: z.enum(['metropolitan', 'urban', 'semi-urban']),
        weight: z.number().nonnegative(),
        polygons: z.array(z.array(z.array(z.number().int()).min(6)).min(1)).min(1),
      }),
    )
    .min(1),
});

/** Reads and validates data/seed-dongs.json (see data/README.md for where it comes from). */
export async function loadSeedData(file: string = SEED_DONGS_FILE): Promise<SeedData> {
  return seedDongsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

export interface SeedReport {
  readonly requested: number;
  /** Stores that were not there before; existing ids are left exactly as they are. */
  readonly inserted: number;
}

// unnest over one array per column: one statement and nine parameters whatever the count, instead of
// 9 x N parameters (Postgres caps a statement at 65,535).
const INSERT_STORES = `INSERT INTO stores (id, name, lat, lng, category, dong_code, gu_code, region_class)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[])
ON CONFLICT (id) DO NOTHING`;

const INSERT_SETTINGS = `INSERT INTO store_settings (store_id, auto_prediction, manual_prep_minutes, manual_delivery_minutes,
  min_shown_minutes, max_shown_minutes, busy_extra_minutes, busy_until)
SELECT * FROM unnest($1::bigint[], $2::boolean[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::timestamptz[])
ON CONFLICT (store_id) DO NOTHING`;

const BATCH = 5_000;

/**
 * Writes the stores and their settings in ONE transaction: a seed either lands whole or not at all.
 * Idempotent: ids already present (and their settings, possibly edited by an owner since) are kept.
 */
export async function insertSeedStores(db: Database, stores: readonly SeedStore[]): Promise<number> {
  return db.transaction(async (tx) => {
    let inserted = 0;
    for (let i = 0; i < stores.length; i += BATCH) {
      const chunk = stores.slice(i, i + BATCH);
      const res = await tx.query(INSERT_STORES, [
        chunk.map((s) => s.store.id),
        chunk.map((s) => s.store.name),
        chunk.map((s) => s.store.lat),
        chunk.map((s) => s.store.lng),
        chunk.map((s) => s.store.category),
        chunk.map((s) => s.store.dongCode),
        chunk.map((s) => s.store.guCode),
        chunk.map((s) => s.store.regionClass),
      ]);
      inserted += res.rowCount;
      await tx.query(INSERT_SETTINGS, [
        chunk.map((s) => s.store.id),
        chunk.map((s) => s.settings.autoPrediction),
        chunk.map((s) => s.settings.manualPrepMinutes),
        chunk.map((s) => s.settings.manualDeliveryMinutes),
        chunk.map((s) => s.settings.minShownMinutes),
        chunk.map((s) => s.settings.maxShownMinutes),
        chunk.map((s) => s.settings.busy?.extraMinutes ?? null),
        chunk.map((s) => s.settings.busy?.until.toISOString() ?? null),
      ]);
    }
    return inserted;
  });
}

export interface SeedRunOptions {
  readonly count: number;
  readonly seed?: number;
  readonly now?: Date;
  readonly data?: SeedData;
}

export async function seedStores(db: Database, log: DbLogger, opts: SeedRunOptions): Promise<SeedReport> {
  const data = opts.data ?? (await loadSeedData());
  const stores = generateSeedStores(data, {
    count: opts.count,
    seed: opts.seed ?? DEFAULT_SEED,
    now: opts.now ?? new Date(),
  });
  const inserted = await insertSeedStores(db, stores);
  log.info({ requested: opts.count, inserted }, 'seeded stores');
  return { requested: opts.count, inserted };
}

/** For the embedded database at start: seeds only when there is no store at all. */
export async function seedIfEmpty(
  db: Database,
  log: DbLogger,
  opts: SeedRunOptions,
): Promise<SeedReport | undefined> {
  const { rows } = await db.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM stores) AS any');
  if (rows[0]?.any === true) return undefined;
  return seedStores(db, log, opts);
}
