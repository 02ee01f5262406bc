import type { PreviewResponse } from '@eta/contracts';
import { Alert, Box, Card, CardContent, LinearProgress, Stack, Typography, useTheme } from '@mui/material';
import { lazy, Suspense, useMemo } from 'react';
import { useIntl } from 'react-intl';
import { previewChartOption } from '../charts/preview.ts';
import { previewModel } from '../domain/preview.ts';
import { useT } from '../i18n/LocaleProvider.tsx';
import { previewSourceNotes, previewSummary } from '../i18n/text.ts';

// ECharts is the largest dependency; loading it after the page lets the settings form work first.
const EChart = lazy(() => import('./EChart.tsx').then((m) => ({ default: m.EChart })));

export interface PreviewCardProps {
  readonly preview: PreviewResponse | undefined;
  readonly loading: boolean;
  readonly error: string | null;
}

/** Customers' estimate across the day under the current settings: the line, and the model's range as a band. */
export function PreviewCard({ preview, loading, error }: PreviewCardProps) {
  const intl = useIntl();
  const t = useT();
  const theme = useTheme();
  const model = useMemo(() => (preview === undefined ? null : previewModel(preview.points)), [preview]);
  const option = useMemo(
    () => (model === null ? null : previewChartOption(intl, model, theme.palette.primary.main)),
    [intl, model, theme],
  );
  const summary = model === null ? '' : previewSummary(intl, model);
  const coordinate = (v: number) =>
    intl.formatNumber(v, { maximumFractionDigits: 4, minimumFractionDigits: 4 });

  return (
    <Card component="section" aria-labelledby="preview-title">
      {loading && <LinearProgress aria-label={t('preview.loading')} />}
      <CardContent>
        <Typography variant="h6" component="h2" id="preview-title">
          {t('preview.title')}
        </Typography>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          {preview === undefined
            ? t('preview.subtitle')
            : t('preview.subtitleAt', {
                lat: coordinate(preview.destination.lat),
                lng: coordinate(preview.destination.lng),
              })}
        </Typography>
        {error !== null && (
          <Alert severity="error" sx={{ mb: 1 }} data-testid="preview-error">
            {error}
          </Alert>
        )}
        {model !== null && option !== null ? (
          <Stack spacing={1}>
            <Typography variant="body1" data-testid="preview-summary">
              {summary}
            </Typography>
            {previewSourceNotes(intl, model).map((note) => (
              <Typography key={note} variant="caption" color="text.secondary">
                {note}
              </Typography>
            ))}
            <Suspense fallback={<Box sx={{ height: 260 }} aria-hidden />}>
              <EChart
                option={option}
                height={260}
                ariaLabel={summary}
                testId="preview-chart"
                values={model.eta.join(',')}
              />
            </Suspense>
          </Stack>
        ) : (
          error === null && <Box sx={{ height: 260 }} aria-hidden />
        )}
      </CardContent>
    </Card>
  );
}
