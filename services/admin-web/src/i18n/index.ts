import { createIntl, createIntlCache, type IntlShape } from 'react-intl';
import { en } from './en.ts';
import { ko, type MessageId } from './ko.ts';

/**
 * The app's languages. Korean is the default (the owners are in Seoul); English is beside it for staff
 * and owners who prefer it. Every date and time is shown in Asia/Seoul whatever the device's zone: an
 * operator abroad must see the same "until 2:30 PM" the owner sees.
 */

export type { MessageId };

export const LOCALES = ['ko', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'ko';
export const STORE_TIME_ZONE = 'Asia/Seoul';

export const MESSAGES: Readonly<Record<Locale, Readonly<Record<MessageId, string>>>> = { ko, en };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** Where the chosen language is remembered (localStorage: it outlives the tab, unlike the token). */
export const LOCALE_KEY = 'admin-web.locale';

/** The remembered language, or Korean when none (or a value from another version) is stored. */
export function readLocale(storage: Pick<Storage, 'getItem'>): Locale {
  try {
    const stored = storage.getItem(LOCALE_KEY);
    return isLocale(stored) ? stored : DEFAULT_LOCALE;
  } catch {
    // Storage can throw (a privacy mode, a full quota): the default is the answer then.
    return DEFAULT_LOCALE;
  }
}

export function writeLocale(storage: Pick<Storage, 'setItem'>, locale: Locale): void {
  try {
    storage.setItem(LOCALE_KEY, locale);
  } catch {
    // Not remembered, still switched for this page: nothing to tell the owner.
  }
}

const cache = createIntlCache();

/**
 * The formatter for one language: messages, dates (always Asia/Seoul), numbers. The same object the React
 * tree gets through IntlProvider, so pure code and tests format exactly as the page does.
 */
export function createAppIntl(locale: Locale, onError?: (err: Error) => void): IntlShape {
  return createIntl(
    {
      locale,
      defaultLocale: DEFAULT_LOCALE,
      timeZone: STORE_TIME_ZONE,
      messages: MESSAGES[locale],
      ...(onError === undefined ? {} : { onError }),
    },
    cache,
  );
}

/** Values a message takes: already formatted text (minutes, times) or plain numbers. */
export type MessageValues = Readonly<Record<string, string | number>>;

/** A message as plain text, by id: `t('settings.save')`. Ids are checked by tsc against ko.ts. */
export type Translate = (id: MessageId, values?: MessageValues) => string;

export function translator(intl: IntlShape): Translate {
  return (id, values) => String(intl.formatMessage({ id }, values));
}
