import type { MeResponse } from '@eta/contracts';
import { Alert, AppBar, Box, Button, Container, Stack, Toolbar, Typography } from '@mui/material';
import { type ReactNode, useCallback, useMemo, useState } from 'react';
import { useIntl } from 'react-intl';
import { type ApiClient, ApiError, createApiClient } from './api/client.ts';
import { createTokenStore, type TokenStore } from './auth/session.ts';
import { SignIn } from './components/SignIn.tsx';
import { StorePage } from './components/StorePage.tsx';
import { StorePicker } from './components/StorePicker.tsx';
import { useLoad } from './hooks.ts';
import type { MessageId } from './i18n/index.ts';
import { LanguageSwitch, useT } from './i18n/LocaleProvider.tsx';
import { describeApiError } from './i18n/text.ts';

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
  // A message id rather than text: switching the language re-words it.
  const [notice, setNotice] = useState<MessageId | null>(null);
  const api = useMemo(() => createApiClient({ getToken: () => tokens.get() }), [tokens]);

  const signOut = useCallback(
    (why: MessageId | null) => {
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
        queueMicrotask(() => signOut('app.sessionExpired'));
        return true;
      }
      return false;
    },
    [signOut],
  );

  if (token === null) {
    return (
      <Shell bar={<LanguageSwitch />}>
        <SignIn
          notice={notice}
          onSignedIn={(t) => {
            tokens.set(t);
            setNotice(null);
            setToken(t);
          }}
        />
      </Shell>
    );
  }
  return <SignedIn key={token} api={api} onSignOut={() => signOut(null)} onAuthError={onAuthError} />;
}

/** The app bar (title, who is signed in, language, sign-out) above the page. */
function Shell({ children, bar }: { readonly children: ReactNode; readonly bar?: ReactNode }) {
  const t = useT();
  return (
    <Box sx={{ minHeight: '100vh', bgcolor: 'background.default' }}>
      <AppBar position="sticky" elevation={0}>
        <Toolbar sx={{ gap: 1 }}>
          <Typography variant="h6" component="div" noWrap sx={{ flexGrow: 1, minWidth: 0 }}>
            {t('app.title')}
          </Typography>
          {bar}
        </Toolbar>
      </AppBar>
      {children}
    </Box>
  );
}

interface SignedInProps {
  readonly api: ApiClient;
  readonly onSignOut: () => void;
  readonly onAuthError: (err: unknown) => boolean;
}

function SignedIn({ api, onSignOut, onAuthError }: SignedInProps) {
  const intl = useIntl();
  const t = useT();
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

  const meError = me.state === 'error' && !onAuthError(me.error) ? describeApiError(intl, me.error) : null;

  return (
    <Shell
      bar={
        <>
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
              {me.data.subject} · {t(`app.role.${me.data.role}`)}
            </Typography>
          )}
          <LanguageSwitch />
          <Button color="inherit" onClick={onSignOut} data-testid="signout" sx={{ whiteSpace: 'nowrap' }}>
            {t('app.signOut')}
          </Button>
        </>
      }
    >
      <Container component="main" maxWidth="lg" sx={{ py: 2, px: { xs: 1.5, sm: 3 } }}>
        <Stack spacing={2}>
          {meError !== null && <Alert severity="error">{meError}</Alert>}
          {me.data !== undefined && (me.data.role === 'operator' || me.data.storeIds.length > 1) && (
            <Box sx={{ display: 'flex', justifyContent: 'flex-end' }}>
              <StorePicker me={me.data} storeId={storeId} onPick={pick} />
            </Box>
          )}
          {me.data !== undefined && me.data.role === 'owner' && me.data.storeIds.length === 0 && (
            <Alert severity="info">{t('app.noStores')}</Alert>
          )}
          {storeId !== null && (
            <StorePage key={storeId} api={api} storeId={storeId} onAuthError={onAuthError} />
          )}
        </Stack>
      </Container>
    </Shell>
  );
}
