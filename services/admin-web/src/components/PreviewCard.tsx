import type { PreviewResponse } from '@eta/contracts';
import { Alert, Box, Card, CardContent, LinearProgress, Stack, Typography, useTheme } from '@mui/material';
import { lazy, Suspense, useMemo } from 'react';
import { previewModel, previewSourceNotes, previewSummary } from '../domain/preview.ts';
import type { ChartOption } from './EChart.tsx';

// ECharts is the largest dependency; loading it after the page lets the settings form work first.
const EChart = lazy(() => import('./EChart.tsx').then((m) => ({ default: m.EChart })));

export interface PreviewCardProps {
  readonly preview: PreviewResponse | undefined;
  readonly loading: boolean;
  readonly error: string | null;
}

/** Customers' estimate across the day under the current settings: the line, and the model's range as a band. */
export function PreviewCard({ preview, loading, error }: PreviewCardProps) {
  const theme = useTheme();
  const model = useMemo(() => (preview === undefined ? null : previewModel(preview.points)), [preview]);

  const option = useMemo((): ChartOption | null => {
    if (model === null) return null;
    const main = theme.palette.primary.main;
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0, right: 0, data: ['Shown to customers', 'Likely range'], itemWidth: 16 },
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v) => `${String(v)} min`,
      },
      xAxis: { type: 'category', boundaryGap: false, data: model.labels, axisLabel: { interval: 5 } },
      yAxis: { type: 'value', name: 'min', min: 0, nameTextStyle: { align: 'right' } },
      series: [
        // The band: an invisible base at `low`, then `high - low` stacked on it and filled.
        {
          name: 'low',
          type: 'line',
          data: model.low,
          stack: 'range',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          tooltip: { show: false },
          silent: true,
        },
        {
          name: 'Likely range',
          type: 'line',
          data: model.spread,
          stack: 'range',
          symbol: 'none',
          lineStyle: { opacity: 0 },
          areaStyle: { color: main, opacity: 0.18 },
          itemStyle: { color: main, opacity: 0.35 },
          tooltip: { show: false },
        },
        {
          name: 'Shown to customers',
          type: 'line',
          data: model.eta,
          symbol: 'circle',
          symbolSize: 5,
          lineStyle: { width: 2.5, color: main },
          itemStyle: { color: main },
        },
      ],
    } as ChartOption;
  }, [model, theme]);

  return (
    <Card component="section" aria-labelledby="preview-title">
      {loading && <LinearProgress aria-label="Loading preview" />}
      <CardContent>
        <Typography variant="h6" component="h2" id="preview-title">
          What customers see today
        </Typography>
        <Typography variant="body2" color="text.secondary" sx={{ mb: 1 }}>
          Estimated minutes by hour of the day
          {preview !== undefined &&
            ` for an address at ${preview.destination.lat.toFixed(4)}, ${preview.destination.lng.toFixed(4)}`}
          .
        </Typography>
        {error !== null && (
          <Alert severity="error" sx={{ mb: 1 }} data-testid="preview-error">
            {error}
          </Alert>
        )}
        {model !== null && option !== null ? (
          <Stack spacing={1}>
            <Typography variant="body1" data-testid="preview-summary">
              {previewSummary(model)}
            </Typography>
            {previewSourceNotes(model).map((note) => (
              <Typography key={note} variant="caption" color="text.secondary">
                {note}
              </Typography>
            ))}
            <Suspense fallback={<Box sx={{ height: 260 }} aria-hidden />}>
              <EChart
                option={option}
                height={260}
                ariaLabel={previewSummary(model)}
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
