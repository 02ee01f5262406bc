import type { Page } from 'playwright-core';
import type { Locale } from '../src/i18n/index.ts';

/**
 * What both browser tests share: choosing the language the way an owner does (the app bar's menu), and
 * comparing page text with catalogue text.
 */

export const BROWSER_LOCALES: readonly { readonly locale: Locale }[] = [{ locale: 'ko' }, { locale: 'en' }];

/**
 * Picks `locale` in the app bar's language menu unless the page already shows it, and waits until
 * `<html lang>` says so. A fresh browser profile starts in Korean.
 */
export async function chooseLanguage(page: Page, locale: Locale): Promise<void> {
  const current = await page.getByTestId('locale-switch').getAttribute('data-locale');
  if (current !== locale) {
    await page.getByTestId('locale-switch').click();
    await page.getByTestId(`locale-option-${locale}`).click();
  }
  await page.locator(`html[lang="${locale}"]`).waitFor({ state: 'attached' });
  await page.locator(`[data-testid="locale-switch"][data-locale="${locale}"]`).waitFor();
}

/** Text with every run of white space as one space: Intl may put a no-break space before AM/PM. */
export const norm = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

/** Screenshots mid-transition show half-faded dialogs; wait for every animation to end. */
export const settled = (page: Page) =>
  page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)).then(() => undefined));

/** True when nothing sticks out sideways: the phone layout must never need horizontal scrolling. */
export const overflowsSideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
