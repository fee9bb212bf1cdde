'use client';

/**
 * A line chart of training curves (uPlot, loaded in the browser only). Series may have gaps: a value
 * that a record did not log is drawn as a break, not a zero.
 *
 * The canvas says nothing to a screen reader and uPlot's own legend is a table of "--" cells that only
 * a mouse can toggle, so uPlot draws the plot alone, hidden from assistive technology; the legend is
 * buttons rendered here, and the values are in words in a table that opens below the chart.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric } from '@/lib/ui/format';
import { summarizeSeries, type ChartSeries, type StepValue } from '@/lib/ui/training-charts';

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

const color = (index: number) => COLORS[index % COLORS.length]!;

function StepValueCell({ point }: { point: StepValue | undefined }) {
  if (!point) return <td>–</td>;
  return (
    <td>
      {formatMetric(point.value)} <span className="muted">at step {point.step}</span>
    </td>
  );
}

export function LossChart({ title, xLabel, x, series, height = 280, logScale = false }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // Labels of the series switched off in the legend; a ref too, for a chart rebuilt after a change.
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const hiddenRef = useRef(hidden);
  // The data index under the pointer, for the values next to the legend.
  const [cursor, setCursor] = useState<number | null>(null);
  const captionId = useId();
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
          ...series.map((s, i) => ({ label: s.label, stroke: color(i), width: 1.5, spanGaps: true, show: !hiddenRef.current.has(s.label) })),
        ],
        legend: { show: false },
        cursor: { drag: { x: true, y: false } },
        hooks: { setCursor: [(u) => setCursor(u.cursor.idx ?? null)] },
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

  const toggle = (index: number, label: string) => {
    const next = new Set(hidden);
    const show = next.has(label);
    if (show) next.delete(label);
    else next.add(label);
    hiddenRef.current = next;
    setHidden(next);
    // uPlot counts the x values as series 0.
    chart.current?.setSeries(index + 1, { show });
  };

  const summaries = summarizeSeries(x, series);
  return (
    <figure className="chart" aria-labelledby={captionId}>
      <figcaption id={captionId} className="visually-hidden">
        {title}
      </figcaption>
      <div ref={container} aria-hidden="true" style={{ minHeight: height }} />
      <ul className="chart-legend" aria-label={series.length > 1 ? 'Curves shown' : undefined}>
        {/* What the pointer is over: a mouse-only reading, so only for the eye. */}
        <li className="chart-legend-item chart-value" aria-hidden="true">
          {xLabel} {cursor === null ? '–' : x[cursor]}
        </li>
        {series.map((s, i) => {
          const content = (
            <>
              <span className="chart-swatch" style={{ background: color(i) }} aria-hidden="true" />
              {s.label}
              <span className="chart-value" aria-hidden="true">
                {formatMetric(cursor === null ? null : s.values[cursor])}
              </span>
            </>
          );
          return (
            <li key={s.label}>
              {/* Switching off the only series would leave an empty chart. */}
              {series.length > 1 ? (
                <button type="button" className="chart-legend-item" aria-pressed={!hidden.has(s.label)} onClick={() => toggle(i, s.label)}>
                  {content}
                </button>
              ) : (
                <span className="chart-legend-item">{content}</span>
              )}
            </li>
          );
        })}
      </ul>
      <details className="chart-data">
        <summary>
          {/* The chart's title too: several of these on a page, listed apart from their charts, would all read alike. */}
          Values as text<span className="visually-hidden"> for {title}</span>
        </summary>
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{series.length > 1 ? 'Curve' : 'Metric'}</th>
                <th scope="col">First</th>
                <th scope="col">Last</th>
                <th scope="col">Lowest</th>
                <th scope="col">Highest</th>
              </tr>
            </thead>
            <tbody>
              {summaries.map((s) => (
                <tr key={s.label}>
                  <th scope="row">{s.label}</th>
                  <StepValueCell point={s.first} />
                  <StepValueCell point={s.last} />
                  <StepValueCell point={s.min} />
                  <StepValueCell point={s.max} />
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
