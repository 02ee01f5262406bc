import type { AccuracyFigures } from '@eta/contracts';
import {
  Alert,
  Box,
  Button,
  Card,
  CardContent,
  LinearProgress,
  Stack,
  TextField,
  Typography,
  useTheme,
} from '@mui/material';
import { lazy, type ReactNode, Suspense, useEffect, useMemo, useState } from 'react';
import { useIntl } from 'react-intl';
import type { ApiClient } from '../api/client.ts';
import { accuracyChartOption } from '../charts/accuracy.ts';
import {
  accuracyChartValues,
  accuracyModel,
  biasDirection,
  isAccuracyDate,
  seoulDay,
} from '../domain/accuracy.ts';
import { useLoad } from '../hooks.ts';
import { formatDay, formatMinutes, formatPercent } from '../i18n/format.ts';
import { useT } from '../i18n/LocaleProvider.tsx';
import { describeApiError } from '../i18n/text.ts';

const EChart = lazy(() => import('./EChart.tsx').then((m) => ({ default: m.EChart })));

/** While today is shown, the card reloads this often: deliveries keep arriving. */
const LIVE_REFRESH_MS = 60_000;
const CHART_HEIGHT = 360;

export interface AccuracyCardProps {
  readonly api: ApiClient;
  readonly storeId: number;
  readonly onAuthError: (err: unknown) => boolean;
}

/**
 * How close the promised delivery times were to the real ones on one day (Asia/Seoul): the day's figures
 * (delivered orders, mean absolute error, bias, share inside the promised range) and a chart of every
 * delivered order. Today by default, refreshed every minute while it is today.
 */
