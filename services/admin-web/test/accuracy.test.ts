import type { StoreAccuracyResponse } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { ACCURACY_SERIES, accuracyChartOption } from '../src/charts/accuracy.ts';
import {
  accuracyChartValues,
  accuracyModel,
  biasDirection,
  isAccuracyDate,
  seoulDay,
  seoulDayStart,
} from '../src/domain/accuracy.ts';
import { en, ko } from './intl.ts';

const figures = { orders: 2, maeMinutes: 5, biasMinutes: -3, coverage: 0.5 };

/** Two orders on 3 March in Seoul, the later one listed first (the card sorts), one after midnight. */
function answer(over: Partial<StoreAccuracyResponse> = {}): StoreAccuracyResponse {
  return {
    storeId: 7,
    date: '2026-03-03',
    timeZone: 'Asia/Seoul',
    day: figures,
    hours: [
      { hour: 23, ...figures, orders: 1, maeMinutes: 8 },
      { hour: 12, ...figures, orders: 1, maeMinutes: 2 },
      { hour: 15, orders: 0, maeMinutes: null, biasMinutes: null, coverage: null },
    ],
    models: [{ model: 'eta-precise@2', ...figures }],
    points: [
      {
        orderId: 'late<b>',
        deliveredAt: '2026-03-04T00:20:00+09:00',
        predictedMinutes: 40,
        low: 33,
        high: 50,
        actualMinutes: 48,
        model: 'eta-precise@2',
      },
      {
        orderId: 'o-1',
        deliveredAt: '2026-03-03T03:40:00Z',
        predictedMinutes: 36,
        low: 30,
        high: 45,
        actualMinutes: 34,
        model: 'eta-precise@2',
      },
    ],
    ...over,
  };
}

const HOUR = 3_600_000;

describe('the day in Seoul', () => {
  it('is already tomorrow in Seoul from 15:00 UTC', () => {
    expect(seoulDay(new Date('2026-03-03T14:59:59Z'))).toBe('2026-03-03');
    expect(seoulDay(new Date('2026-03-03T15:00:00Z'))).toBe('2026-03-04');
    expect(seoulDay(new Date('2026-12-31T15:00:00Z'))).toBe('2027-01-01');
    expect(new Date(seoulDayStart('2026-03-03')).toISOString()).toBe('2026-03-02T15:00:00.000Z');
  });

  it('takes only the dates the API takes', () => {
    expect(isAccuracyDate('2026-03-03')).toBe(true);
    for (const bad of ['', '2026-3-3', '2026-02-30', 'today']) expect(isAccuracyDate(bad), bad).toBe(false);
  });

  it('calls a lean under a twentieth of a minute even', () => {
    expect(biasDirection(-3)).toBe('late');
    expect(biasDirection(2.5)).toBe('early');
    expect(biasDirection(0.04)).toBe('none');
    expect(biasDirection(-0.04)).toBe('none');
  });
});

describe('accuracyModel', () => {
  const m = accuracyModel(answer());
  const start = seoulDayStart('2026-03-03');

  it('puts each order at its delivery time, oldest first, with its promise, range and outcome', () => {
    expect(m.points.map((p) => p.orderId)).toEqual(['o-1', 'late<b>']);
    const first = Date.parse('2026-03-03T03:40:00Z');
    const second = Date.parse('2026-03-04T00:20:00+09:00');
    expect(m.predicted).toEqual([
      [first, 36],
      [second, 40],
    ]);
    expect(m.band).toEqual([
      [first, 30, 45],
      [second, 33, 50],
    ]);
    expect(m.actual).toEqual([
      [first, 34],
      [second, 48],
    ]);
    expect(accuracyChartValues(m)).toBe('o-1=36/34,late<b>=40/48');
  });

  it('runs the axis over the whole Seoul day, past midnight to the whole hour when an order arrived then', () => {
    expect(m.dayStart).toBe(start);
    expect(m.axisEnd).toBe(start + 25 * HOUR);
    const quiet = accuracyModel(answer({ points: answer().points.slice(1) }));
    expect(quiet.axisEnd).toBe(start + 24 * HOUR);
  });

  it('draws each hour with orders as a bar in the middle of its hour', () => {
    expect(m.hours).toEqual([
      { hour: 12, at: start + 12.5 * HOUR, maeMinutes: 2, orders: 1 },
      { hour: 23, at: start + 23.5 * HOUR, maeMinutes: 8, orders: 1 },
    ]);
  });

  it('is empty without orders', () => {
    const none = accuracyModel(
      answer({
        day: { orders: 0, maeMinutes: null, biasMinutes: null, coverage: null },
        hours: [],
        points: [],
      }),
    );
    expect(none.points).toEqual([]);
    expect(none.hours).toEqual([]);
    expect(none.axisEnd).toBe(start + 24 * HOUR);
    expect(accuracyChartValues(none)).toBe('');
  });
});

