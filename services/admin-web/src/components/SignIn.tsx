import type { MeResponse } from '@eta/contracts';
import { Alert, Box, Button, Card, CardContent, Stack, TextField, Typography } from '@mui/material';
import { type FormEvent, useState } from 'react';
import { FormattedMessage, useIntl } from 'react-intl';
import { ApiError, createApiClient } from '../api/client.ts';
import { normalizePastedToken } from '../auth/session.ts';
import type { MessageId } from '../i18n/index.ts';
import { useT } from '../i18n/LocaleProvider.tsx';
import { describeApiError, describeTokenProblem } from '../i18n/text.ts';

export interface SignInProps {
  /** Why the owner is here again (an expired token), shown above the form. */
  readonly notice: MessageId | null;
  readonly onSignedIn: (token: string, me: MeResponse) => void;
}

/** What went wrong, kept as data so a language switch re-words it. */
type SignInError =
  { kind: 'token'; problem: 'empty' | 'malformed' } | { kind: 'rejected' } | { kind: 'api'; error: unknown };

/**
 * Development sign-in: paste a token. The token is checked against GET /v1/me before it is kept, so a
 * wrong paste fails here with a reason instead of on the first page as a vague error.
 */
export function SignIn({ notice, onSignedIn }: SignInProps) {
  const intl = useIntl();
  const t = useT();
  const [text, setText] = useState('');
  const [error, setError] = useState<SignInError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const pasted = normalizePastedToken(text);
    if (!pasted.ok) {
      setError({ kind: 'token', problem: pasted.problem });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const me = await createApiClient({ getToken: () => pasted.token }).me();
      onSignedIn(pasted.token, me);
    } catch (err) {
      setError(
        err instanceof ApiError && err.code === 'UNAUTHENTICATED'
          ? { kind: 'rejected' }
          : { kind: 'api', error: err },
      );
    } finally {
      setBusy(false);
    }
  }

  const errorText =
    error === null
      ? null
      : error.kind === 'token'
        ? describeTokenProblem(intl, error.problem)
        : error.kind === 'rejected'
          ? t('signin.rejected')
          : describeApiError(intl, error.error);

  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', px: 2, py: { xs: 3, sm: 8 } }}>
      <Card sx={{ width: '100%', maxWidth: 480 }} component="main">
        <CardContent>
          <Stack component="form" spacing={2} onSubmit={submit} noValidate data-testid="signin-form">
            <Typography variant="h5" component="h1">
              {t('signin.title')}
            </Typography>
            {notice !== null && (
              <Alert severity="info" data-testid="signin-notice">
                {t(notice)}
              </Alert>
            )}
            <Typography variant="body2" color="text.secondary">
              <FormattedMessage
                id="signin.intro"
                values={{
                  command: (
                    <Box component="code" sx={{ fontFamily: 'monospace' }}>
                      pnpm dev:token --store &lt;id&gt;
                    </Box>
                  ),
                }}
              />
            </Typography>
            <TextField
              label={t('signin.tokenLabel')}
              value={text}
              onChange={(e) => setText(e.target.value)}
              multiline
              minRows={3}
              maxRows={8}
              autoFocus
              error={error !== null}
              helperText={t('signin.tokenHelp')}
              slotProps={{
                htmlInput: { 'data-testid': 'signin-token', spellCheck: false, autoComplete: 'off' },
              }}
            />
            {errorText !== null && (
              <Alert severity="error" data-testid="signin-error">
                {errorText}
              </Alert>
            )}
            <Button
              type="submit"
              variant="contained"
              size="large"
              disabled={busy}
              data-testid="signin-submit"
            >
              {busy ? t('signin.checking') : t('signin.submit')}
            </Button>
          </Stack>
        </CardContent>
      </Card>
    </Box>
  );
}
