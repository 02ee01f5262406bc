import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LOCALE,
  LOCALE_KEY,
  LOCALES,
  MESSAGES,
  type MessageId,
  readLocale,
  writeLocale,
} from '../src/i18n/index.ts';
import { intlFor } from './intl.ts';

/** Every argument a message uses, with its kind (`plural` needs a number, a plain one any text). */
function argumentsOf(elements: readonly MessageFormatElement[], into = new Map<string, string>()) {
  for (const el of elements) {
    if (el.type === TYPE.argument) into.set(el.value, 'text');
    if (el.type === TYPE.number || el.type === TYPE.date || el.type === TYPE.time)
      into.set(el.value, 'number');
    if (el.type === TYPE.plural || el.type === TYPE.select) {
      into.set(el.value, el.type === TYPE.plural ? 'number' : 'text');
      for (const option of Object.values(el.options)) argumentsOf(option.value, into);
    }
    if (el.type === TYPE.tag) argumentsOf(el.children, into);
  }
  return into;
}

const ids = Object.keys(MESSAGES.ko) as MessageId[];

describe('message catalogues', () => {
  it('have the same ids in Korean and English, none empty', () => {
    expect(Object.keys(MESSAGES.en).sort()).toEqual([...ids].sort());
    for (const locale of LOCALES) {
      for (const id of ids) expect(MESSAGES[locale][id].trim(), `${locale} ${id}`).not.toBe('');
    }
  });

  it('parse as ICU messages and take the same arguments in both languages', () => {
    for (const id of ids) {
      const koArgs = argumentsOf(parse(MESSAGES.ko[id]));
      const enArgs = argumentsOf(parse(MESSAGES.en[id]));
      expect([...enArgs.entries()].sort(), id).toEqual([...koArgs.entries()].sort());
    }
  });

  it('format every message in both languages without an error', () => {
    for (const locale of LOCALES) {
      const { t } = intlFor(locale);
      for (const id of ids) {
        const values = Object.fromEntries(
          [...argumentsOf(parse(MESSAGES[locale][id]))].map(([name, kind]) => [
            name,
            kind === 'number' ? 2 : 'x',
          ]),
        );
        expect(t(id, values), `${locale} ${id}`).not.toContain('{');
      }
    }
  });

  it('are really translated: the Korean catalogue is Korean, the English one is not', () => {
    const hangul = /[\uac00-\ud7a3]/;
    // Language names are each written in themselves, in both catalogues.
    const untranslated = new Set<MessageId>(['locale.ko', 'locale.en']);
    for (const id of ids) {
      if (untranslated.has(id)) continue;
      expect(MESSAGES.ko[id], id).toMatch(hangul);
      expect(MESSAGES.en[id], id).not.toMatch(hangul);
    }
    expect(MESSAGES.ko['locale.ko']).toBe(MESSAGES.en['locale.ko']);
  });
});

describe('the remembered language', () => {
  const storage = (initial: Record<string, string> = {}) => {
    const m = new Map(Object.entries(initial));
    return {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, v),
      map: m,
    };
  };

  it('is Korean until another is chosen, then that one', () => {
    const s = storage();
    expect(DEFAULT_LOCALE).toBe('ko');
    expect(readLocale(s)).toBe('ko');
    writeLocale(s, 'en');
    expect(s.map.get(LOCALE_KEY)).toBe('en');
    expect(readLocale(s)).toBe('en');
  });

  it('falls back to Korean for a value it does not know, or a storage that throws', () => {
    expect(readLocale(storage({ [LOCALE_KEY]: 'fr' }))).toBe('ko');
    const broken = {
      getItem: (): string | null => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
    };
    expect(readLocale(broken)).toBe('ko');
    expect(() => writeLocale(broken, 'en')).not.toThrow();
  });
});
