import { describe, expect, it } from 'vitest';
import { createTokenStore, normalizePastedToken, type KeyValueStorage } from '../src/auth/session.ts';

function memoryStorage(): KeyValueStorage {
  const m = new Map<string, string>();
  return {
    getItem: (k) => m.get(k) ?? null,
    setItem: (k, v) => void m.set(k, v),
    removeItem: (k) => void m.delete(k),
  };
}

describe('token store', () => {
  it('keeps the token until cleared', () => {
    const store = createTokenStore(memoryStorage());
    expect(store.get()).toBeNull();
    store.set('a.b.c');
    expect(store.get()).toBe('a.b.c');
    store.clear();
    expect(store.get()).toBeNull();
  });
});

describe('normalizePastedToken', () => {
  it('forgives a Bearer prefix and line breaks from a terminal', () => {
    expect(normalizePastedToken('  Bearer eyJh.eyJz\n.c2ln \n')).toEqual({
      ok: true,
      token: 'eyJh.eyJz.c2ln',
    });
  });

  it('refuses what cannot be a compact JWT before any request', () => {
    expect(normalizePastedToken('   ')).toEqual({ ok: false, problem: 'empty' });
    for (const bad of ['not-a-token', 'a.b.c.d', 'a.b+/.c']) {
      expect(normalizePastedToken(bad)).toEqual({ ok: false, problem: 'malformed' });
    }
  });
});
