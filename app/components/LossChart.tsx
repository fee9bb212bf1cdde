'use client';

/**
 * A line chart of training curves (uPlot, loaded in the browser only). Series may have gaps: a value
 * that a record did not log is drawn as a break, not a zero.
 */
import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartSeries } from '@/lib/ui/training-charts';

interface Props {
  /** Accessible name of the chart. */
  title: string;
  xLabel: string;
  /** Ascending, as uPlot requires (see lib/ui/training-charts). */
  x: number[];
  series: ChartSeries[];
  height?: number;
  /** Log-scaled y axis (when every value is positive): losses of very different sizes stay readable. */
  logScale?: boolean;
}

const COLORS = ['#3b4fd8', '#e8590c', '#2b8a3e', '#c2255c', '#7048e8', '#0b7285', '#e67700'];

export function LossChart({ title, xLabel, x, series, height = 280, logScale = false }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const useLog = logScale && series.every((s) => s.values.every((v) => v === null || v > 0));
  const shape = series.map((s) => s.label).join('|') + (useLog ? '|log' : '');

  useEffect(() => {
    let disposed = false;
    let observer: ResizeObserver | undefined;
    void import('uplot').then(({ default: UPlot }) => {
      const element = container.current;
      if (disposed || !element) return;
      const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
      const axisStroke = dark ? '#a3a9b5' : '#5d616b';
      const grid = { stroke: dark ? '#343945' : '#e4e2dc', width: 1 };
      const options: uPlot.Options = {
        width: Math.max(280, element.clientWidth),
        height,
        scales: { x: { time: false }, y: useLog ? { distr: 3 } : {} },
        axes: [
          { label: xLabel, stroke: axisStroke, grid, ticks: grid },
          { stroke: axisStroke, grid, ticks: grid, size: 60 },
        ],
        series: [
          { label: xLabel },
          ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true })),
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      };
      chart.current = new UPlot(options, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, element);
      observer = new ResizeObserver(() => chart.current?.setSize({ width: Math.max(280, element.clientWidth), height }));
      observer.observe(element);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      chart.current?.destroy();
      chart.current = null;
    };
    // Rebuilt only when the set of series changes; new data goes through setData below.
  }, [shape, height, xLabel]);

  useEffect(() => {
    chart.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [x, series]);

  // Room for the plot plus uPlot's legend, reserved before it loads so the page does not jump.
  return <div className="chart" ref={container} role="img" aria-label={title} style={{ minHeight: height + 40 }} />;
}
