import { describe, expect, it } from 'vitest';
import { busyMinutesLeft, busyUntil, parseBusyDuration } from '../src/domain/busy.ts';
import { NOW } from './fixtures.ts';

describe('busy duration', () => {
  it('computes the end from now as RFC 3339', () => {
    expect(busyUntil(NOW, 15)).toBe('2026-03-03T05:45:00.000Z');
    expect(busyUntil(NOW, 720)).toBe('2026-03-03T17:30:00.000Z');
  });

  it('counts the minutes left up, and none once over', () => {
    expect(busyMinutesLeft('2026-03-03T05:30:01Z', NOW)).toBe(1);
    expect(busyMinutesLeft('2026-03-03T06:00:00Z', NOW)).toBe(30);
    expect(busyMinutesLeft('2026-03-03T05:30:00Z', NOW)).toBe(0);
  });

  it('takes whole minutes from 1 to 12 hours', () => {
    expect(parseBusyDuration(' 45 ')).toEqual({ ok: true, minutes: 45 });
    expect(parseBusyDuration('720')).toEqual({ ok: true, minutes: 720 });
    expect(parseBusyDuration('721')).toEqual({ ok: false, issue: { kind: 'busyTooLong', hours: 12 } });
    expect(parseBusyDuration('0')).toEqual({ ok: false, issue: { kind: 'atLeast', minutes: 1 } });
    expect(parseBusyDuration('1.5')).toEqual({ ok: false, issue: { kind: 'notWhole' } });
    expect(parseBusyDuration('')).toEqual({ ok: false, issue: { kind: 'notNumber' } });
    expect(parseBusyDuration('soon')).toEqual({ ok: false, issue: { kind: 'notNumber' } });
  });
});
