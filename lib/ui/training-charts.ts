/**
 * Shapes a run's log into what the training page draws. Pure, so that the rules below are tested
 * without a browser: uPlot draws whatever it is given, and it assumes ascending x.
 */
import type { TrainPoint, ValPoint } from '@/lib/server/runs';

export interface ChartSeries {
  label: string;
  /** One value per x, null where there is none. */
  values: (number | null)[];
}

export interface LossCurves {
  steps: number[];
  series: ChartSeries[];
  /** Every value is positive, so a log axis can show losses of very different sizes. */
  logScale: boolean;
}

export interface ValCurves {
  steps: number[];
  /** One series per metric, in the order the metrics first appear. */
  series: ChartSeries[];
  /** The records behind `steps`, for the table. */
  points: ValPoint[];
}

const LOSS_FIELDS = [
  { key: 'lossG', label: 'G total' },
  { key: 'lossGGan', label: 'G adversarial' },
  { key: 'lossGL1', label: 'G pixel loss' },
  { key: 'lossD', label: 'D' },
] as const satisfies readonly { key: keyof TrainPoint; label: string }[];

/**
 * One record per step, the last one logged, in ascending step order. A resumed run logs again from
 * its checkpoint's step, so a log can go 1100 then 840: the later records replace the abandoned ones.
 */
export function lastPerStep<T extends { step: number }>(points: readonly T[]): T[] {
  const byStep = new Map<number, T>();
  for (const point of points) byStep.set(point.step, point);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function sameValues(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  return a.every((x, i) => {
    const y = b[i] ?? null;
    if (x === null || y === null) return x === y;
    return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  });
}

/**
 * The loss curves worth drawing. A run without a GAN logs its adversarial and discriminator losses as
 * 0 at every step, and then its total equals its pixel loss: flat lines at zero say nothing, would
 * stop the log axis, and a duplicate curve hides the one under it.
 */
export function lossCurves(train: readonly TrainPoint[]): LossCurves {
  const points = lastPerStep(train);
  const all = LOSS_FIELDS.map(({ key, label }) => ({ key, label, values: points.map((p) => p[key] ?? null) }));
  const informative = all.filter((s) => s.values.some((v) => v !== null && v !== 0));
  const pixel = informative.find((s) => s.key === 'lossGL1');
  const kept = informative.filter((s) => !(s.key === 'lossG' && pixel && sameValues(s.values, pixel.values)));
  const series = kept.map(({ label, values }) => ({ label, values }));
  const logScale = series.length > 0 && series.every((s) => s.values.every((v) => v === null || v > 0));
  return { steps: points.map((p) => p.step), series, logScale };
}

/** Validation curves, one per metric (PSNR in dB and ratios near 1 do not share an axis). */
export function valCurves(val: readonly ValPoint[]): ValCurves {
  const points = lastPerStep(val);
  const names = [...new Set(points.flatMap((v) => Object.keys(v.metrics)))];
  return {
    steps: points.map((p) => p.step),
    series: names.map((name) => ({ label: name, values: points.map((p) => p.metrics[name] ?? null) })),
    points,
  };
}

export interface StepValue {
  step: number;
  value: number;
}

/** What a chart says about one series in words: where it started and ended, and its extremes. */
export interface SeriesSummary {
  label: string;
  /** All undefined when the series has no values. */
  first?: StepValue;
  last?: StepValue;
  /** The earliest step where the lowest (highest) value occurs. */
  min?: StepValue;
  max?: StepValue;
}

/** The text alternative of a chart of `series` over the steps `x` (gaps skipped). */
export function summarizeSeries(x: readonly number[], series: readonly ChartSeries[]): SeriesSummary[] {
  return series.map(({ label, values }) => {
    const summary: SeriesSummary = { label };
    values.forEach((value, i) => {
      const step = x[i];
      if (value === null || step === undefined) return;
      const point = { step, value };
      summary.first ??= point;
      summary.last = point;
      if (!summary.min || value < summary.min.value) summary.min = point;
      if (!summary.max || value > summary.max.value) summary.max = point;
    });
    return summary;
  });
}
