import {
  type ErrorDetail,
  settingsPutRules,
  type StoreSettingsBody,
  StoreSettingsPut,
  type StoreSettingsPutInput,
} from '@eta/contracts';
import { type BUSY_DURATION_PRESETS, busyUntil, parseBusyDuration } from './busy.ts';
import { type FieldIssue, issueFromMessage } from './field-issues.ts';

/**
 * The settings form's state and its translation to the PUT body. Text fields hold what was typed (a
 * half-typed "1" or an empty box is a state, not a number); validation is the contract's StoreSettingsPut
 * plus its clock rules, so the browser refuses exactly what the API refuses; each refusal becomes a
 * FieldIssue, which the UI words in the owner's language.
 */

export type BusyDuration = 'keep' | `${(typeof BUSY_DURATION_PRESETS)[number]}` | 'custom';

export interface SettingsFormState {
  readonly autoPrediction: boolean;
  readonly manualPrepMinutes: string;
  readonly manualDeliveryMinutes: string;
  /** '' = no minimum. */
  readonly minShownMinutes: string;
  /** '' = no maximum. */
  readonly maxShownMinutes: string;
  readonly busyEnabled: boolean;
  readonly busyExtraMinutes: string;
  readonly busyDuration: BusyDuration;
  readonly busyCustomMinutes: string;
  /** The end of the busy mode that was running when the form was loaded: what `keep` keeps. */
  readonly busyKeepUntil: string | null;
}

/**
 * Errors keyed by the body path the API reports (`details[].path` without `body.`), so server and
 * browser errors land on the same field: `manualPrepMinutes`, `busy.extraMinutes`, `busy.until`; `''`
 * for the body as a whole.
 */
export type FieldErrors = Readonly<Record<string, FieldIssue>>;

/** Defaults offered when busy mode is switched on: a typical rush surcharge for a typical rush. */
const DEFAULT_BUSY_EXTRA = '10';
const DEFAULT_BUSY_DURATION: BusyDuration = '30';

export function formFromSettings(s: StoreSettingsBody, now: Date): SettingsFormState {
  // An expired busy mode is shown as off: it no longer affects customers, and `keep` would send a past end.
  const active = s.busy !== null && Date.parse(s.busy.until) > now.getTime() ? s.busy : null;
  return {
    autoPrediction: s.autoPrediction,
    manualPrepMinutes: String(s.manualPrepMinutes),
    manualDeliveryMinutes: String(s.manualDeliveryMinutes),
    minShownMinutes: s.minShownMinutes === null ? '' : String(s.minShownMinutes),
    maxShownMinutes: s.maxShownMinutes === null ? '' : String(s.maxShownMinutes),
    busyEnabled: active !== null,
    busyExtraMinutes: active === null ? DEFAULT_BUSY_EXTRA : String(active.extraMinutes),
    busyDuration: active === null ? DEFAULT_BUSY_DURATION : 'keep',
    busyCustomMinutes: '',
    busyKeepUntil: active === null ? null : active.until,
  };
}

/**
 * A typed number, or the text itself when it is not a plain decimal: the schema then rejects it with the
 * API's message ("must be a number of minutes"). `Number('')` would be 0 and `Number(' 1e1 ')` 10, both
 * silently wrong.
 */
