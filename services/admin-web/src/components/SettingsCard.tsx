import { SETTINGS_MAX_MINUTES, type StoreSettingsBody, type StoreSettingsPutInput } from '@eta/contracts';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  Chip,
  Collapse,
  FormControlLabel,
  InputAdornment,
  Stack,
  Switch,
  TextField,
  Typography,
} from '@mui/material';
import { type FormEvent, useEffect, useState } from 'react';
import { useIntl } from 'react-intl';
import { type ApiClient, ApiError } from '../api/client.ts';
import { BUSY_DURATION_PRESETS, busyMinutesLeft, parseBusyDuration } from '../domain/busy.ts';
import { conflictRows, type SettingsValues } from '../domain/diff.ts';
import { formatMinutes, formatTime } from '../i18n/format.ts';
import type { MessageId } from '../i18n/index.ts';
import { useT } from '../i18n/LocaleProvider.tsx';
import { describeApiError, describeFieldIssue } from '../i18n/text.ts';
import {
  type BusyDuration,
  buildPutBody,
  type FieldErrors,
  fieldErrorsFromDetails,
  formFromSettings,
  isFormChanged,
  rebaseForm,
  type SettingsFormState,
} from '../domain/settings-form.ts';
import { ConflictDialog } from './ConflictDialog.tsx';

export interface SettingsCardProps {
  readonly api: ApiClient;
  readonly storeId: number;
  /** The server's settings as last loaded. */
  readonly settings: StoreSettingsBody;
  /** A save (or a conflict) changed the server's settings: preview and history reload. */
  readonly onChanged: (settings: StoreSettingsBody) => void;
  readonly onAuthError: (err: unknown) => boolean;
}

interface Conflict {
  readonly current: StoreSettingsBody;
  readonly mine: SettingsFormState;
  readonly body: StoreSettingsPutInput;
}

/** Kept as data (a message id, or the error itself) so a language switch re-words what is showing. */
type Status =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; at: string }
  | { kind: 'error'; message: MessageId }
  | { kind: 'failed'; error: unknown };

const valuesOf = (s: StoreSettingsBody | StoreSettingsPutInput): SettingsValues => ({
  autoPrediction: s.autoPrediction,
  manualPrepMinutes: s.manualPrepMinutes,
  manualDeliveryMinutes: s.manualDeliveryMinutes,
  minShownMinutes: s.minShownMinutes,
  maxShownMinutes: s.maxShownMinutes,
  busy: s.busy,
});

