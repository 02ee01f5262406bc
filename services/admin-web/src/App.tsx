import type { MeResponse } from '@eta/contracts';
import { Alert, AppBar, Box, Button, Container, Stack, Toolbar, Typography } from '@mui/material';
import { useCallback, useMemo, useState } from 'react';
import { type ApiClient, ApiError, createApiClient, describeApiError } from './api/client.ts';
import { createTokenStore, type TokenStore } from './auth/session.ts';
import { SignIn } from './components/SignIn.tsx';
import { StorePage } from './components/StorePage.tsx';
import { StorePicker } from './components/StorePicker.tsx';
import { useLoad } from './hooks.ts';

const STORE_KEY = 'admin-web.storeId';

/** The store to open: the remembered one if still allowed, else an owner's only (or first) store. */
function initialStore(me: MeResponse, remembered: number | null): number | null {
  if (me.role === 'operator') return remembered;
  if (remembered !== null && me.storeIds.includes(remembered)) return remembered;
  return me.storeIds[0] ?? null;
}

export function App() {
  const tokens: TokenStore = useMemo(() => createTokenStore(window.sessionStorage), []);
  const [token, setToken] = useState(() => tokens.get());
  const [notice, setNotice] = useState<string | null>(null);
  const api = useMemo(() => createApiClient({ getToken: () => tokens.get() }), [tokens]);

  const signOut = useCallback(
    (why: string | null) => {
      tokens.clear();
      window.sessionStorage.removeItem(STORE_KEY);
      setToken(null);
      setNotice(why);
    },
    [tokens],
  );

  // Any call that meets a 401 ends the session: the token expired or was revoked, and every further call
  // would fail the same way.
  const onAuthError = useCallback(
    (err: unknown): boolean => {
      if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') {
        queueMicrotask(() => signOut('Your sign-in expired. Sign in again to continue.'));
        return true;
      }
      return false;
    },
    [signOut],
  );

  if (token === null) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(t) => {
          tokens.set(t);
          setNotice(null);
          setToken(t);
        }}
      />
    );
  }
  return <SignedIn key={token} api={api} onSignOut={() => signOut(null)} onAuthError={onAuthError} />;
}

interface SignedInProps {
  readonly api: ApiClient;
  readonly onSignOut: () => void;
  readonly onAuthError: (err: unknown) => boolean;
}

function SignedIn({ api, onSignOut, onAuthError }: SignedInProps) {
  const me = useLoad('me', (signal) => api.me({ signal }));
  const [picked, setPicked] = useState<number | null>(() => {
    const s = window.sessionStorage.getItem(STORE_KEY);
    return s === null ? null : Number(s);
  });
  const storeId = me.data === undefined ? null : initialStore(me.data, picked);

  function pick(id: number) {
    window.sessionStorage.setItem(STORE_KEY, String(id));
    setPicked(id);
  }

  const meError = me.state === 'error' && !onAuthError(me.error) ? describeApiError(me.error) : null;

  return (
    <Box sx={{ minHeight: '100vh', bgcolor: 'background.default' }}>
      <AppBar position="sticky" elevation={0}>
        <Toolbar sx={{ gap: 1 }}>
          <Typography variant="h6" component="div" sx={{ flexGrow: 1, whiteSpace: 'nowrap' }}>
            Delivery times
          </Typography>
          {me.data !== undefined && (
            <Typography
              variant="body2"
              data-testid="me-subject"
              sx={{
                display: { xs: 'none', sm: 'block' },
                opacity: 0.85,
                maxWidth: 240,
                overflow: 'hidden',
                textOverflow: 'ellipsis',
              }}
            >
              {me.data.subject} · {me.data.role}
            </Typography>
          )}
          <Button color="inherit" onClick={onSignOut} data-testid="signout">
            Sign out
          </Button>
        </Toolbar>
      </AppBar>
      <Container component="main" maxWidth="lg" sx={{ py: 2, px: { xs: 1.5, sm: 3 } }}>
        <Stack spacing={2}>
          {meError !== null && <Alert severity="error">{meError}</Alert>}
          {me.data !== undefined && (me.data.role === 'operator' || me.data.storeIds.length > 1) && (
            <Box sx={{ display: 'flex', justifyContent: 'flex-end' }}>
              <StorePicker me={me.data} storeId={storeId} onPick={pick} />
            </Box>
          )}
          {me.data !== undefined && me.data.role === 'owner' && me.data.storeIds.length === 0 && (
            <Alert severity="info">This sign-in has no stores yet.</Alert>
          )}
          {storeId !== null && (
            <StorePage key={storeId} api={api} storeId={storeId} onAuthError={onAuthError} />
          )}
        </Stack>
      </Container>
    </Box>
  );
}
