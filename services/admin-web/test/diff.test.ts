import { describe, expect, it } from 'vitest';
import { conflictRows, diffSettings } from '../src/domain/diff.ts';
import { settingsBody } from './fixtures.ts';

describe('diffSettings', () => {
  it('lists changed fields in form order with readable values (times in Seoul)', () => {
    const before = settingsBody();
    const after = settingsBody({
      autoPrediction: false,
      maxShownMinutes: 45,
      busy: { extraMinutes: 10, until: '2026-03-03T06:00:00Z' },
      version: 4,
      updatedAt: '2026-03-03T05:31:00Z',
    });
    expect(diffSettings(before, after)).toEqual([
      { key: 'autoPrediction', label: 'Delivery time', before: 'Automatic', after: 'Manual' },
      { key: 'maxShownMinutes', label: 'Maximum shown', before: 'No maximum', after: '45 min' },
      { key: 'busy', label: 'Busy mode', before: 'Off', after: '+10 min until 15:00' },
    ]);
  });

  it('treats two spellings of one busy end as no change', () => {
    const a = settingsBody({ busy: { extraMinutes: 10, until: '2026-03-03T06:00:00Z' } });
    const b = settingsBody({ busy: { extraMinutes: 10, until: '2026-03-03T15:00:00+09:00' } });
    expect(diffSettings(a, b)).toEqual([]);
    expect(
      diffSettings(a, settingsBody({ busy: { extraMinutes: 11, until: '2026-03-03T06:00:00Z' } })),
    ).toHaveLength(1);
  });
});

describe('conflictRows', () => {
  it('shows each field either side changed, and who changed it', () => {
    const base = settingsBody();
    const mine = settingsBody({ manualPrepMinutes: 25, minShownMinutes: 20 });
    const current = settingsBody({ manualPrepMinutes: 30, maxShownMinutes: 60, version: 4 });

    expect(conflictRows(base, mine, current)).toEqual([
      {
        key: 'manualPrepMinutes',
        label: 'Manual preparation time',
        yours: '25 min',
        current: '30 min',
        changedByYou: true,
        changedByOthers: true,
      },
      {
        key: 'minShownMinutes',
        label: 'Minimum shown',
        yours: '20 min',
        current: 'No minimum',
        changedByYou: true,
        changedByOthers: false,
      },
      {
        key: 'maxShownMinutes',
        label: 'Maximum shown',
        yours: 'No maximum',
        current: '60 min',
        changedByYou: false,
        changedByOthers: true,
      },
    ]);
  });
});
