import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedData, seedIfEmpty, seedStores, type Database } from '../../src/adapters/db/index.ts';
import { dongContains, generateSeedStores, type SeedData } from '../../src/domain/seed.ts';
import { migratedPglite, silentLog } from './support.ts';

const NOW = new Date('2026-01-01T12:00:00Z');

describe('seed generation', () => {
  let data: SeedData;
  beforeAll(async () => {
    data = await loadSeedData();
  }, 30_000);

  it('is deterministic: the same ids, names, positions and settings on every run', () => {
    const a = generateSeedStores(data, { count: 500, now: NOW });
    const b = generateSeedStores(data, { count: 500, now: NOW });
    expect(a).toEqual(b);
    expect(a.map((s) => s.store.id)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    // A different seed is a different city, so the test above is not comparing constants.
    const c = generateSeedStores(data, { count: 500, now: NOW, seed: 7 });
    expect(c.map((s) => s.store.lat)).not.toEqual(a.map((s) => s.store.lat));
  });

  it('places every store inside the Seoul dong it is labelled with, checked against Geo’s own boundaries', async () => {
    // Geo's file read as data: an independent copy of the boundaries, not the derived one the seed used.
    const geo = JSON.parse(
      await readFile(new URL('../../../geo/data/seoul-dongs.json', import.meta.url), 'utf8'),
    ) as SeedData & { dongs: { code: string; gu: string }[] };
    const byCode = new Map(
      geo.dongs.map((d) => [d.code, { ...d, regionClass: 'urban' as const, weight: 1 }]),
    );
    const stores = generateSeedStores(data, { count: 2_000, now: NOW });
    for (const { store } of stores) {
      const dong = byCode.get(store.dongCode!);
      expect(dong, `store ${store.id} dong ${store.dongCode}`).toBeDefined();
      expect(dong!.gu).toBe(store.guCode);
      expect(dongContains(dong!, geo.scale, store.lat, store.lng), `store ${store.id}`).toBe(true);
    }
  });

  it('follows food density: metropolitan dongs get more stores per dong than semi-urban ones', () => {
    const stores = generateSeedStores(data, { count: 5_000, now: NOW });
    const perClass = new Map<string, number>();
    for (const { store } of stores)
      perClass.set(store.regionClass!, (perClass.get(store.regionClass!) ?? 0) + 1);
    const dongsPerClass = new Map<string, number>();
    for (const d of data.dongs) dongsPerClass.set(d.regionClass, (dongsPerClass.get(d.regionClass) ?? 0) + 1);
    const density = (c: string) => (perClass.get(c) ?? 0) / (dongsPerClass.get(c) ?? 1);
    expect(density('metropolitan')).toBeGreaterThan(2 * density('semi-urban'));
  });

  it('mixes categories and settings within the documented ranges', () => {
    const stores = generateSeedStores(data, { count: 5_000, now: NOW });
    const categories = new Set(stores.map((s) => s.store.category));
    expect([...categories].sort()).toEqual(['buffet', 'drinks', 'meal', 'snack']);
    const auto = stores.filter((s) => s.settings.autoPrediction).length / stores.length;
    expect(auto).toBeGreaterThan(0.75);
    expect(auto).toBeLessThan(0.85);
    for (const { store, settings } of stores) {
      expect(store.name).toMatch(/^\S+ \S+점$/);
      expect(settings.manualPrepMinutes).toBeGreaterThanOrEqual(10);
      expect(settings.manualPrepMinutes).toBeLessThanOrEqual(30);
      expect(settings.manualDeliveryMinutes).toBeGreaterThanOrEqual(15);
      expect(settings.manualDeliveryMinutes).toBeLessThanOrEqual(40);
      if (settings.minShownMinutes !== null) {
        expect(settings.maxShownMinutes).toBeGreaterThan(settings.minShownMinutes);
      }
      if (settings.busy !== null) expect(settings.busy.until.getTime()).toBeGreaterThan(NOW.getTime());
    }
    expect(stores.filter((s) => s.settings.minShownMinutes !== null).length).toBeGreaterThan(0);
    const busy = stores.filter((s) => s.settings.busy !== null).length;
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThan(stores.length * 0.1);
  });
});

describe('seeding a database (PGlite)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await migratedPglite();
  }, 30_000);
  afterAll(async () => {
    await db.close();
  });

  it('writes N stores with settings once; a rerun inserts nothing and keeps owner edits', async () => {
    expect(await seedIfEmpty(db, silentLog, { count: 5_000, now: NOW })).toEqual({
      requested: 5_000,
      inserted: 5_000,
    });
    const counts = await db.query<{ stores: number; settings: number; max: number }>(
      'SELECT (SELECT count(*) FROM stores)::int AS stores, (SELECT count(*) FROM store_settings)::int AS settings, (SELECT max(id) FROM stores)::int AS max',
    );
    expect(counts.rows[0]).toEqual({ stores: 5_000, settings: 5_000, max: 5_000 });

    await db.exec('UPDATE store_settings SET manual_prep_minutes = 99 WHERE store_id = 42');
    expect(await seedIfEmpty(db, silentLog, { count: 5_000, now: NOW })).toBeUndefined();
    expect(await seedStores(db, silentLog, { count: 5_100, now: NOW })).toEqual({
      requested: 5_100,
      inserted: 100,
    });
    const edited = await db.query<{ m: number }>(
      'SELECT manual_prep_minutes AS m FROM store_settings WHERE store_id = 42',
    );
    expect(edited.rows[0]?.m).toBe(99);
  });

  it('stores exactly what the generator produced', async () => {
    const expected = generateSeedStores(await loadSeedData(), { count: 5_000, now: NOW })[1_233]!;
    const { rows } = await db.query<Record<string, unknown>>(
      `SELECT s.name, s.lat, s.lng, s.category, s.dong_code, st.auto_prediction, st.busy_until
         FROM stores s JOIN store_settings st ON st.store_id = s.id WHERE s.id = $1`,
      [expected.store.id],
    );
    expect(rows[0]).toEqual({
      name: expected.store.name,
      lat: expected.store.lat,
      lng: expected.store.lng,
      category: expected.store.category,
      dong_code: expected.store.dongCode,
      auto_prediction: expected.settings.autoPrediction,
      busy_until: expected.settings.busy?.until ?? null,
    });
  });
});
