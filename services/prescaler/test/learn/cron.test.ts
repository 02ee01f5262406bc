import { describe, expect, it } from 'vitest';
import { cronMatches, parseCron, weekdayField } from '../../src/learn/cron.ts';

/** A local wall-clock time as cronMatches takes it (UTC fields hold the local time). */
const local = (iso: string) => new Date(`${iso}Z`);

describe('cron expressions as the CronJob controller reads them', () => {
  it('fires the chart default at 10:40 every day and at no other minute', () => {
    const c = parseCron('40 10 * * *');
    expect(cronMatches(c, local('2026-03-02T10:40'))).toBe(true);
    expect(cronMatches(c, local('2026-03-08T10:40'))).toBe(true);
    expect(cronMatches(c, local('2026-03-02T10:41'))).toBe(false);
    expect(cronMatches(c, local('2026-03-02T11:40'))).toBe(false);
  });

  it('reads day-of-week lists and ranges, 7 and names for Sunday', () => {
    const c = parseCron('30 10 * * 0-2,5,6');
    // 2026-03-01 is a Sunday.
    const days = [1, 2, 3, 4, 5, 6, 7].filter((d) => cronMatches(c, local(`2026-03-0${d}T10:30`)));
    expect(days).toEqual([1, 2, 3, 6, 7]);
    expect([...parseCron('0 0 * * 7').weekdays]).toEqual([0]);
    expect([...parseCron('0 0 * * MON-FRI').weekdays].sort()).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('*/20 * * * *').minutes]).toEqual([0, 20, 40]);
    expect([...parseCron('5/20 * * * *').minutes]).toEqual([5, 25, 45]);
  });

  it('fires on either restricted day field, and on both when one is *', () => {
    const either = parseCron('0 0 13 * 5');
    expect(cronMatches(either, local('2026-03-13T00:00'))).toBe(true); // Friday the 13th
    expect(cronMatches(either, local('2026-03-06T00:00'))).toBe(true); // a Friday
    expect(cronMatches(either, local('2026-04-13T00:00'))).toBe(true); // a Monday, the 13th
    expect(cronMatches(either, local('2026-03-07T00:00'))).toBe(false);
    const both = parseCron('0 0 * 3 5');
    expect(cronMatches(both, local('2026-03-06T00:00'))).toBe(true);
    expect(cronMatches(both, local('2026-04-03T00:00'))).toBe(false);
  });

  it.each([
    ['four fields', '0 10 * *'],
    ['minute 60', '60 10 * * *'],
    ['a backwards range', '0 10 * * 5-1'],
    ['a step of 0', '*/0 * * * *'],
    ['a word', '0 ten * * *'],
  ])('refuses %s', (_why, text) => {
    expect(() => parseCron(text)).toThrow();
  });
});

describe('weekdayField', () => {
  it.each([
    [[0, 1, 2, 3, 4, 5, 6], '*'],
    [[5, 4, 3, 2, 1], '1-5'],
    [[0, 6], '0,6'],
    [[0, 1, 2, 5, 6], '0-2,5,6'],
    [[1, 2], '1,2'],
    [[3], '3'],
  ])('%j -> %s', (days, field) => {
    expect(weekdayField(days)).toBe(field);
    // What it writes reads back as the same days.
    expect([...parseCron(`0 0 * * ${field}`).weekdays].sort()).toEqual([...new Set(days)].sort());
  });
});
