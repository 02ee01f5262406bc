import { describe, expect, it } from 'vitest';
import {
  formatAxisTime,
  formatDateTime,
  formatDay,
  formatHour,
  formatMinutes,
  formatPercent,
  formatTime,
  seoulHourInstant,
} from '../src/i18n/format.ts';
import { en, ko } from './intl.ts';

/**
 * 05:30 UTC is 14:30 in Seoul. The test process runs in whatever zone the machine has (UTC on CI), so a
 * formatter that used the device's zone would show 5:30 and fail here.
 */
const AT = '2026-03-03T05:30:00Z';

describe('formatters (Asia/Seoul, the chosen language)', () => {
  it('write times and dates in Seoul time', () => {
    expect(formatTime(ko.intl, AT)).toBe('오후 2:30');
    expect(formatTime(en.intl, AT)).toBe('2:30 PM');
    expect(formatDateTime(ko.intl, AT)).toBe('2026. 3. 3. 오후 2:30');
    expect(formatDateTime(en.intl, AT)).toBe('Mar 3, 2026, 2:30 PM');
    // 23:30 UTC on the 2nd is already the 3rd in Seoul.
    expect(formatDateTime(en.intl, '2026-03-02T23:30:00Z')).toBe('Mar 3, 2026, 8:30 AM');
  });

  it('write a Seoul calendar day as a date', () => {
    expect(formatDay(ko.intl, '2026-03-03')).toBe('2026년 3월 3일 화요일');
    expect(formatDay(en.intl, '2026-03-03')).toBe('Tuesday, March 3, 2026');
  });

  it('write hours of the day for chart axes', () => {
    expect(seoulHourInstant(14, '2026-03-03').toISOString()).toBe('2026-03-03T05:00:00.000Z');
    expect([0, 9, 14].map((h) => formatHour(ko.intl, h))).toEqual(['오전 12시', '오전 9시', '오후 2시']);
    expect([0, 9, 14].map((h) => formatHour(en.intl, h))).toEqual(['12 AM', '9 AM', '2 PM']);
    expect(formatAxisTime(ko.intl, Date.parse('2026-03-03T15:00:00+09:00'))).toBe('오후 3시');
    expect(formatAxisTime(en.intl, Date.parse('2026-03-03T15:20:00+09:00'))).toBe('3:20 PM');
  });

  it('write minutes and shares with the language’s unit and decimals', () => {
    expect(formatMinutes(ko.intl, 45)).toBe('45분');
    expect(formatMinutes(en.intl, 45)).toBe('45 min');
    expect(formatMinutes(ko.intl, 4.25)).toBe('4.3분');
    expect(formatMinutes(en.intl, 1234)).toBe('1,234 min');
    expect(formatPercent(ko.intl, 0.834)).toBe('83%');
    expect(formatPercent(en.intl, 1)).toBe('100%');
  });
});
