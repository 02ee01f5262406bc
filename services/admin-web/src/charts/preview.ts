import type { IntlShape } from 'react-intl';
import type { PreviewModel } from '../domain/preview.ts';
import { formatHour, formatMinutes } from '../i18n/format.ts';
import { translator } from '../i18n/index.ts';
import type { ChartOption } from './types.ts';

/**
 * The preview chart: what customers are shown at each hour of the day (a line) inside the model's likely
 * range (a band), the hours and minutes written in the chosen language.
 */
export function previewChartOption(intl: IntlShape, model: PreviewModel, color: string): ChartOption {
  const t = translator(intl);
  const shown = t('preview.shown');
  const range = t('preview.range');
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    legend: { top: 0, right: 0, data: [shown, range], itemWidth: 16 },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v) => (typeof v === 'number' ? formatMinutes(intl, v) : String(v)),
    },
    xAxis: {
      type: 'category',
      boundaryGap: false,
      data: model.hours.map((h) => formatHour(intl, h)),
      axisLabel: { interval: 5 },
    },
    yAxis: { type: 'value', name: t('preview.axisMinutes'), min: 0, nameTextStyle: { align: 'right' } },
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
        name: range,
        type: 'line',
        data: model.spread,
        stack: 'range',
        symbol: 'none',
        lineStyle: { opacity: 0 },
        areaStyle: { color, opacity: 0.18 },
        itemStyle: { color, opacity: 0.35 },
        tooltip: { show: false },
      },
      {
        name: shown,
        type: 'line',
        data: model.eta,
        symbol: 'circle',
        symbolSize: 5,
        lineStyle: { width: 2.5, color },
        itemStyle: { color },
      },
    ],
  };
}