describe('accuracy chart option', () => {
  const m = accuracyModel(answer());
  const colors = { predicted: '#1565c0', actual: '#e65100', error: '#ef5350' };

  type Axis = { min: number; max: number; interval: number; axisLabel: { formatter: (v: number) => string } };
  type Series = { type: string; name: string; data: unknown[]; xAxisIndex: number; yAxisIndex: number };

  it('plots range, promise and outcome per order above, the hourly error below', () => {
    const o = accuracyChartOption(en.intl, m, colors);
    const series = o.series as Series[];
    expect(series.map((s) => [s.type, s.name, s.xAxisIndex])).toEqual([
      ['custom', 'Promised range', 0],
      ['scatter', 'Promised', 0],
      ['scatter', 'Actual', 0],
      ['custom', 'Average error by hour ordered', 1],
    ]);
    expect(series[ACCURACY_SERIES.range]?.data).toEqual(m.band);
    expect(series[ACCURACY_SERIES.predicted]?.data).toEqual(m.predicted);
    expect(series[ACCURACY_SERIES.actual]?.data).toEqual(m.actual);
    // Each hour's bar spans that hour: [start, end, error].
    expect(series[ACCURACY_SERIES.hourlyMae]?.data).toEqual([
      [m.dayStart + 12 * HOUR, m.dayStart + 13 * HOUR, 2],
      [m.dayStart + 23 * HOUR, m.dayStart + 24 * HOUR, 8],
    ]);
  });

  it('shares one Seoul time axis between both grids, labelled in the chosen language', () => {
    for (const [i, labels] of [
      [ko, ['오전 12시', '오전 3시', '오후 12시']],
      [en, ['12 AM', '3 AM', '12 PM']],
    ] as const) {
      const axes = accuracyChartOption(i.intl, m, colors).xAxis as Axis[];
      expect(axes).toHaveLength(2);
      for (const axis of axes) {
        expect([axis.min, axis.max, axis.interval]).toEqual([m.dayStart, m.axisEnd, 3 * HOUR]);
        expect([0, 3, 12].map((h) => axis.axisLabel.formatter(m.dayStart + h * HOUR))).toEqual(labels);
      }
    }
  });

  it('explains an order and an hour in the tooltip, in Seoul time, escaping the order id', () => {
    type Formatter = (p: { seriesIndex: number; dataIndex: number }) => string;
    const ko_ = (accuracyChartOption(ko.intl, m, colors).tooltip as { formatter: Formatter }).formatter;
    const en_ = (accuracyChartOption(en.intl, m, colors).tooltip as { formatter: Formatter }).formatter;
    expect(ko_({ seriesIndex: ACCURACY_SERIES.predicted, dataIndex: 0 })).toBe(
      '<b>주문 o-1</b><br/>배달 완료 오후 12:40<br/>예상 36분 (범위 30분~45분)<br/>실제 34분',
    );
    expect(en_({ seriesIndex: ACCURACY_SERIES.actual, dataIndex: 1 })).toBe(
      '<b>Order late&#60;b&#62;</b><br/>Delivered 12:20 AM<br/>Promised 40 min (range 33 min–50 min)<br/>Actual 48 min',
    );
    expect(ko_({ seriesIndex: ACCURACY_SERIES.hourlyMae, dataIndex: 1 })).toBe(
      '오후 11시에 들어온 주문 1건<br/>주문 시간대별 평균 오차: <b>8분</b>',
    );
  });
});
