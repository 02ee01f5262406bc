import type { StoreSettingsBody } from '@eta/contracts';

/** A settings row as the API answers it; override what a test is about. */
export function settingsBody(overrides: Partial<StoreSettingsBody> = {}): StoreSettingsBody {
  return {
    storeId: 7,
    autoPrediction: true,
    manualPrepMinutes: 15,
    manualDeliveryMinutes: 20,
    minShownMinutes: null,
    maxShownMinutes: null,
    busy: null,
    updatedAt: '2026-03-03T05:00:00.000Z',
    version: 3,
    ...overrides,
  };
}

export const NOW = new Date('2026-03-03T05:30:00.000Z');
