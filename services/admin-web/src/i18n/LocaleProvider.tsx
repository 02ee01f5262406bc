import { Button, Menu, MenuItem } from '@mui/material';
import { createContext, type ReactNode, use, useCallback, useEffect, useMemo, useState } from 'react';
import { RawIntlProvider, useIntl } from 'react-intl';
import {
  createAppIntl,
  type Locale,
  LOCALES,
  readLocale,
  type Translate,
  translator,
  writeLocale,
} from './index.ts';

interface LocaleState {
  readonly locale: Locale;
  readonly setLocale: (locale: Locale) => void;
}

const LocaleContext = createContext<LocaleState | null>(null);

/**
 * The chosen language for the whole app: read from localStorage once (Korean by default), remembered on
 * every switch, and mirrored onto `<html lang>` (screen readers, fonts, the browser's own translation
 * offer) and the document title.
 */
export function LocaleProvider({ children }: { readonly children: ReactNode }) {
  const [locale, setLocaleState] = useState<Locale>(() => readLocale(window.localStorage));
  const intl = useMemo(() => createAppIntl(locale), [locale]);

  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = translator(intl)('app.documentTitle');
  }, [locale, intl]);

  const setLocale = useCallback((next: Locale) => {
    writeLocale(window.localStorage, next);
    setLocaleState(next);
  }, []);
  const state = useMemo(() => ({ locale, setLocale }), [locale, setLocale]);

  return (
    <LocaleContext value={state}>
      <RawIntlProvider value={intl}>{children}</RawIntlProvider>
    </LocaleContext>
  );
}

export function useLocale(): LocaleState {
  const state = use(LocaleContext);
  if (state === null) throw new Error('useLocale outside LocaleProvider');
  return state;
}

/** `t(id, values)` for the current language. */
export function useT(): Translate {
  const intl = useIntl();
  return useMemo(() => translator(intl), [intl]);
}

/**
 * The language menu in the app bar. Each language is named in itself (한국어, English), so someone who
 * cannot read the current one still finds theirs.
 */
export function LanguageSwitch() {
  const { locale, setLocale } = useLocale();
  const t = useT();
  const [anchor, setAnchor] = useState<HTMLElement | null>(null);
  return (
    <>
      <Button
        color="inherit"
        onClick={(e) => setAnchor(e.currentTarget)}
        aria-label={`${t('app.language')}: ${t(`locale.${locale}`)}`}
        aria-haspopup="menu"
        aria-expanded={anchor !== null}
        data-testid="locale-switch"
        data-locale={locale}
        sx={{ minWidth: 0, whiteSpace: 'nowrap' }}
      >
        <span lang={locale}>{t(`locale.${locale}`)}</span>
      </Button>
      <Menu anchorEl={anchor} open={anchor !== null} onClose={() => setAnchor(null)}>
        {LOCALES.map((l) => (
          <MenuItem
            key={l}
            lang={l}
            selected={l === locale}
            onClick={() => {
              setAnchor(null);
              setLocale(l);
            }}
            data-testid={`locale-option-${l}`}
          >
            {t(`locale.${l}`)}
          </MenuItem>
        ))}
      </Menu>
    </>
  );
}
