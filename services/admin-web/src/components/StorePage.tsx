import type { StoreSettingsBody } from '@eta/contracts';
import { Alert, Box, Card, CardContent, Chip, Skeleton, Stack, Typography } from '@mui/material';
import { useCallback } from 'react';
import { useIntl } from 'react-intl';
import type { ApiClient } from '../api/client.ts';
import { useLoad } from '../hooks.ts';
import { categoryLabel, describeApiError } from '../i18n/text.ts';
import { AccuracyCard } from './AccuracyCard.tsx';
import { HistoryCard } from './HistoryCard.tsx';
import { PreviewCard } from './PreviewCard.tsx';
import { SettingsCard } from './SettingsCard.tsx';

export interface StorePageProps {
  readonly api: ApiClient;
  readonly storeId: number;
  /** True when the error was a lost sign-in and has been handled (back to the sign-in form). */
  readonly onAuthError: (err: unknown) => boolean;
}

/** One store: its settings form beside what customers would see, who changed what, and how accurate it was. */
export function StorePage({ api, storeId, onAuthError }: StorePageProps) {
  const intl = useIntl();
  const key = String(storeId);
  const store = useLoad(key, (signal) => api.store(storeId, { signal }));
  const settings = useLoad(key, (signal) => api.settings(storeId, { signal }));
  const preview = useLoad(key, (signal) => api.preview(storeId, undefined, { signal }));
  const history = useLoad(key, (signal) => api.history(storeId, { signal }));

  const errorText = (l: { state: string; error?: unknown }): string | null =>
    l.state === 'error' && !onAuthError(l.error) ? describeApiError(intl, l.error) : null;

  const { reload: reloadPreview } = preview;
  const { reload: reloadHistory } = history;
  const onChanged = useCallback(
    (_: StoreSettingsBody) => {
      reloadPreview();
      reloadHistory();
    },
    [reloadPreview, reloadHistory],
  );

  const storeError = errorText(store);
  const settingsError = errorText(settings);

  return (
    <Stack spacing={2}>
      <Card component="header">
        <CardContent sx={{ '&:last-child': { pb: 2 } }}>
          {store.data !== undefined ? (
            <Stack direction="row" spacing={1} sx={{ alignItems: 'center', flexWrap: 'wrap', rowGap: 1 }}>
              <Typography
                variant="h5"
                component="h1"
                data-testid="store-name"
                sx={{ overflowWrap: 'anywhere' }}
              >
                {store.data.name}
              </Typography>
              <Chip size="small" label={`#${store.data.id}`} />
              <Chip size="small" label={categoryLabel(intl, store.data.category)} />
              {store.data.region.name !== null && (
                <Chip size="small" variant="outlined" label={store.data.region.name} />
              )}
            </Stack>
          ) : storeError !== null ? (
            <Alert severity="error" data-testid="store-error">
              {storeError}
            </Alert>
          ) : (
            <Skeleton width="40%" height={36} />
          )}
        </CardContent>
      </Card>

      <Box
        sx={{
          display: 'grid',
          gap: 2,
          alignItems: 'start',
          // Form beside the preview from a tablet's width; one column on a phone, form first.
          gridTemplateColumns: { xs: 'minmax(0, 1fr)', md: 'minmax(0, 5fr) minmax(0, 7fr)' },
        }}
      >
        <Box>
          {settings.data !== undefined ? (
            <SettingsCard
              api={api}
              storeId={storeId}
              settings={settings.data}
              onChanged={onChanged}
              onAuthError={onAuthError}
            />
          ) : settingsError !== null ? (
            <Alert severity="error" data-testid="settings-error">
              {settingsError}
            </Alert>
          ) : (
            <Skeleton variant="rounded" height={480} />
          )}
        </Box>
        <Stack spacing={2}>
          <PreviewCard
            preview={preview.data}
            loading={preview.state === 'loading'}
            error={errorText(preview)}
          />
          <HistoryCard
            items={history.data?.items}
            loading={history.state === 'loading'}
            error={errorText(history)}
          />
        </Stack>
      </Box>

      <AccuracyCard api={api} storeId={storeId} onAuthError={onAuthError} />
    </Stack>
  );
}