export function SettingsCard({ api, storeId, settings, onChanged, onAuthError }: SettingsCardProps) {
  const intl = useIntl();
  const t = useT();
  // `base` is the version this edit started from: its number goes out as If-Match.
  const [base, setBase] = useState(settings);
  const [form, setForm] = useState(() => formFromSettings(settings, new Date()));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const [conflict, setConflict] = useState<Conflict | null>(null);

  const baseForm = formFromSettings(base, new Date());
  const dirty = isFormChanged(baseForm, form);

  // A newer server copy arriving from outside (a reload) replaces the form only when nothing is being edited.
  useEffect(() => {
    if (settings.version !== base.version && !dirty) {
      setBase(settings);
      setForm(formFromSettings(settings, new Date()));
    }
    // Keyed on the server copy alone: a keystroke must never pull the server's values back in.
  }, [settings]);

  function edit(patch: Partial<SettingsFormState>) {
    setForm((f) => ({ ...f, ...patch }));
    if (status.kind === 'saved' || status.kind === 'error' || status.kind === 'failed') {
      setStatus({ kind: 'idle' });
    }
  }

  async function save(from: StoreSettingsBody, next: SettingsFormState) {
    const built = buildPutBody(next, new Date());
    if (!built.ok) {
      setErrors(built.errors);
      setStatus({ kind: 'error', message: 'settings.fixFields' });
      return;
    }
    setErrors({});
    setStatus({ kind: 'saving' });
    try {
      const outcome = await api.saveSettings(storeId, from.version, built.body);
      if (outcome.kind === 'conflict') {
        setConflict({ current: outcome.current, mine: next, body: built.body });
        setStatus({ kind: 'idle' });
        return;
      }
      setBase(outcome.settings);
      setForm(formFromSettings(outcome.settings, new Date()));
      setStatus({ kind: 'saved', at: outcome.settings.updatedAt });
      onChanged(outcome.settings);
    } catch (err) {
      if (onAuthError(err)) return;
      if (err instanceof ApiError && err.code === 'VALIDATION_ERROR' && err.details.length > 0) {
        setErrors(fieldErrorsFromDetails(err.details));
        setStatus({ kind: 'error', message: 'settings.serverRefused' });
        return;
      }
      setStatus({ kind: 'failed', error: err });
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void save(base, form);
  }

  function retryOnCurrent() {
    if (conflict === null) return;
    const now = new Date();
    const rebased = rebaseForm(
      formFromSettings(base, now),
      conflict.mine,
      formFromSettings(conflict.current, now),
    );
    setConflict(null);
    setBase(conflict.current);
    setForm(rebased);
    onChanged(conflict.current);
    void save(conflict.current, rebased);
  }

  function discardMine() {
    if (conflict === null) return;
    setConflict(null);
    setBase(conflict.current);
    setForm(formFromSettings(conflict.current, new Date()));
    setErrors({});
    setStatus({ kind: 'idle' });
    onChanged(conflict.current);
  }

  function reset() {
    setForm(baseForm);
    setErrors({});
    setStatus({ kind: 'idle' });
  }

  const saving = status.kind === 'saving';
  const minutesField = (
    key: 'manualPrepMinutes' | 'manualDeliveryMinutes' | 'minShownMinutes' | 'maxShownMinutes',
    label: string,
    help: string,
  ) => (
    <TextField
      label={label}
      value={form[key]}
      onChange={(e) => edit({ [key]: e.target.value })}
      error={errors[key] !== undefined}
      helperText={errors[key] === undefined ? help : describeFieldIssue(intl, errors[key])}
      fullWidth
      slotProps={{
        htmlInput: { inputMode: 'numeric', 'data-testid': `field-${key}` },
        input: { endAdornment: <InputAdornment position="end">{t('settings.minutesUnit')}</InputAdornment> },
      }}
    />
  );

  const busyLeft = form.busyKeepUntil === null ? 0 : busyMinutesLeft(form.busyKeepUntil, new Date());
  const durationOptions: { value: BusyDuration; label: string }[] = [
    ...(form.busyKeepUntil !== null && busyLeft > 0
      ? [
          {
            value: 'keep' as const,
            label: t('settings.busyKeep', { time: formatTime(intl, form.busyKeepUntil) }),
          },
        ]
      : []),
    ...BUSY_DURATION_PRESETS.map((m) => ({ value: `${m}` as const, label: formatMinutes(intl, m) })),
    { value: 'custom', label: t('settings.busyCustom') },
  ];
  const customDuration = form.busyDuration === 'custom' ? parseBusyDuration(form.busyCustomMinutes) : null;

  return (
    <Card component="section" aria-labelledby="settings-title">
      <CardContent>
        <Stack component="form" spacing={2.5} onSubmit={submit} noValidate data-testid="settings-form">
          <Box>
            <Typography variant="h6" component="h2" id="settings-title">
              {t('settings.title')}
            </Typography>
            <Typography variant="body2" color="text.secondary">
              {t('settings.subtitle')}
            </Typography>
          </Box>

          <Box>
            <FormControlLabel
              control={
                <Switch
                  checked={form.autoPrediction}
                  onChange={(e) => edit({ autoPrediction: e.target.checked })}
                  slotProps={{ input: { 'aria-label': t('settings.auto') } }}
                  data-testid="field-autoPrediction"
                />
              }
              label={t('settings.auto')}
            />
            <Typography variant="body2" color="text.secondary">
              {form.autoPrediction ? t('settings.autoOn') : t('settings.autoOff')}
            </Typography>
          </Box>

          <Stack direction="row" spacing={{ xs: 1.5, sm: 2 }}>
            {minutesField('manualPrepMinutes', t('settings.prep'), t('settings.prepHelp'))}
            {minutesField('manualDeliveryMinutes', t('settings.delivery'), t('settings.deliveryHelp'))}
          </Stack>
          {form.autoPrediction && (
            <Typography variant="caption" color="text.secondary" sx={{ mt: -1 }}>
              {t('settings.manualFallback')}
            </Typography>
          )}

          <Stack direction="row" spacing={{ xs: 1.5, sm: 2 }}>
            {minutesField('minShownMinutes', t('settings.min'), t('settings.minHelp'))}
            {minutesField('maxShownMinutes', t('settings.max'), t('settings.maxHelp'))}
          </Stack>

          <Box
            sx={{
              border: 1,
              borderColor: form.busyEnabled ? 'warning.main' : 'divider',
              borderRadius: 1,
              p: 2,
            }}
          >
            <FormControlLabel
              control={
                <Switch
                  checked={form.busyEnabled}
                  color="warning"
                  onChange={(e) =>
                    edit({
                      busyEnabled: e.target.checked,
                      // Switching on without a running busy mode to keep starts from a fresh duration.
                      ...(e.target.checked && form.busyDuration === 'keep' && form.busyKeepUntil === null
                        ? { busyDuration: '30' as BusyDuration }
                        : {}),
                    })
                  }
                  data-testid="busy-switch"
                />
              }
              label={t('settings.busy')}
            />
            <Typography variant="body2" color="text.secondary">
              {t('settings.busyHelp')}
            </Typography>
            <Collapse in={form.busyEnabled} unmountOnExit>
              <Stack spacing={2} sx={{ mt: 2 }}>
                <TextField
                  label={t('settings.busyExtra')}
                  value={form.busyExtraMinutes}
                  onChange={(e) => edit({ busyExtraMinutes: e.target.value })}
                  error={errors['busy.extraMinutes'] !== undefined}
                  helperText={
                    errors['busy.extraMinutes'] !== undefined
                      ? describeFieldIssue(intl, errors['busy.extraMinutes'])
                      : t('settings.busyExtraHelp', {
                          min: formatMinutes(intl, 1),
                          max: formatMinutes(intl, SETTINGS_MAX_MINUTES),
                        })
                  }
                  slotProps={{
                    htmlInput: { inputMode: 'numeric', 'data-testid': 'busy-extra' },
                    input: {
                      endAdornment: (
                        <InputAdornment position="end">{t('settings.minutesUnit')}</InputAdornment>
                      ),
                    },
                  }}
                />
                <Box>
                  <Typography variant="body2" id="busy-duration-label" sx={{ mb: 1 }}>
                    {t('settings.busyFor')}
                  </Typography>
                  {/* Chips rather than a button group: they wrap cleanly onto a second row on a phone. */}
                  <Stack
                    direction="row"
                    role="radiogroup"
                    aria-labelledby="busy-duration-label"
                    sx={{ flexWrap: 'wrap', gap: 1 }}
                  >
                    {durationOptions.map(({ value, label }) => {
                      const selected = form.busyDuration === value;
                      return (
                        <Chip
                          key={value}
                          label={label}
                          role="radio"
                          aria-checked={selected}
                          clickable
                          color={selected ? 'warning' : 'default'}
                          variant={selected ? 'filled' : 'outlined'}
                          onClick={() => edit({ busyDuration: value })}
                          data-testid={`busy-duration-${value}`}
                        />
                      );
                    })}
                  </Stack>
                </Box>
                {form.busyDuration === 'custom' && (
                  <TextField
                    label={t('settings.busyDuration')}
                    value={form.busyCustomMinutes}
                    onChange={(e) => edit({ busyCustomMinutes: e.target.value })}
                    error={errors['busy.until'] !== undefined}
                    helperText={
                      errors['busy.until'] !== undefined
                        ? describeFieldIssue(intl, errors['busy.until'])
                        : customDuration?.ok
                          ? t('settings.busyEndsAbout', {
                              time: formatTime(intl, Date.now() + customDuration.minutes * 60_000),
                            })
                          : t('settings.busyFromSave')
                    }
                    slotProps={{
                      htmlInput: { inputMode: 'numeric', 'data-testid': 'busy-custom' },
                      input: {
                        endAdornment: (
                          <InputAdornment position="end">{t('settings.minutesUnit')}</InputAdornment>
                        ),
                      },
                    }}
                  />
                )}
                {form.busyDuration !== 'custom' && errors['busy.until'] !== undefined && (
                  <Typography variant="caption" color="error" data-testid="busy-until-error">
                    {describeFieldIssue(intl, errors['busy.until'])}
                  </Typography>
                )}
              </Stack>
            </Collapse>
          </Box>

          {errors[''] !== undefined && <Alert severity="error">{describeFieldIssue(intl, errors[''])}</Alert>}
          {status.kind === 'saved' && (
            <Alert severity="success" data-testid="save-success">
              {t('settings.saved', { time: formatTime(intl, status.at) })}
            </Alert>
          )}
          {(status.kind === 'error' || status.kind === 'failed') && (
            <Alert severity="error" data-testid="save-error">
              {status.kind === 'error' ? t(status.message) : describeApiError(intl, status.error)}
            </Alert>
          )}

          <Stack direction="row" spacing={1} sx={{ justifyContent: 'flex-end' }}>
            <Button onClick={reset} disabled={!dirty || saving} data-testid="settings-reset">
              {t('settings.undo')}
            </Button>
            <Button type="submit" variant="contained" disabled={!dirty || saving} data-testid="settings-save">
              {saving ? t('settings.saving') : t('settings.save')}
            </Button>
          </Stack>
        </Stack>
      </CardContent>

      {conflict !== null && (
        <ConflictDialog
          rows={conflictRows(valuesOf(base), valuesOf(conflict.body), valuesOf(conflict.current))}
          mine={valuesOf(conflict.body)}
          current={valuesOf(conflict.current)}
          onRetry={retryOnCurrent}
          onDiscard={discardMine}
        />
      )}
    </Card>
  );
}
