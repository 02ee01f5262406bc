/**
 * The signed-in token. sessionStorage, not localStorage: it dies with the tab, so a shared shop tablet
 * does not stay signed in for the next person, and it is never sent anywhere by the browser on its own
 * (unlike a cookie), so there is no CSRF surface.
 */

export interface TokenStore {
  get(): string | null;
  set(token: string): void;
  clear(): void;
}

/** The subset of Storage used, so tests pass a Map-backed fake. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export const TOKEN_KEY = 'admin-web.token';

export function createTokenStore(storage: KeyValueStorage, key: string = TOKEN_KEY): TokenStore {
  return {
    get: () => storage.getItem(key),
    set: (token) => storage.setItem(key, token),
    clear: () => storage.removeItem(key),
  };
}

/** Three base64url segments: the shape of a compact JWS. Anything else cannot be a token we issued. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Why a paste cannot be a token (the sign-in form words it in the owner's language). */
export type TokenProblem = 'empty' | 'malformed';

/**
 * A pasted token cleaned up, or why it cannot be one. People paste `Bearer …` from curl examples and pick
 * up line breaks from terminals; both are forgiven, anything else is refused before a round trip.
 */
export function normalizePastedToken(
  input: string,
): { ok: true; token: string } | { ok: false; problem: TokenProblem } {
  const token = input.replace(/\s+/g, '').replace(/^Bearer/i, '');
  if (token === '') return { ok: false, problem: 'empty' };
  if (!JWT_SHAPE.test(token)) return { ok: false, problem: 'malformed' };
  return { ok: true, token };
}
