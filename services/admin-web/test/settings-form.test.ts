import { describe, expect, it } from 'vitest';
import {
  buildPutBody,
  fieldErrorsFromDetails,
  formFromSettings,
  isFormChanged,
  rebaseForm,
  type SettingsFormState,
} from '../src/domain/settings-form.ts';
import { NOW, settingsBody } from './fixtures.ts';

const form = (over: Partial<SettingsFormState> = {}): SettingsFormState => ({
  ...formFromSettings(settingsBody(), NOW),
  ...over,
});

const errorsOf = (f: SettingsFormState) => {
  const r = buildPutBody(f, NOW);
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.body)}`);
  return r.errors;
};

const bodyOf = (f: SettingsFormState) => {
  const r = buildPutBody(f, NOW);
  if (!r.ok) throw new Error(`expected a body, got ${JSON.stringify(r.errors)}`);
  return r.body;
};

describe('formFromSettings', () => {
  it('shows a running busy mode as kept until its end', () => {
    const f = formFromSettings(
      settingsBody({ busy: { extraMinutes: 15, until: '2026-03-03T06:00:00Z' } }),
      NOW,
    );
    expect(f).toMatchObject({
      busyEnabled: true,
      busyExtraMinutes: '15',
      busyDuration: 'keep',
      busyKeepUntil: '2026-03-03T06:00:00Z',
    });
  });

  it('shows an expired busy mode as off, so saving does not send a past end', () => {
    const f = formFromSettings(
      settingsBody({ busy: { extraMinutes: 15, until: '2026-03-03T05:00:00Z' } }),
      NOW,
    );
    expect(f).toMatchObject({ busyEnabled: false, busyKeepUntil: null });
    expect(bodyOf(f).busy).toBeNull();
  });

  it('shows absent clamps as empty boxes and saves them back as null', () => {
    const f = formFromSettings(settingsBody({ minShownMinutes: null, maxShownMinutes: 50 }), NOW);
    expect([f.minShownMinutes, f.maxShownMinutes]).toEqual(['', '50']);
    expect(bodyOf(f)).toMatchObject({ minShownMinutes: null, maxShownMinutes: 50 });
  });
});

describe('buildPutBody', () => {
  it('sends every editable field as numbers', () => {
    expect(
      bodyOf(
        form({
          autoPrediction: false,
          manualPrepMinutes: ' 12 ',
          minShownMinutes: '20',
          maxShownMinutes: '60',
        }),
      ),
    ).toEqual({
      autoPrediction: false,
      manualPrepMinutes: 12,
      manualDeliveryMinutes: 20,
      minShownMinutes: 20,
      maxShownMinutes: 60,
      busy: null,
    });
  });

  it('turns a busy duration into an end that far from the moment of saving', () => {
    expect(bodyOf(form({ busyEnabled: true, busyExtraMinutes: '10', busyDuration: '90' })).busy).toEqual({
      extraMinutes: 10,
      until: '2026-03-03T07:00:00.000Z',
    });
    expect(
      bodyOf(form({ busyEnabled: true, busyDuration: 'custom', busyCustomMinutes: '45' })).busy?.until,
    ).toBe('2026-03-03T06:15:00.000Z');
  });

  it('keeps a running busy mode’s end unchanged', () => {
    const running = formFromSettings(
      settingsBody({ busy: { extraMinutes: 15, until: '2026-03-03T06:00:00+09:00' } }),
      new Date('2026-03-02T20:00:00Z'),
    );
    expect(buildPutBody(running, new Date('2026-03-02T20:00:00Z'))).toMatchObject({
      ok: true,
      body: { busy: { extraMinutes: 15, until: '2026-03-03T06:00:00+09:00' } },
    });
  });

  it('refuses what the API refuses, each field with the kind of problem', () => {
    expect(errorsOf(form({ manualPrepMinutes: '' }))).toEqual({ manualPrepMinutes: { kind: 'notNumber' } });
    expect(errorsOf(form({ manualDeliveryMinutes: '12.5' }))).toEqual({
      manualDeliveryMinutes: { kind: 'notWhole' },
    });
    expect(errorsOf(form({ manualDeliveryMinutes: 'abc' }))).toEqual({
      manualDeliveryMinutes: { kind: 'notNumber' },
    });
    expect(errorsOf(form({ maxShownMinutes: '241' }))).toEqual({
      maxShownMinutes: { kind: 'atMost', minutes: 240 },
    });
    expect(errorsOf(form({ minShownMinutes: '-1' }))).toEqual({ minShownMinutes: { kind: 'negative' } });
  });

  it('refuses a minimum above the maximum on the minimum field', () => {
    expect(errorsOf(form({ minShownMinutes: '40', maxShownMinutes: '30' }))).toEqual({
      minShownMinutes: { kind: 'minAboveMax' },
    });
    expect(bodyOf(form({ minShownMinutes: '30', maxShownMinutes: '30' }))).toMatchObject({
      minShownMinutes: 30,
    });
  });

  it('checks busy mode: extra minutes, a custom duration, an end that already passed', () => {
    expect(errorsOf(form({ busyEnabled: true, busyExtraMinutes: '0' }))).toEqual({
      'busy.extraMinutes': { kind: 'atLeast', minutes: 1 },
    });
    expect(errorsOf(form({ busyEnabled: true, busyDuration: 'custom', busyCustomMinutes: '' }))).toEqual({
      'busy.until': { kind: 'notNumber' },
    });
    expect(errorsOf(form({ busyEnabled: true, busyDuration: 'custom', busyCustomMinutes: '721' }))).toEqual({
      'busy.until': { kind: 'busyTooLong', hours: 12 },
    });
    expect(errorsOf(form({ busyEnabled: true, busyDuration: 'keep', busyKeepUntil: null }))).toEqual({
      'busy.until': { kind: 'busyDurationRequired' },
    });
    // A form left open past the end of the busy mode it would keep.
    expect(
      errorsOf(form({ busyEnabled: true, busyDuration: 'keep', busyKeepUntil: '2026-03-03T05:29:00Z' })),
    ).toEqual({
      'busy.until': { kind: 'busyEndPast' },
    });
  });

  it('reports every bad field at once', () => {
    expect(
      Object.keys(
        errorsOf(
          form({ manualPrepMinutes: 'x', maxShownMinutes: '999', busyEnabled: true, busyExtraMinutes: '' }),
        ),
      ),
    ).toEqual(['manualPrepMinutes', 'maxShownMinutes', 'busy.extraMinutes']);
  });
});

describe('fieldErrorsFromDetails', () => {
  it('puts body paths on their fields and the rest on the form as a whole', () => {
    expect(
      fieldErrorsFromDetails([
        { path: 'body.busy.until', message: 'busy until must be in the future' },
        { path: 'body.minShownMinutes', message: 'minimum shown time must not exceed the maximum' },
        { path: 'headers.if-match', message: 'expected a strong entity tag' },
      ]),
    ).toEqual({
      'busy.until': { kind: 'busyEndPast' },
      minShownMinutes: { kind: 'minAboveMax' },
      '': { kind: 'other', message: 'headers.if-match: expected a strong entity tag' },
    });
  });
});

describe('isFormChanged and rebaseForm', () => {
  const base = form();

  it('sees no change in whitespace or in hidden busy fields while busy mode is off', () => {
    expect(isFormChanged(base, form({ manualPrepMinutes: '15 ', busyDuration: '60' }))).toBe(false);
    expect(isFormChanged(base, form({ manualPrepMinutes: '16' }))).toBe(true);
  });

  it('keeps my edits and takes everything else from the newer version', () => {
    const mine = form({ manualPrepMinutes: '25', busyEnabled: true, busyDuration: '30' });
    const theirs = formFromSettings(
      settingsBody({ version: 4, manualDeliveryMinutes: 35, maxShownMinutes: 60, manualPrepMinutes: 18 }),
      NOW,
    );

    const rebased = rebaseForm(base, mine, theirs);

    expect(rebased).toMatchObject({
      manualPrepMinutes: '25', // both changed: mine wins, the owner chose to apply theirs over it
      manualDeliveryMinutes: '35',
      maxShownMinutes: '60',
      busyEnabled: true,
      busyDuration: '30',
    });
  });

  it('takes their busy mode when I did not touch mine', () => {
    const mine = form({ autoPrediction: false });
    const theirs = formFromSettings(
      settingsBody({ busy: { extraMinutes: 20, until: '2026-03-03T06:30:00Z' } }),
      NOW,
    );
    expect(rebaseForm(base, mine, theirs)).toMatchObject({
      autoPrediction: false,
      busyEnabled: true,
      busyExtraMinutes: '20',
      busyDuration: 'keep',
      busyKeepUntil: '2026-03-03T06:30:00Z',
    });
  });
});
