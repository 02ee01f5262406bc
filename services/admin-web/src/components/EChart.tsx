import { CustomChart, LineChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import type { ChartOption } from '../charts/types.ts';

// Only what the preview and accuracy charts draw (charts/types.ts): the full echarts build is several
// times larger.
use([LineChart, ScatterChart, CustomChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export interface EChartProps {
  readonly option: ChartOption;
  readonly height: number;
  readonly ariaLabel: string;
  readonly testId?: string;
  /** The plotted values as text (`data-values`), for browser tests, which cannot read a canvas. */
  readonly values?: string;
}

/**
 * A chart bound to a div: created on mount, given the whole option on every change (notMerge, so a
 * removed series really goes), resized with its container (a phone rotating, the drawer opening), and
 * disposed on unmount so its canvas and listeners do not outlive the component.
 */
export function EChart({ option, height, ariaLabel, testId, values }: EChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof init> | null>(null);

  useEffect(() => {
    const div = el.current;
    if (div === null) return;
    const instance = init(div, undefined, { renderer: 'canvas' });
    chart.current = instance;
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(div);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);

  return (
    <div
      ref={el}
      role="img"
      aria-label={ariaLabel}
      data-testid={testId}
      data-values={values}
      style={{ width: '100%', height }}
    />
  );
}
