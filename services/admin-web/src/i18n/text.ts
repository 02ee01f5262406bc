import type { OrderType } from '@eta/contracts';
import type { IntlShape } from 'react-intl';
import { ApiError } from '../api/client.ts';
import type { SettingsKey, SettingsValues } from '../domain/diff.ts';
import type { FieldIssue } from '../domain/field-issues.ts';
import type { PreviewModel } from '../domain/preview.ts';
import type { TokenProblem } from '../auth/session.ts';
import { formatHour, formatMinutes, formatTime } from './format.ts';
import { type MessageId, translator } from './index.ts';

/**
 * The app's structured outcomes (error codes, field issues, settings values, the preview's shape) in the
 * chosen language. Pure: an IntlShape in, text out, so each is unit-tested in both languages.
 */

/** Codes whose message needs nothing from the error itself. */
const PLAIN_ERRORS: Readonly<Record<string, MessageId>> = {
  UNAUTHENTICATED: 'error.UNAUTHENTICATED',
  FORBIDDEN: 'error.FORBIDDEN',
  STORE_NOT_FOUND: 'error.STORE_NOT_FOUND',
  TIMEOUT: 'error.TIMEOUT',
  NETWORK_ERROR: 'error.NETWORK_ERROR',
  BAD_RESPONSE: 'error.BAD_RESPONSE',
};

/**
 * What to tell the owner about a failed call, chosen by its code (the server's, or the client's own
 * NETWORK_ERROR / TIMEOUT / BAD_RESPONSE): actionable, in their language, never a stack.
 */
export function describeApiError(intl: IntlShape, err: unknown): string {
  const t = translator(intl);
  if (!(err instanceof ApiError)) return t('error.generic');
  const plain = Object.hasOwn(PLAIN_ERRORS, err.code) ? PLAIN_ERRORS[err.code] : undefined;
  if (plain !== undefined) return t(plain);
  switch (err.code) {
    case 'RATE_LIMITED':
      return err.retryAfterSeconds === null
        ? t('error.RATE_LIMITED')
        : t('error.RATE_LIMITED.retry', { seconds: err.retryAfterSeconds });
    case 'VALIDATION_ERROR':
      return t('error.VALIDATION_ERROR', { message: err.message });
    default:
      return err.status >= 500 || err.status === 0
        ? t('error.server')
        : t('error.request', { status: err.status, message: err.message });
  }
}

export function describeTokenProblem(intl: IntlShape, problem: TokenProblem): string {
  return translator(intl)(problem === 'empty' ? 'signin.empty' : 'signin.malformed');
}

/** A refused field's message, shown under the field (so it does not repeat the field's name). */
export function describeFieldIssue(intl: IntlShape, issue: FieldIssue): string {
  const t = translator(intl);
  switch (issue.kind) {
    case 'atMost':
      return t('issue.atMost', { max: formatMinutes(intl, issue.minutes) });
    case 'atLeast':
      return t('issue.atLeast', { min: formatMinutes(intl, issue.minutes) });
    case 'busyTooLong':
      return t('issue.busyTooLong', { hours: issue.hours });
    case 'other':
      return t('issue.other', { message: issue.message });
    default:
      return t(`issue.${issue.kind}`);
  }
}

const SETTING_LABELS: Readonly<Record<SettingsKey, MessageId>> = {
  autoPrediction: 'field.autoPrediction',
  manualPrepMinutes: 'field.manualPrepMinutes',
  manualDeliveryMinutes: 'field.manualDeliveryMinutes',
  minShownMinutes: 'field.minShownMinutes',
  maxShownMinutes: 'field.maxShownMinutes',
  busy: 'field.busy',
};

export function settingLabel(intl: IntlShape, key: SettingsKey): string {
  return translator(intl)(SETTING_LABELS[key]);
}

/** One setting's value as the history and the conflict view show it (`45분`, `최대 제한 없음`, ...). */
export function formatSettingValue(intl: IntlShape, key: SettingsKey, values: SettingsValues): string {
  const t = translator(intl);
  switch (key) {
    case 'autoPrediction':
      return t(values.autoPrediction ? 'value.automatic' : 'value.manual');
    case 'manualPrepMinutes':
      return formatMinutes(intl, values.manualPrepMinutes);
    case 'manualDeliveryMinutes':
      return formatMinutes(intl, values.manualDeliveryMinutes);
    case 'minShownMinutes':
      return values.minShownMinutes === null
        ? t('value.noMinimum')
        : formatMinutes(intl, values.minShownMinutes);
    case 'maxShownMinutes':
      return values.maxShownMinutes === null
        ? t('value.noMaximum')
        : formatMinutes(intl, values.maxShownMinutes);
    default:
      return values.busy === null
        ? t('value.off')
        : t('value.busy', {
            minutes: formatMinutes(intl, values.busy.extraMinutes),
            time: formatTime(intl, values.busy.until),
          });
  }
}

const CATEGORY_LABELS: Readonly<Record<OrderType, MessageId>> = {
  snack: 'store.category.snack',
  meal: 'store.category.meal',
  drinks: 'store.category.drinks',
  buffet: 'store.category.buffet',
};

export function categoryLabel(intl: IntlShape, category: OrderType): string {
  return translator(intl)(CATEGORY_LABELS[category]);
}

/** The preview in one sentence (also the chart's accessible name). */
export function previewSummary(intl: IntlShape, m: PreviewModel): string {
  const t = translator(intl);
  if (m.fastest === null || m.slowest === null) return t('preview.none');
  if (m.fastest.minutes === m.slowest.minutes) {
    return t('preview.flat', { minutes: formatMinutes(intl, m.fastest.minutes) });
  }
  return t('preview.span', {
    fastest: formatMinutes(intl, m.fastest.minutes),
    quietHour: formatHour(intl, m.fastest.hour),
    slowest: formatMinutes(intl, m.slowest.minutes),
    busyHour: formatHour(intl, m.slowest.hour),
  });
}

const SOURCE_NOTES: Partial<Record<PreviewModel['sources'][number], MessageId>> = {
  manual: 'preview.note.manual',
  rough: 'preview.note.rough',
  fallback: 'preview.note.fallback',
};

/** Sources other than the model that customers see some hours, each explained. */
export function previewSourceNotes(intl: IntlShape, m: PreviewModel): string[] {
  const t = translator(intl);
  return m.sources.flatMap((s) => {
    const id = SOURCE_NOTES[s];
    return id === undefined ? [] : [t(id)];
  });
}