function toNumber(text: string): number | string {
  const trimmed = text.trim();
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function toOptionalNumber(text: string): number | string | null {
  return text.trim() === '' ? null : toNumber(text);
}

export type BuildResult =
  | { readonly ok: true; readonly body: StoreSettingsPutInput }
  | { readonly ok: false; readonly errors: FieldErrors };

/** The PUT body for the form at `now` (when busy mode's duration starts), or the errors to show. */
export function buildPutBody(form: SettingsFormState, now: Date): BuildResult {
  const errors: Record<string, FieldIssue> = {};

  let until: string | undefined;
  if (form.busyEnabled) {
    if (form.busyDuration === 'keep') {
      until = form.busyKeepUntil ?? undefined;
      if (until === undefined) errors['busy.until'] = { kind: 'busyDurationRequired' };
    } else if (form.busyDuration === 'custom') {
      const d = parseBusyDuration(form.busyCustomMinutes);
      if (d.ok) until = busyUntil(now, d.minutes);
      else errors['busy.until'] = d.issue;
    } else {
      until = busyUntil(now, Number(form.busyDuration));
    }
  }

  const input = {
    autoPrediction: form.autoPrediction,
    manualPrepMinutes: toNumber(form.manualPrepMinutes),
    manualDeliveryMinutes: toNumber(form.manualDeliveryMinutes),
    minShownMinutes: toOptionalNumber(form.minShownMinutes),
    maxShownMinutes: toOptionalNumber(form.maxShownMinutes),
    busy: form.busyEnabled
      ? { extraMinutes: toNumber(form.busyExtraMinutes), until: until ?? now.toISOString() }
      : null,
  };

  const parsed = StoreSettingsPut.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      // The first message per field is the one to fix first; the schema lists type before range.
      if (!(path in errors)) errors[path] = issueFromMessage(issue.message);
    }
  } else {
    for (const rule of settingsPutRules(parsed.data, now)) {
      if (!(rule.path in errors)) errors[rule.path] = issueFromMessage(rule.message);
    }
  }

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  // Not parsed.data: that holds a Date; the wire format is the input shape.
  return { ok: true, body: input as StoreSettingsPutInput };
}

/** A 400's details as form errors: `body.busy.until` -> `busy.until`; other request parts under `''`. */
export function fieldErrorsFromDetails(details: readonly ErrorDetail[]): FieldErrors {
  const errors: Record<string, FieldIssue> = {};
  for (const d of details) {
    const inBody = d.path.startsWith('body.');
    const key = inBody ? d.path.slice('body.'.length) : '';
    const issue: FieldIssue =
      inBody || d.path === 'body'
        ? issueFromMessage(d.message)
        : { kind: 'other', message: `${d.path}: ${d.message}` };
    if (!(key in errors)) errors[key] = issue;
  }
  return errors;
}

type FieldGroup = (form: SettingsFormState) => readonly unknown[];

/** The form's independent edits: busy mode's fields move together (one decision: how busy, how long). */
const GROUPS: readonly FieldGroup[] = [
  (f) => [f.autoPrediction],
  (f) => [f.manualPrepMinutes.trim()],
  (f) => [f.manualDeliveryMinutes.trim()],
  (f) => [f.minShownMinutes.trim()],
  (f) => [f.maxShownMinutes.trim()],
  (f) =>
    f.busyEnabled
      ? [true, f.busyExtraMinutes.trim(), f.busyDuration, f.busyCustomMinutes.trim(), f.busyKeepUntil]
      : [false],
];

const sameGroup = (g: FieldGroup, a: SettingsFormState, b: SettingsFormState): boolean => {
  const x = g(a);
  const y = g(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

export function isFormChanged(base: SettingsFormState, form: SettingsFormState): boolean {
  return GROUPS.some((g) => !sameGroup(g, base, form));
}

/**
 * Re-applies the owner's edits onto a newer version after a 412: every field the owner changed (relative
 * to the version they started from) keeps their value, every other field takes the server's current one.
 * Their edits win where both changed, because retrying is the owner's explicit choice after seeing the diff.
 */
export function rebaseForm(
  base: SettingsFormState,
  mine: SettingsFormState,
  theirs: SettingsFormState,
): SettingsFormState {
  const pick = <K extends keyof SettingsFormState>(changed: boolean, keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, (changed ? mine : theirs)[k]])) as Pick<SettingsFormState, K>;
  const [auto, prep, delivery, min, max, busy] = GROUPS.map((g) => !sameGroup(g, base, mine));
  return {
    ...pick(auto ?? false, ['autoPrediction']),
    ...pick(prep ?? false, ['manualPrepMinutes']),
    ...pick(delivery ?? false, ['manualDeliveryMinutes']),
    ...pick(min ?? false, ['minShownMinutes']),
    ...pick(max ?? false, ['maxShownMinutes']),
    ...pick(busy ?? false, [
      'busyEnabled',
      'busyExtraMinutes',
      'busyDuration',
      'busyCustomMinutes',
      'busyKeepUntil',
    ]),
  };
}
