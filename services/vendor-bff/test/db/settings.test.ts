import { StoreSettingsPatch } from '@eta/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertSeedStores,
  listSettingsAudit,
  loadStoreViews,
  updateSettings,
  type Database,
} from '../../src/adapters/db/index.ts';
import { settingsToBody } from '../../src/domain/settings.ts';
import { migratedPglite } from './support.ts';

const patch = (p: unknown) => StoreSettingsPatch.parse(p);
const NOW = new Date('2026-01-01T12:00:00Z');

describe('updateSettings (PGlite)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await migratedPglite();
    await insertSeedStores(db, [
      {
        store: {
          id: 1,
          name: '원조국밥 역삼점',
          lat: 37.5,
          lng: 127.03,
          category: 'meal',
          dongCode: null,
          guCode: null,
          regionClass: null,
        },
        settings: {
          autoPrediction: true,
          manualPrepMinutes: 15,
          manualDeliveryMinutes: 25,
          minShownMinutes: null,
          maxShownMinutes: 50,
          busy: null,
        },
      },
    ]);
  }, 30_000);
  afterAll(async () => {
    await db.close();
  });

  const current = async () => (await loadStoreViews(db, [1])).get(1)!.settings;

  it('writes the patch with version + 1 and an audit row holding before and after', async () => {
    const before = await current();
    expect(before.version).toBe(1);
    const until = new Date(NOW.getTime() + 3_600_000);
    const result = await updateSettings(
      db,
      1,
      1,
      patch({ manualPrepMinutes: 20, busy: { extraMinutes: 10, until: until.toISOString() } }),
      'owner:1',
      () => NOW,
    );
    expect(result.ok).toBe(true);
    const after = await current();
    expect(after).toMatchObject({
      version: 2,
      manualPrepMinutes: 20,
      manualDeliveryMinutes: 25,
      busy: { extraMinutes: 10, until },
    });
    expect(result.ok && result.settings).toEqual(after);
    const audit = await listSettingsAudit(db, 1);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      storeId: 1,
      actor: 'owner:1',
      before: settingsToBody(before),
      after: settingsToBody(after),
    });
  });

  it('answers a stale version with a conflict carrying the current settings, and changes nothing', async () => {
    const result = await updateSettings(db, 1, 1, patch({ manualPrepMinutes: 11 }), 'owner:1', () => NOW);
    expect(result).toEqual({ ok: false, reason: 'version_conflict', current: await current() });
    expect((await current()).manualPrepMinutes).toBe(20);
    expect(await listSettingsAudit(db, 1)).toHaveLength(1);
  });

  it('answers an unknown store with not_found', async () => {
    expect(await updateSettings(db, 999, 1, patch({ autoPrediction: false }), 'owner:999')).toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('rejects a patch that conflicts with the stored row (min above the stored max) without writing', async () => {
    const result = await updateSettings(db, 1, 2, patch({ minShownMinutes: 60 }), 'owner:1', () => NOW);
    expect(result).toMatchObject({ ok: false, reason: 'invalid' });
    expect((await current()).version).toBe(2);
    expect(await listSettingsAudit(db, 1)).toHaveLength(1);
  });

  it('never keeps a change whose audit row failed: both roll back together', async () => {
    // The audit CHECK limits the actor to 200 characters: the audit INSERT fails after the UPDATE ran.
    await expect(
      updateSettings(db, 1, 2, patch({ manualPrepMinutes: 29 }), 'x'.repeat(201), () => NOW),
    ).rejects.toThrow(/violates check constraint/);
    expect(await current()).toMatchObject({ version: 2, manualPrepMinutes: 20 });
    expect(await listSettingsAudit(db, 1)).toHaveLength(1);
  });

  it('ends busy mode with null', async () => {
    const result = await updateSettings(db, 1, 2, patch({ busy: null }), 'owner:1', () => NOW);
    expect(result.ok && result.settings).toMatchObject({ busy: null, version: 3 });
  });
});
