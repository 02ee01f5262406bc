import type { PreviewPoint } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { previewChartOption } from '../src/charts/preview.ts';
import { previewModel } from '../src/domain/preview.ts';
import { previewSourceNotes, previewSummary } from '../src/i18n/text.ts';
import { en, ko } from './intl.ts';

const point = (hour: number, etaMinutes: number, over: Partial<PreviewPoint> = {}): PreviewPoint => ({
  hour,
  etaMinutes,
  low: etaMinutes - 5,
  high: etaMinutes + 7,
  source: 'model',
  ...over,
});

describe('preview model', () => {
  it('orders by hour and draws the band as low plus spread', () => {
    const m = previewModel([point(1, 30), point(0, 28)]);
    expect(m.hours).toEqual([0, 1]);
    expect(m.eta).toEqual([28, 30]);
    expect(m.low).toEqual([23, 25]);
    expect(m.spread).toEqual([12, 12]);
  });

  it('names the quietest and busiest hours, the earliest on a tie', () => {
    const m = previewModel([point(3, 25), point(12, 41), point(19, 41), point(5, 25)]);
    expect(previewSummary(en.intl, m)).toBe(
      'Customers see 25 min at the quietest (3 AM) to 41 min at the busiest (12 PM).',
    );
    expect(previewSummary(ko.intl, m)).toBe(
      '손님에게 가장 한가한 오전 3시에는 25분, 가장 바쁜 오후 12시에는 41분으로 보입니다.',
    );
  });

  it('says when every hour is the same, and when there is nothing', () => {
    const flat = previewModel([point(0, 35, { source: 'manual' }), point(1, 35, { source: 'manual' })]);
    expect(previewSummary(en.intl, flat)).toBe('Customers see 35 min all day.');
    expect(previewSummary(ko.intl, flat)).toBe('손님에게 하루 종일 35분으로 보입니다.');
    expect(previewSummary(ko.intl, previewModel([]))).toBe('이 가게의 예상 시간이 아직 없습니다.');
  });

  it('explains sources other than the model', () => {
    const m = previewModel([point(0, 30), point(1, 35, { source: 'manual' })]);
    expect(previewSourceNotes(en.intl, m)).toEqual(['Some hours use your manual times.']);
    expect(previewSourceNotes(ko.intl, m)).toEqual(['일부 시간대에는 직접 입력한 시간이 보입니다.']);
    expect(previewSourceNotes(en.intl, previewModel([point(0, 30)]))).toEqual([]);
  });
});

describe('preview chart option', () => {
  const m = previewModel(Array.from({ length: 24 }, (_, h) => point(h, 30 + h)));

  it('labels the hour axis and the series in the chosen language', () => {
    for (const [i, hours, names, unit] of [
      [ko, ['오전 12시', '오전 1시'], ['손님에게 보이는 시간', '예상 범위'], '분'],
      [en, ['12 AM', '1 AM'], ['Shown to customers', 'Likely range'], 'min'],
    ] as const) {
      const o = previewChartOption(i.intl, m, '#123456');
      const x = o.xAxis as { data: string[] };
      expect(x.data.slice(0, 2)).toEqual(hours);
      expect(x.data).toHaveLength(24);
      expect((o.legend as { data: string[] }).data).toEqual(names);
      expect((o.yAxis as { name: string }).name).toBe(unit);
      const tooltip = o.tooltip as { valueFormatter: (v: number) => string };
      expect(tooltip.valueFormatter(42)).toBe(i === ko ? '42분' : '42 min');
    }
  });

  it('plots the shown minutes on top of a band stacked from low to high', () => {
    const series = previewChartOption(en.intl, m, '#123456').series as {
      name: string;
      data: number[];
      stack?: string;
    }[];
    expect(series.map((s) => s.name)).toEqual(['low', 'Likely range', 'Shown to customers']);
    expect(series[0]?.data.slice(0, 2)).toEqual([25, 26]);
    expect(series[1]?.data.slice(0, 2)).toEqual([12, 12]);
    expect(series[2]?.data.slice(0, 2)).toEqual([30, 31]);
    expect(series[0]?.stack).toBe(series[1]?.stack);
  });
});
