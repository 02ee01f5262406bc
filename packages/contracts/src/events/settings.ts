import { z } from 'zod';
import { StoreId } from '../estimates.ts';
import { StoreSettingsBody } from '../stores.ts';
import { envelope, eventTopic } from './envelope.ts';

/**
 * Topic `settings-changed`: a store owner's (or operator's) settings write, after it committed. The shape
 * is the admin API's own record of a change (`SettingsHistoryItem` of `GET /v1/stores/{id}/settings/history`:
 * the audit row's id, actor, time, before and after), so the event and the history cannot disagree. Keyed
 * by store id, so one store's changes keep their order.
 *
 * The admin path today invalidates other pods' cached copies over Redis pub/sub (`@eta/cache`'s
 * `<prefix>stores:invalidate` channel, cache keys only); that message is the cache's internal business
 * and stays. This event is for readers outside the BFF (accuracy by settings, the warehouse).
 */
export const SettingsChanged = z.object({
  ...envelope('settings-changed', 1),
  storeId: StoreId,
  /** The audit row's id (`SettingsHistoryItem.id`): a second delivery of one change has the same. */
  auditId: z.number().int().positive(),
  /** The writer's token subject. */
  actor: z.string().min(1),
  before: StoreSettingsBody,
  after: StoreSettingsBody,
});
export type SettingsChanged = z.infer<typeof SettingsChanged>;

export const SettingsChangedEvent = z.discriminatedUnion('type', [SettingsChanged]);
export type SettingsChangedEvent = z.infer<typeof SettingsChangedEvent>;

export const SETTINGS_CHANGED_TOPIC = eventTopic('settings-changed', SettingsChangedEvent, (e) =>
  String(e.storeId),
);
