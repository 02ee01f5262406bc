import { StoreSettingsPatch } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { activeBusy, applySettingsPatch, type SettingsValues } from '../../src/domain/settings.ts';

const NOW = new Date('2026-01-01T12:00:00Z');
const base: SettingsValues = {
  autoPrediction: true,
  manualPrepMinutes: 15,
  manualDeliveryMinutes: 25,
  minShownMinutes: 20,
  maxShownMinutes: 50,
  busy: null,
};
const inMinutes = (m: number) => new Date(NOW.getTime() + m * 60_000).toISOString();

describe('StoreSettingsPatch (shared with admin-web)', () => {
  it.each([
    [{}, 'the patch changes nothing'],
    [{ manualPrepMinutes: -1 }, 'must not be negative'],
    [{ manualPrepMinutes: 12.5 }, 'whole minutes'],
    [{ manualDeliveryMinutes: 241 }, 'at most 240'],
    [{ minShownMinutes: 40, maxShownMinutes: 30 }, 'must not exceed the maximum'],
    [{ busy: { extraMinutes: 0, until: inMinutes(10) } }, 'at least 1 minute'],
    [{ busy: { extraMinutes: 5, until: '2026-01-01 12:00' } }, 'RFC 3339'],
    [{ colour: 'red' }, 'colour'],
  ])('rejects %j', (input, message) => {
    const result = StoreSettingsPatch.safeParse(input);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it('parses busy until into a Date and keeps null as "clear"', () => {
    const parsed = StoreSettingsPatch.parse({
      busy: { extraMinutes: 10, until: inMinutes(30) },
      minShownMinutes: null,
    });
    expect(parsed.busy?.until).toEqual(new Date(inMinutes(30)));
    expect(parsed.minShownMinutes).toBeNull();
  });
});

describe('applySettingsPatch', () => {
  it('keeps absent keys and clears null ones', () => {
    const out = applySettingsPatch(
      base,
      StoreSettingsPatch.parse({ manualPrepMinutes: 18, maxShownMinutes: null }),
      NOW,
    );
    expect(out).toEqual({ ok: true, values: { ...base, manualPrepMinutes: 18, maxShownMinutes: null } });
  });

  it('checks min <= max after merging with the stored row', () => {
    const out = applySettingsPatch(base, StoreSettingsPatch.parse({ minShownMinutes: 51 }), NOW);
    expect(out).toEqual({ ok: false, message: 'minimum shown time must not exceed the maximum' });
  });

  it('refuses a busy mode that already ended or lasts more than 12 hours', () => {
    const past = applySettingsPatch(
      base,
      StoreSettingsPatch.parse({ busy: { extraMinutes: 5, until: inMinutes(-1) } }),
      NOW,
    );
    expect(past.ok).toBe(false);
    const long = applySettingsPatch(
      base,
      StoreSettingsPatch.parse({ busy: { extraMinutes: 5, until: inMinutes(12 * 60 + 1) } }),
      NOW,
    );
    expect(long.ok).toBe(false);
  });
});

describe('activeBusy: busy mode expires at read time', () => {
  const busy = { extraMinutes: 10, until: new Date(inMinutes(30)) };
  it('is active before its end and gone at its end, whatever copy of the settings is read', () => {
    expect(activeBusy({ busy }, NOW)).toBe(busy);
    expect(activeBusy({ busy }, busy.until)).toBeNull();
    expect(activeBusy({ busy: null }, NOW)).toBeNull();
  });
});
