import { describe, expect, it } from 'vitest';
import { conflictRows, diffSettings } from '../src/domain/diff.ts';
import { formatSettingValue, settingLabel } from '../src/i18n/text.ts';
import { settingsBody } from './fixtures.ts';
import { en, ko } from './intl.ts';

describe('diffSettings', () => {
  const before = settingsBody();
  const after = settingsBody({
    autoPrediction: false,
    maxShownMinutes: 45,
    busy: { extraMinutes: 10, until: '2026-03-03T06:00:00Z' },
    version: 4,
    updatedAt: '2026-03-03T05:31:00Z',
  });

  it('lists changed fields in form order', () => {
    expect(diffSettings(before, after)).toEqual(['autoPrediction', 'maxShownMinutes', 'busy']);
  });

  it('words them in Korean and in English, busy ends in Seoul time', () => {
    const line = (i: typeof ko) =>
      diffSettings(before, after).map(
        (k) =>
          `${settingLabel(i.intl, k)}: ${formatSettingValue(i.intl, k, before)} → ${formatSettingValue(i.intl, k, after)}`,
      );
    expect(line(ko)).toEqual([
      '예상 시간 방식: 자동 예측 → 직접 입력',
      '최대 표시 시간: 최대 제한 없음 → 45분',
      '바쁨 모드: 꺼짐 → +10분, 오후 3:00까지',
    ]);
    expect(line(en)).toEqual([
      'Delivery time: Automatic → Manual',
      'Maximum shown: No maximum → 45 min',
      'Busy mode: Off → +10 min until 3:00 PM',
    ]);
  });

  it('treats two spellings of one busy end as no change', () => {
    const a = settingsBody({ busy: { extraMinutes: 10, until: '2026-03-03T06:00:00Z' } });
    const b = settingsBody({ busy: { extraMinutes: 10, until: '2026-03-03T15:00:00+09:00' } });
    expect(diffSettings(a, b)).toEqual([]);
    expect(
      diffSettings(a, settingsBody({ busy: { extraMinutes: 11, until: '2026-03-03T06:00:00Z' } })),
    ).toEqual(['busy']);
  });
});

describe('conflictRows', () => {
  it('shows each field either side changed, and who changed it', () => {
    const base = settingsBody();
    const mine = settingsBody({ manualPrepMinutes: 25, minShownMinutes: 20 });
    const current = settingsBody({ manualPrepMinutes: 30, maxShownMinutes: 60, version: 4 });

    expect(conflictRows(base, mine, current)).toEqual([
      { key: 'manualPrepMinutes', changedByYou: true, changedByOthers: true },
      { key: 'minShownMinutes', changedByYou: true, changedByOthers: false },
      { key: 'maxShownMinutes', changedByYou: false, changedByOthers: true },
    ]);
    expect(formatSettingValue(ko.intl, 'minShownMinutes', current)).toBe('최소 제한 없음');
    expect(formatSettingValue(en.intl, 'minShownMinutes', current)).toBe('No minimum');
  });
});
