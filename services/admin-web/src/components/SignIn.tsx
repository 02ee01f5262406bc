import type { MeResponse } from '@eta/contracts';
import { Alert, Box, Button, Card, CardContent, Stack, TextField, Typography } from '@mui/material';
import { type FormEvent, useState } from 'react';
import { ApiError, createApiClient, describeApiError } from '../api/client.ts';
import { normalizePastedToken } from '../auth/session.ts';

export interface SignInProps {
  /** Why the owner is here again (an expired token), shown above the form. */
  readonly notice: string | null;
  readonly onSignedIn: (token: string, me: MeResponse) => void;
}

/**
 * Development sign-in: paste a token. The token is checked against GET /v1/me before it is kept, so a
 * wrong paste fails here with a reason instead of on the first page as a vague error.
 */
export function SignIn({ notice, onSignedIn }: SignInProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const pasted = normalizePastedToken(text);
    if (!pasted.ok) {
      setError(pasted.message);
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
          ? 'This token was not accepted: it is expired, malformed or not signed for this environment.'
          : describeApiError(err),
      );
    } finally {
      setBusy(false);
    }
  }

  return (
    <Box sx={{ display: 'flex', justifyContent: 'center', px: 2, py: { xs: 3, sm: 8 } }}>
      <Card sx={{ width: '100%', maxWidth: 480 }} component="main">
        <CardContent>
          <Stack component="form" spacing={2} onSubmit={submit} noValidate data-testid="signin-form">
            <Typography variant="h5" component="h1">
              Sign in
            </Typography>
            {notice !== null && (
              <Alert severity="info" data-testid="signin-notice">
                {notice}
              </Alert>
            )}
            <Typography variant="body2" color="text.secondary">
              Paste your access token. In development, create one with{' '}
              <Box component="code" sx={{ fontFamily: 'monospace' }}>
                pnpm dev:token --store &lt;id&gt;
              </Box>
              .
            </Typography>
            <TextField
              label="Access token"
              value={text}
              onChange={(e) => setText(e.target.value)}
              multiline
              minRows={3}
              maxRows={8}
              autoFocus
              error={error !== null}
              helperText="Kept only in this browser tab until you sign out or close it."
              slotProps={{
                htmlInput: { 'data-testid': 'signin-token', spellCheck: false, autoComplete: 'off' },
              }}
            />
            {error !== null && (
              <Alert severity="error" data-testid="signin-error">
                {error}
              </Alert>
            )}
            <Button
              type="submit"
              variant="contained"
              size="large"
              disabled={busy}
              data-testid="signin-submit"
            >
              {busy ? 'Checking…' : 'Sign in'}
            </Button>
          </Stack>
        </CardContent>
      </Card>
    </Box>
  );
}
