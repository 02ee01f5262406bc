import {
  adminPaths,
  ADMIN_ROUTES,
  formatEtag,
  parseEtag,
  PreconditionFailedBody,
  PreviewQuery,
  settingsPutRules,
  StoreParams,
  StoreSettingsPut,
} from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { NOW, settingsBody } from './fixtures.ts';

/**
 * The admin API contract (packages/contracts/src/admin.ts) as admin-web relies on it; vendor-bff's own
 * tests cover its side. Kept here because admin-web defined it and its forms depend on every message.
 */

const put = {
  autoPrediction: true,
  manualPrepMinutes: 15,
  manualDeliveryMinutes: 20,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
};

describe('StoreSettingsPut', () => {
  it('is a full replacement: every field is required, unknown ones refused', () => {
    const { busy: _busy, ...missing } = put;
    expect(StoreSettingsPut.safeParse(missing).success).toBe(false);
    expect(StoreSettingsPut.safeParse({ ...put, version: 3 }).success).toBe(false);
    expect(StoreSettingsPut.safeParse(put).success).toBe(true);
  });

  it('parses busy.until into a Date and refuses one without an offset', () => {
    const ok = StoreSettingsPut.parse({
      ...put,
      busy: { extraMinutes: 5, until: '2026-03-03T15:00:00+09:00' },
    });
    expect(ok.busy?.until.toISOString()).toBe('2026-03-03T06:00:00.000Z');
    expect(
      StoreSettingsPut.safeParse({ ...put, busy: { extraMinutes: 5, until: '2026-03-03T15:00:00' } }).success,
    ).toBe(false);
  });
});

describe('settingsPutRules', () => {
  const withBusy = (until: string) => StoreSettingsPut.parse({ ...put, busy: { extraMinutes: 5, until } });

  it('needs the busy end in the future and at most 12 hours ahead', () => {
    expect(settingsPutRules(withBusy('2026-03-03T05:30:00Z'), NOW)).toEqual([
      { path: 'busy.until', message: 'busy until must be in the future' },
    ]);
    expect(settingsPutRules(withBusy('2026-03-03T17:30:00Z'), NOW)).toEqual([]);
    expect(settingsPutRules(withBusy('2026-03-03T17:30:01Z'), NOW)).toEqual([
      { path: 'busy.until', message: 'busy mode lasts at most 12 hours' },
    ]);
    expect(settingsPutRules(StoreSettingsPut.parse(put), NOW)).toEqual([]);
  });
});

describe('entity tags', () => {
  it('round-trips a version and refuses weak, wildcard and list forms', () => {
    expect(formatEtag(12)).toBe('"12"');
    expect(parseEtag(formatEtag(12))).toBe(12);
    for (const bad of ['W/"12"', '*', '"1", "2"', '12', '"0"', '"01"', '', null, undefined]) {
      expect(parseEtag(bad)).toBeNull();
    }
  });
});

describe('routes and queries', () => {
  it('builds the client paths of the server routes', () => {
    expect(adminPaths.settings(7)).toBe(ADMIN_ROUTES.settings.replace(':id', '7'));
    expect(adminPaths.settingsHistory(7)).toBe('/v1/stores/7/settings/history');
    expect(adminPaths.preview(7)).toBe('/v1/stores/7/preview');
  });

  it('reads store ids from params and wants both preview coordinates or neither', () => {
    expect(StoreParams.parse({ id: '42' })).toEqual({ id: 42 });
    expect(StoreParams.safeParse({ id: '0' }).success).toBe(false);
    expect(StoreParams.safeParse({ id: '4.2' }).success).toBe(false);
    expect(PreviewQuery.parse({})).toEqual({});
    expect(PreviewQuery.parse({ lat: '37.56', lng: '126.98' })).toEqual({ lat: 37.56, lng: 126.98 });
    expect(PreviewQuery.safeParse({ lat: '37.56' }).success).toBe(false);
    expect(PreviewQuery.safeParse({ lat: '91', lng: '0' }).success).toBe(false);
  });

  it('gives a 412 body the current settings', () => {
    const current = settingsBody({ version: 9 });
    expect(
      PreconditionFailedBody.parse({ code: 'PRECONDITION_FAILED', message: 'stale', current }).current,
    ).toEqual(current);
    expect(PreconditionFailedBody.safeParse({ code: 'PRECONDITION_FAILED', message: 'stale' }).success).toBe(
      false,
    );
  });
});
