import type { StoreSettingsPatch } from '@eta/contracts';
import { applySettingsPatch, settingsToBody } from '../../domain/settings.ts';
import type { StoreSettings } from '../../domain/stores.ts';
import type { Database } from './database.ts';
import { settingsFromRow, type SettingsRow } from './stores.ts';

/**
 * The one way settings change (the admin API's PATCH). One transaction: lock the row, check the version
 * the owner edited (optimistic concurrency; the version is the ETag), write the new values with
 * version + 1, and write the audit row. The audit row commits with the change or neither does: there is
 * never a change without its audit entry, nor an entry for a change that did not happen.
 *
 * After an `ok` result the caller must `catalog.invalidate(storeId)` so every pod drops its cached copy.
 */

export type UpdateSettingsResult =
  | { readonly ok: true; readonly settings: StoreSettings }
  | { readonly ok: false; readonly reason: 'not_found' }
  | { readonly ok: false; readonly reason: 'version_conflict'; readonly current: StoreSettings }
  | { readonly ok: false; readonly reason: 'invalid'; readonly message: string };

const SELECT_FOR_UPDATE = `SELECT st.store_id, st.auto_prediction, st.manual_prep_minutes, st.manual_delivery_minutes,
  st.min_shown_minutes, st.max_shown_minutes, st.busy_extra_minutes, st.busy_until, st.updated_at, st.version
FROM store_settings st WHERE st.store_id = $1 FOR UPDATE`;

const UPDATE = `UPDATE store_settings SET
  auto_prediction = $2, manual_prep_minutes = $3, manual_delivery_minutes = $4,
  min_shown_minutes = $5, max_shown_minutes = $6, busy_extra_minutes = $7, busy_until = $8,
  updated_at = now(), version = version + 1
WHERE store_id = $1
RETURNING store_id, auto_prediction, manual_prep_minutes, manual_delivery_minutes, min_shown_minutes,
  max_shown_minutes, busy_extra_minutes, busy_until, updated_at, version`;

const AUDIT = `INSERT INTO settings_audit (store_id, actor, before, after) VALUES ($1, $2, $3::jsonb, $4::jsonb)`;

export async function updateSettings(
  db: Database,
  storeId: number,
  expectedVersion: number,
  patch: StoreSettingsPatch,
  actor: string,
  now: () => Date = () => new Date(),
): Promise<UpdateSettingsResult> {
  if (!Number.isSafeInteger(storeId) || storeId <= 0) return { ok: false, reason: 'not_found' };
  return db.transaction(async (tx): Promise<UpdateSettingsResult> => {
    const { rows } = await tx.query<SettingsRow>(SELECT_FOR_UPDATE, [storeId]);
    const row = rows[0];
    if (row === undefined) return { ok: false, reason: 'not_found' };
    const current = settingsFromRow(row);
    if (current.version !== expectedVersion) return { ok: false, reason: 'version_conflict', current };
    const outcome = applySettingsPatch(current, patch, now());
    if (!outcome.ok) return { ok: false, reason: 'invalid', message: outcome.message };
    const v = outcome.values;
    const updated = await tx.query<SettingsRow>(UPDATE, [
      storeId,
      v.autoPrediction,
      v.manualPrepMinutes,
      v.manualDeliveryMinutes,
      v.minShownMinutes,
      v.maxShownMinutes,
      v.busy?.extraMinutes ?? null,
      v.busy?.until ?? null,
    ]);
    const after = settingsFromRow(updated.rows[0]!);
    // JSON text with an explicit cast: pg and PGlite serialise a JS object parameter differently.
    await tx.query(AUDIT, [
      storeId,
      actor,
      JSON.stringify(settingsToBody(current)),
      JSON.stringify(settingsToBody(after)),
    ]);
    return { ok: true, settings: after };
  });
}

export interface SettingsAuditEntry {
  readonly id: number;
  readonly storeId: number;
  readonly actor: string;
  readonly at: Date;
  readonly before: unknown;
  readonly after: unknown;
}

/** One store's settings history, newest first (for the admin issue). */
export async function listSettingsAudit(
  db: Database,
  storeId: number,
  limit = 50,
): Promise<SettingsAuditEntry[]> {
  const { rows } = await db.query<{
    id: number | string;
    store_id: number | string;
    actor: string;
    at: Date;
    before: unknown;
    after: unknown;
  }>(
    'SELECT id, store_id, actor, at, before, after FROM settings_audit WHERE store_id = $1 ORDER BY at DESC, id DESC LIMIT $2',
    [storeId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    storeId: Number(r.store_id),
    actor: r.actor,
    at: new Date(r.at),
    before: r.before,
    after: r.after,
  }));
}
