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
import { type ApiClient, ApiError, describeApiError } from '../api/client.ts';
import { BUSY_DURATION_PRESETS, busyMinutesLeft, parseBusyDuration } from '../domain/busy.ts';
import { conflictRows, type SettingsValues } from '../domain/diff.ts';
import { formatTime } from '../domain/format.ts';
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

type Status =
  { kind: 'idle' } | { kind: 'saving' } | { kind: 'saved'; at: string } | { kind: 'error'; message: string };

const valuesOf = (s: StoreSettingsBody | StoreSettingsPutInput): SettingsValues => ({
  autoPrediction: s.autoPrediction,
  manualPrepMinutes: s.manualPrepMinutes,
  manualDeliveryMinutes: s.manualDeliveryMinutes,
  minShownMinutes: s.minShownMinutes,
  maxShownMinutes: s.maxShownMinutes,
  busy: s.busy,
});

/** The API's messages are lower-case clauses ("must not be negative"); under a field they start a sentence. */
const sentence = (message: string): string => message.charAt(0).toUpperCase() + message.slice(1);

export function SettingsCard({ api, storeId, settings, onChanged, onAuthError }: SettingsCardProps) {
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
    if (status.kind === 'saved' || status.kind === 'error') setStatus({ kind: 'idle' });
  }

  async function save(from: StoreSettingsBody, next: SettingsFormState) {
    const built = buildPutBody(next, new Date());
    if (!built.ok) {
      setErrors(built.errors);
      setStatus({ kind: 'error', message: 'Fix the highlighted fields, then save again.' });
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
        setStatus({ kind: 'error', message: 'The server did not accept some values; see the fields.' });
        return;
      }
      setStatus({ kind: 'error', message: describeApiError(err) });
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
      helperText={errors[key] === undefined ? help : sentence(errors[key])}
      fullWidth
      slotProps={{
        htmlInput: { inputMode: 'numeric', 'data-testid': `field-${key}` },
        input: { endAdornment: <InputAdornment position="end">min</InputAdornment> },
      }}
    />
  );

  const busyLeft = form.busyKeepUntil === null ? 0 : busyMinutesLeft(form.busyKeepUntil, new Date());
  const durationOptions: { value: BusyDuration; label: string }[] = [
    ...(form.busyKeepUntil !== null && busyLeft > 0
      ? [{ value: 'keep' as const, label: `Keep: until ${formatTime(form.busyKeepUntil)}` }]
      : []),
    ...BUSY_DURATION_PRESETS.map((m) => ({ value: `${m}` as const, label: `${m} min` })),
    { value: 'custom', label: 'Custom' },
  ];
  const customDuration = form.busyDuration === 'custom' ? parseBusyDuration(form.busyCustomMinutes) : null;

  return (
    <Card component="section" aria-labelledby="settings-title">
      <CardContent>
        <Stack component="form" spacing={2.5} onSubmit={submit} noValidate data-testid="settings-form">
          <Box>
            <Typography variant="h6" component="h2" id="settings-title">
              Delivery time settings
            </Typography>
            <Typography variant="body2" color="text.secondary">
              What customers are told before they order.
            </Typography>
          </Box>

          <Box>
            <FormControlLabel
              control={
                <Switch
                  checked={form.autoPrediction}
                  onChange={(e) => edit({ autoPrediction: e.target.checked })}
                  slotProps={{ input: { 'aria-label': 'Automatic prediction' } }}
                  data-testid="field-autoPrediction"
                />
              }
              label="Automatic prediction"
            />
            <Typography variant="body2" color="text.secondary">
              {form.autoPrediction
                ? 'Customers see the model’s estimate for their address, within the limits below.'
                : 'Customers see your preparation time plus your delivery time.'}
            </Typography>
          </Box>

          <Stack direction="row" spacing={{ xs: 1.5, sm: 2 }}>
            {minutesField('manualPrepMinutes', 'Preparation', 'Your kitchen time')}
            {minutesField('manualDeliveryMinutes', 'Delivery', 'Rider time to a typical address')}
          </Stack>
          {form.autoPrediction && (
            <Typography variant="caption" color="text.secondary" sx={{ mt: -1 }}>
              Manual times are also the fallback if predictions are unavailable.
            </Typography>
          )}

          <Stack direction="row" spacing={{ xs: 1.5, sm: 2 }}>
            {minutesField('minShownMinutes', 'Minimum shown', 'Empty: no minimum')}
            {minutesField('maxShownMinutes', 'Maximum shown', 'Empty: no maximum')}
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
              label="Busy mode"
            />
            <Typography variant="body2" color="text.secondary">
              Adds extra minutes for a while during a rush, then switches itself off.
            </Typography>
            <Collapse in={form.busyEnabled} unmountOnExit>
              <Stack spacing={2} sx={{ mt: 2 }}>
                <TextField
                  label="Extra minutes"
                  value={form.busyExtraMinutes}
                  onChange={(e) => edit({ busyExtraMinutes: e.target.value })}
                  error={errors['busy.extraMinutes'] !== undefined}
                  helperText={
                    errors['busy.extraMinutes'] ?? `Added to every estimate (1–${SETTINGS_MAX_MINUTES})`
                  }
                  slotProps={{
                    htmlInput: { inputMode: 'numeric', 'data-testid': 'busy-extra' },
                    input: { endAdornment: <InputAdornment position="end">min</InputAdornment> },
                  }}
                />
                <Box>
                  <Typography variant="body2" id="busy-duration-label" sx={{ mb: 1 }}>
                    For how long
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
                    label="Duration"
                    value={form.busyCustomMinutes}
                    onChange={(e) => edit({ busyCustomMinutes: e.target.value })}
                    error={errors['busy.until'] !== undefined}
                    helperText={
                      (errors['busy.until'] !== undefined ? sentence(errors['busy.until']) : undefined) ??
                      (customDuration?.ok
                        ? `Ends about ${formatTime(new Date(Date.now() + customDuration.minutes * 60_000))}`
                        : 'Minutes from when you save')
                    }
                    slotProps={{
                      htmlInput: { inputMode: 'numeric', 'data-testid': 'busy-custom' },
                      input: { endAdornment: <InputAdornment position="end">min</InputAdornment> },
                    }}
                  />
                )}
                {form.busyDuration !== 'custom' && errors['busy.until'] !== undefined && (
                  <Typography variant="caption" color="error" data-testid="busy-until-error">
                    {sentence(errors['busy.until'])}
                  </Typography>
                )}
              </Stack>
            </Collapse>
          </Box>

          {errors[''] !== undefined && <Alert severity="error">{sentence(errors[''])}</Alert>}
          {status.kind === 'saved' && (
            <Alert severity="success" data-testid="save-success">
              Saved at {formatTime(status.at)}. Customers see the new times from now on.
            </Alert>
          )}
          {status.kind === 'error' && (
            <Alert severity="error" data-testid="save-error">
              {status.message}
            </Alert>
          )}

          <Stack direction="row" spacing={1} sx={{ justifyContent: 'flex-end' }}>
            <Button onClick={reset} disabled={!dirty || saving} data-testid="settings-reset">
              Undo changes
            </Button>
            <Button type="submit" variant="contained" disabled={!dirty || saving} data-testid="settings-save">
              {saving ? 'Saving…' : 'Save'}
            </Button>
          </Stack>
        </Stack>
      </CardContent>

      {conflict !== null && (
        <ConflictDialog
          rows={conflictRows(valuesOf(base), valuesOf(conflict.body), valuesOf(conflict.current))}
          onRetry={retryOnCurrent}
          onDiscard={discardMine}
        />
      )}
    </Card>
  );
}
