import { settingsPutRules, StoreSettingsPut } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { issueFromMessage } from '../src/domain/field-issues.ts';
import { describeFieldIssue } from '../src/i18n/text.ts';
import { NOW } from './fixtures.ts';
import { en, ko } from './intl.ts';

const put = {
  autoPrediction: true,
  manualPrepMinutes: 15,
  manualDeliveryMinutes: 20,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
};

/** The messages the contract itself produces for a body (its schema first, then its clock rules). */
function contractMessages(body: Record<string, unknown>): string[] {
  const parsed = StoreSettingsPut.safeParse({ ...put, ...body });
  if (!parsed.success) return parsed.error.issues.map((i) => i.message);
  return settingsPutRules(parsed.data, NOW).map((r) => r.message);
}

/**
 * The contract reports refusals as English sentences only (no code per detail); admin-web reads their
 * kind. These run the contract's own schemas, so a reworded contract message fails here rather than
 * reaching a Korean owner in English.
 */
describe('issueFromMessage on the contract’s own messages', () => {
  const cases: [Record<string, unknown>, unknown][] = [
    [{ manualPrepMinutes: 'x' }, { kind: 'notNumber' }],
    [{ manualDeliveryMinutes: 12.5 }, { kind: 'notWhole' }],
    [{ minShownMinutes: -1 }, { kind: 'negative' }],
    [{ maxShownMinutes: 241 }, { kind: 'atMost', minutes: 240 }],
    [{ busy: { extraMinutes: 0, until: '2026-03-03T06:00:00Z' } }, { kind: 'atLeast', minutes: 1 }],
    [{ minShownMinutes: 40, maxShownMinutes: 30 }, { kind: 'minAboveMax' }],
    [{ busy: { extraMinutes: 5, until: '2026-03-03T05:00:00Z' } }, { kind: 'busyEndPast' }],
    [{ busy: { extraMinutes: 5, until: '2026-03-03T18:00:00Z' } }, { kind: 'busyTooLong', hours: 12 }],
  ];
  it.each(cases)('%j → %j', (body, issue) => {
    const messages = contractMessages(body);
    expect(messages).toHaveLength(1);
    expect(issueFromMessage(messages[0] ?? '')).toEqual(issue);
  });

  it('keeps a message it does not know as the server’s words', () => {
    expect(issueFromMessage('something new')).toEqual({ kind: 'other', message: 'something new' });
  });
});

describe('describeFieldIssue', () => {
  it('words each kind in Korean and English', () => {
    expect(describeFieldIssue(ko.intl, { kind: 'atMost', minutes: 240 })).toBe('240분 이하로 입력하세요.');
    expect(describeFieldIssue(en.intl, { kind: 'atMost', minutes: 240 })).toBe('At most 240 min.');
    expect(describeFieldIssue(ko.intl, { kind: 'minAboveMax' })).toBe(
      '최소 표시 시간은 최대 표시 시간보다 길 수 없습니다.',
    );
    expect(describeFieldIssue(en.intl, { kind: 'busyTooLong', hours: 12 })).toBe(
      'Busy mode lasts at most 12 hours.',
    );
    expect(describeFieldIssue(ko.intl, { kind: 'other', message: 'odd' })).toBe(
      '값을 확인해 주세요. (서버 메시지: odd)',
    );
  });
});
