import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/learn/targets.ts';
import {
  dayOfDate,
  describeMinuteOfWeek,
  fixedUtcOffsetSeconds,
  localDate,
  localTime,
  shiftMinuteOfWeek,
  utcOffsetSeconds,
} from '../../src/learn/time.ts';

const at = (iso: string) => Date.parse(iso) / 1000;

describe('Asia/Seoul has one offset, +09:00 (no daylight saving)', () => {
  it('keeps +09:00 across the dates other zones change theirs', () => {
    // US DST starts 2026-03-08, EU DST 2026-03-29; both end in the autumn.
    for (const iso of [
      '2026-03-07T12:00Z',
      '2026-03-09T12:00Z',
      '2026-03-28T12:00Z',
      '2026-03-30T12:00Z',
      '2026-10-26T12:00Z',
      '2026-11-02T12:00Z',
    ]) {
      expect(utcOffsetSeconds('Asia/Seoul', at(iso))).toBe(9 * 3600);
    }
    expect(fixedUtcOffsetSeconds('Asia/Seoul', at('2026-01-01T00:00Z'), at('2027-01-01T00:00Z'))).toBe(
      32_400,
    );
  });

  it('asks the zone database, so it sees the zones that do change: Berlin, and Seoul itself in 1988', () => {
    // Through the same dates, Europe/Berlin goes from +01:00 to +02:00.
    expect(utcOffsetSeconds('Europe/Berlin', at('2026-03-28T12:00Z'))).toBe(3600);
    expect(utcOffsetSeconds('Europe/Berlin', at('2026-03-30T12:00Z'))).toBe(7200);
    expect(() =>
      fixedUtcOffsetSeconds('Europe/Berlin', at('2026-03-01T00:00Z'), at('2026-04-01T00:00Z')),
    ).toThrow(/changes its UTC offset .*\+01:00 -> \+02:00/);
    // Korea kept daylight saving time in 1987 and 1988 (+10:00 from May to October).
    expect(utcOffsetSeconds('Asia/Seoul', at('1988-06-01T00:00Z'))).toBe(10 * 3600);
    expect(() =>
      fixedUtcOffsetSeconds('Asia/Seoul', at('1988-04-01T00:00Z'), at('1988-06-01T00:00Z')),
    ).toThrow(InputError);
  });

  it('refuses a zone the runtime does not know', () => {
    expect(() => utcOffsetSeconds('Asia/Atlantis', 0)).toThrow(/not an IANA zone/);
  });
});

describe('local time at a fixed offset', () => {
  it('places an instant on its Seoul weekday and second of the day', () => {
    // 2026-03-01 15:10 UTC is Monday 2026-03-02 00:10 in Seoul (a Sunday in UTC).
    const t = localTime(at('2026-03-01T15:10:00Z'), 32_400);
    expect(t.weekday).toBe(1);
    expect(t.secondOfDay).toBe(600);
    expect(localDate(t.day)).toBe('2026-03-02');
    expect(localTime(at('2026-03-01T14:59:59Z'), 32_400).weekday).toBe(0);
  });

  it('moves a minute of the week across the day and the week boundary', () => {
    // Monday 00:10 moved 30 minutes earlier is Sunday 23:40 (the day before, the week before).
    const monday0010 = 1 * 1440 + 10;
    expect(shiftMinuteOfWeek(monday0010, -30)).toBe(23 * 60 + 40);
    expect(describeMinuteOfWeek(shiftMinuteOfWeek(monday0010, -30))).toBe('sun 23:40');
    // Sunday 00:05 moved 10 minutes earlier is Saturday 23:55.
    expect(describeMinuteOfWeek(shiftMinuteOfWeek(5, -10))).toBe('sat 23:55');
    expect(describeMinuteOfWeek(shiftMinuteOfWeek(6 * 1440 + 23 * 60 + 50, 20))).toBe('sun 00:10');
  });

  it('reads a date and refuses what is not one', () => {
    expect(localDate(dayOfDate('2026-03-27'))).toBe('2026-03-27');
    expect(() => dayOfDate('2026-02-30')).toThrow(InputError);
    expect(() => dayOfDate('27.03.2026')).toThrow(InputError);
  });
});