export function AccuracyCard({ api, storeId, onAuthError }: AccuracyCardProps) {
  const intl = useIntl();
  const t = useT();
  const theme = useTheme();
  const [today, setToday] = useState(() => seoulDay(new Date()));
  const [date, setDate] = useState(today);
  const [typed, setTyped] = useState(today);

  const accuracy = useLoad(`${storeId}:${date}`, (signal) => api.accuracy(storeId, date, { signal }));
  const { reload } = accuracy;

  useEffect(() => {
    if (date !== today) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, LIVE_REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [date, today, reload]);

  const data = accuracy.data?.date === date ? accuracy.data : undefined;
  const model = useMemo(() => (data === undefined ? null : accuracyModel(data)), [data]);
  const option = useMemo(
    () =>
      model === null || model.points.length === 0
        ? null
        : accuracyChartOption(intl, model, {
            predicted: theme.palette.primary.main,
            actual: theme.palette.warning.dark,
            error: theme.palette.error.light,
          }),
    [intl, model, theme],
  );
  const error =
    accuracy.state === 'error' && !onAuthError(accuracy.error)
      ? describeApiError(intl, accuracy.error)
      : null;

  function pick(text: string) {
    setTyped(text);
    if (isAccuracyDate(text)) setDate(text);
  }

  function goToday() {
    const now = seoulDay(new Date());
    setToday(now);
    setTyped(now);
    setDate(now);
  }

  const day = data?.day;
  const empty = data !== undefined && data.day.orders === 0 && data.points.length === 0;

  return (
    <Card component="section" aria-labelledby="accuracy-title" data-testid="accuracy-card">
      {accuracy.state === 'loading' && <LinearProgress aria-label={t('accuracy.loading')} />}
      <CardContent>
        <Stack
          direction={{ xs: 'column', sm: 'row' }}
          spacing={1.5}
          sx={{ justifyContent: 'space-between', alignItems: { xs: 'stretch', sm: 'flex-start' }, mb: 1 }}
        >
          <Box sx={{ minWidth: 0 }}>
            <Typography variant="h6" component="h2" id="accuracy-title">
              {t('accuracy.title')}
            </Typography>
            <Typography variant="body2" color="text.secondary">
              {t('accuracy.subtitle')}
            </Typography>
          </Box>
          <Stack direction="row" spacing={1} sx={{ alignItems: 'flex-start', flexShrink: 0 }}>
            <TextField
              type="date"
              size="small"
              label={t('accuracy.date')}
              value={typed}
              onChange={(e) => pick(e.target.value)}
              error={!isAccuracyDate(typed)}
              helperText={isAccuracyDate(typed) ? undefined : t('accuracy.invalidDate')}
              slotProps={{
                inputLabel: { shrink: true },
                htmlInput: { max: today, 'data-testid': 'accuracy-date', lang: intl.locale },
              }}
              sx={{ width: 170 }}
            />
            <Button
              onClick={goToday}
              disabled={date === today}
              data-testid="accuracy-today"
              sx={{ mt: 0.25 }}
            >
              {t('accuracy.today')}
            </Button>
          </Stack>
        </Stack>

        {error !== null && (
          <Alert severity="error" sx={{ mb: 1 }} data-testid="accuracy-error">
            {error}
          </Alert>
        )}

        {empty && (
          <Box
            data-testid="accuracy-empty"
            sx={{
              py: 4,
              px: 2,
              textAlign: 'center',
              border: 1,
              borderColor: 'divider',
              borderStyle: 'dashed',
              borderRadius: 1,
            }}
          >
            <Typography variant="body1" color="text.secondary">
              {t('accuracy.empty', { date: formatDay(intl, date) })}
            </Typography>
          </Box>
        )}

        {day !== undefined && !empty && (
          <Stack spacing={2}>
            <Figures figures={day} />
            {model !== null && option !== null && (
              <Suspense fallback={<Box sx={{ height: CHART_HEIGHT }} aria-hidden />}>
                <EChart
                  option={option}
                  height={CHART_HEIGHT}
                  ariaLabel={t('accuracy.summary', {
                    date: formatDay(intl, date),
                    orders: t('accuracy.orderCount', { count: day.orders }),
                    mae: day.maeMinutes === null ? '–' : formatMinutes(intl, day.maeMinutes),
                  })}
                  testId="accuracy-chart"
                  values={accuracyChartValues(model)}
                />
              </Suspense>
            )}
          </Stack>
        )}

        {data === undefined && error === null && <Box sx={{ height: 120 }} aria-hidden />}
      </CardContent>
    </Card>
  );
}

/** The day's four figures, two by two on a phone, in a row from a tablet's width. */
function Figures({ figures }: { readonly figures: AccuracyFigures }) {
  const intl = useIntl();
  const t = useT();
  const none = '–';
  const bias = figures.biasMinutes;
  const direction = bias === null ? null : biasDirection(bias);
  return (
    <Box
      sx={{
        display: 'grid',
        gap: 1.5,
        gridTemplateColumns: { xs: 'repeat(2, minmax(0, 1fr))', md: 'repeat(4, minmax(0, 1fr))' },
      }}
    >
      <Figure
        testId="accuracy-orders"
        label={t('accuracy.orders')}
        value={t('accuracy.orderCount', { count: figures.orders })}
      />
      <Figure
        testId="accuracy-mae"
        label={t('accuracy.mae')}
        value={figures.maeMinutes === null ? none : formatMinutes(intl, figures.maeMinutes)}
        help={t('accuracy.maeHelp')}
      />
      <Figure
        testId="accuracy-bias"
        label={t('accuracy.bias')}
        value={bias === null ? none : formatMinutes(intl, Math.abs(bias))}
        help={
          direction === null
            ? undefined
            : t(
                direction === 'late'
                  ? 'accuracy.biasLate'
                  : direction === 'early'
                    ? 'accuracy.biasEarly'
                    : 'accuracy.biasNone',
              )
        }
        tone={direction === 'late' ? 'warning.dark' : undefined}
      />
      <Figure
        testId="accuracy-coverage"
        label={t('accuracy.coverage')}
        value={figures.coverage === null ? none : formatPercent(intl, figures.coverage)}
        help={t('accuracy.coverageHelp')}
      />
    </Box>
  );
}

function Figure(props: {
  readonly testId: string;
  readonly label: string;
  readonly value: ReactNode;
  readonly help?: string | undefined;
  readonly tone?: string | undefined;
}) {
  return (
    <Box
      data-testid={props.testId}
      sx={{ border: 1, borderColor: 'divider', borderRadius: 1, px: 1.5, py: 1, minWidth: 0 }}
    >
      <Typography variant="caption" color="text.secondary" component="p">
        {props.label}
      </Typography>
      <Typography
        variant="h5"
        component="p"
        data-testid={`${props.testId}-value`}
        sx={{ fontWeight: 600, color: props.tone }}
      >
        {props.value}
      </Typography>
      {props.help !== undefined && (
        <Typography variant="caption" color="text.secondary" component="p" sx={{ lineHeight: 1.3 }}>
          {props.help}
        </Typography>
      )}
    </Box>
  );
}
