/**
 * Why a settings field was refused, as a kind the UI words in the owner's language (i18n/text.ts).
 *
 * The contract's schemas and rules (StoreSettingsPut, settingsPutRules) report a field's problem as an
 * English sentence, and the API's 400 `details` carry only `{ path, message }`: no code per problem. So
 * the kind is read from those sentences here, in one place, by the phrasing the contract builds them
 * from (`<what> must be whole minutes`, `... at most <n> minutes`); test/field-issues.test.ts runs the
 * contract's own schemas so a reworded message fails a test instead of showing English to a Korean
 * owner. Anything unrecognised keeps the server's words (`other`).
 */

export type FieldIssue =
  | { readonly kind: 'notNumber' }
  | { readonly kind: 'notWhole' }
  | { readonly kind: 'negative' }
  | { readonly kind: 'atMost'; readonly minutes: number }
  | { readonly kind: 'atLeast'; readonly minutes: number }
  | { readonly kind: 'minAboveMax' }
  | { readonly kind: 'busyEndPast' }
  | { readonly kind: 'busyTooLong'; readonly hours: number }
  | { readonly kind: 'busyDurationRequired' }
  | { readonly kind: 'other'; readonly message: string };

const PATTERNS: readonly [RegExp, (m: RegExpExecArray) => FieldIssue][] = [
  [/ must be a number of minutes$/, () => ({ kind: 'notNumber' })],
  [/ must be whole minutes$/, () => ({ kind: 'notWhole' })],
  [/ must not be negative$/, () => ({ kind: 'negative' })],
  [/ must be at most (\d+) minutes?$/, (m) => ({ kind: 'atMost', minutes: Number(m[1]) })],
  [/ must be at least (\d+) minutes?$/, (m) => ({ kind: 'atLeast', minutes: Number(m[1]) })],
  [/^minimum shown time must not exceed the maximum$/, () => ({ kind: 'minAboveMax' })],
  [/^busy until must be in the future$/, () => ({ kind: 'busyEndPast' })],
  [/^busy mode lasts at most (\d+) hours?$/, (m) => ({ kind: 'busyTooLong', hours: Number(m[1]) })],
];

/** The kind of a contract message (client-side schema issue or a 400 detail from the server). */
export function issueFromMessage(message: string): FieldIssue {
  for (const [pattern, issue] of PATTERNS) {
    const m = pattern.exec(message);
    if (m !== null) return issue(m);
  }
  return { kind: 'other', message };
}
