import { createAppIntl, type Locale, translator } from '../src/i18n/index.ts';

/** Both languages' formatters, failing the test on any formatting error (a missing value, a bad message). */
export function intlFor(locale: Locale) {
  const intl = createAppIntl(locale, (err) => {
    throw err;
  });
  return { intl, t: translator(intl) };
}

export const ko = intlFor('ko');
export const en = intlFor('en');
