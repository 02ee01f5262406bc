import type { CustomSeriesRenderItem } from 'echarts';
import type { IntlShape } from 'react-intl';
import type { AccuracyModel } from '../domain/accuracy.ts';
import { formatAxisTime, formatCount, formatHour, formatMinutes, formatTime } from '../i18n/format.ts';
import { translator } from '../i18n/index.ts';
import { type ChartOption, escapeHtml } from './types.ts';

export interface AccuracyColors {
  readonly predicted: string;
  readonly actual: string;
  readonly error: string;
}

/** Series order: the tooltip formatter tells them apart by index. */
export const ACCURACY_SERIES = { range: 0, predicted: 1, actual: 2, hourlyMae: 3 } as const;

const THREE_HOURS = 3 * 3_600_000;
const HALF_HOUR = 1_800_000;
/** Pixels at the left of both grids, so their time axes line up exactly (containLabel would differ). */
const GRID_LEFT = 44;

/**
 * The accuracy chart for one Seoul day. Top: each delivered order at the time it arrived, its promised
 * minutes (a dot) with the promised range (a bar from low to high) and the minutes it really took (a
 * diamond). Below, on the same time axis: the mean absolute error of the orders placed in each hour.
 * Times on the axes and in tooltips are Asia/Seoul in the chosen language.
 */
export function accuracyChartOption(intl: IntlShape, model: AccuracyModel, colors: AccuracyColors): ChartOption {
  const t = translator(intl);
  const names = {
    range: t('accuracy.series.range'),
    predicted: t('accuracy.series.predicted'),
    actual: t('accuracy.series.actual'),
    hourlyMae: t('accuracy.series.hourlyMae'),
  };
  const timeAxis = {
    type: 'value' as const,
    min: model.dayStart,
    max: model.axisEnd,
    interval: THREE_HOURS,
    axisLabel: { formatter: (v: number) => formatAxisTime(intl, v), hideOverlap: true },
  };
  const minutesLabel = { formatter: (v: number) => formatCount(intl, v) };

  // A vertical bar from low to high at the delivery time: the promised range of one order.
  const renderRange: CustomSeriesRenderItem = (_params, api) => {
    const at = Number(api.value(0));
    const [x1 = 0, y1 = 0] = api.coord([at, Number(api.value(1))]);
    const [x2 = 0, y2 = 0] = api.coord([at, Number(api.value(2))]);
    return {
      type: 'line',
      shape: { x1, y1, x2, y2 },
      style: { stroke: colors.predicted, lineWidth: 4, opacity: 0.3, lineCap: 'round' },
    };
  };

  // The hour's mean error as a bar over that hour (a bar series would widen a value axis past min/max
  // to make room for its bars, and the two grids' time axes would no longer line up).
  const renderHourBar: CustomSeriesRenderItem = (_params, api) => {
    const [x1 = 0, top = 0] = api.coord([Number(api.value(0)), Number(api.value(2))]);
    const [x2 = 0, bottom = 0] = api.coord([Number(api.value(1)), 0]);
    const gap = Math.min(2, (x2 - x1) / 6);
    return {
      type: 'rect',
      shape: { x: x1 + gap, y: top, width: Math.max(1, x2 - x1 - 2 * gap), height: bottom - top },
      style: { fill: colors.error, opacity: 0.8 },
    };
  };

  const tooltip = (p: { seriesIndex?: number; dataIndex: number }): string => {
    if (p.seriesIndex === ACCURACY_SERIES.hourlyMae) {
      const h = model.hours[p.dataIndex];
      if (h === undefined) return '';
      return [
        escapeHtml(t('accuracy.tooltip.hour', { hour: formatHour(intl, h.hour), orders: t('accuracy.orderCount', { count: h.orders }) })),
        `${escapeHtml(names.hourlyMae)}: <b>${escapeHtml(formatMinutes(intl, h.maeMinutes))}</b>`,
      ].join('<br/>');
    }
    const o = model.points[p.dataIndex];
    if (o === undefined) return '';
    return [
      `<b>${escapeHtml(t('accuracy.tooltip.order', { orderId: o.orderId }))}</b>`,
      escapeHtml(t('accuracy.tooltip.delivered', { time: formatTime(intl, o.deliveredAt) })),
      escapeHtml(
        t('accuracy.tooltip.predicted', {
          minutes: formatMinutes(intl, o.predictedMinutes),
          low: formatMinutes(intl, o.low),
          high: formatMinutes(intl, o.high),
        }),
      ),
      escapeHtml(t('accuracy.tooltip.actual', { minutes: formatMinutes(intl, o.actualMinutes) })),
    ].join('<br/>');
  };

  return {
    animation: false,
    legend: {
      top: 0,
      left: 0,
      itemWidth: 14,
      data: [names.predicted, names.range, names.actual, names.hourlyMae],
    },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (params) => tooltip(Array.isArray(params) ? (params[0] ?? { dataIndex: -1 }) : params),
    },
    grid: [
      { left: GRID_LEFT, right: 16, top: 64, bottom: '34%' },
      { left: GRID_LEFT, right: 16, height: '14%', bottom: 24 },
    ],
    xAxis: [
      {
        ...timeAxis,
        gridIndex: 0,
        name: t('accuracy.axis.deliveredAt'),
        nameLocation: 'middle',
        nameGap: 26,
      },
      { ...timeAxis, gridIndex: 1 },
    ],
    yAxis: [
      {
        type: 'value',
        gridIndex: 0,
        min: 0,
        name: t('preview.axisMinutes'),
        nameTextStyle: { align: 'right' },
        axisLabel: minutesLabel,
      },
      { type: 'value', gridIndex: 1, min: 0, splitNumber: 2, axisLabel: minutesLabel },
    ],
    series: [
      {
        type: 'custom',
        name: names.range,
        xAxisIndex: 0,
        yAxisIndex: 0,
        data: model.band.map((b) => [...b]),
        encode: { x: 0, y: [1, 2] },
        renderItem: renderRange,
        itemStyle: { color: colors.predicted, opacity: 0.3 },
        z: 1,
      },
      {
        type: 'scatter',
        name: names.predicted,
        xAxisIndex: 0,
        yAxisIndex: 0,
        data: model.predicted.map((p) => [...p]),
        symbol: 'circle',
        symbolSize: 8,
        itemStyle: { color: colors.predicted },
        z: 3,
      },
      {
        type: 'scatter',
        name: names.actual,
        xAxisIndex: 0,
        yAxisIndex: 0,
        data: model.actual.map((p) => [...p]),
        symbol: 'diamond',
        symbolSize: 10,
        itemStyle: { color: colors.actual },
        z: 4,
      },
      {
        type: 'custom',
        name: names.hourlyMae,
        xAxisIndex: 1,
        yAxisIndex: 1,
        // [hour start, hour end, mean absolute error]
        data: model.hours.map((h) => [h.at - HALF_HOUR, h.at + HALF_HOUR, Math.round(h.maeMinutes * 10) / 10]),
        encode: { x: [0, 1], y: 2 },
        renderItem: renderHourBar,
        itemStyle: { color: colors.error, opacity: 0.8 },
      },
    ],
  };
}
