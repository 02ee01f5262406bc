import type { PreviewPoint } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { previewModel, previewSourceNotes, previewSummary } from '../src/domain/preview.ts';

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
    expect(m.labels).toEqual(['00:00', '01:00']);
    expect(m.eta).toEqual([28, 30]);
    expect(m.low).toEqual([23, 25]);
    expect(m.spread).toEqual([12, 12]);
  });

  it('names the quietest and busiest hours, the earliest on a tie', () => {
    const m = previewModel([point(3, 25), point(12, 41), point(19, 41), point(5, 25)]);
    expect(previewSummary(m)).toBe(
      'Customers see 25 min at the quietest (03:00) to 41 min at the busiest (12:00).',
    );
  });

  it('says when every hour is the same, and when there is nothing', () => {
    expect(
      previewSummary(previewModel([point(0, 35, { source: 'manual' }), point(1, 35, { source: 'manual' })])),
    ).toBe('Customers see 35 min all day.');
    expect(previewSummary(previewModel([]))).toBe('No estimates for this store yet.');
  });

  it('explains sources other than the model', () => {
    const m = previewModel([point(0, 30), point(1, 35, { source: 'manual' })]);
    expect(previewSourceNotes(m)).toEqual(['Some hours use your manual times.']);
    expect(previewSourceNotes(previewModel([point(0, 30)]))).toEqual([]);
  });
});
