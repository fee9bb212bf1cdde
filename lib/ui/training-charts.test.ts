import { describe, expect, it } from 'vitest';
import type { TrainPoint } from '@/lib/server/runs';
import { lastPerStep, lossCurves, summarizeSeries, valCurves } from './training-charts';

/** A step of a run without a GAN, as the trainer logs it: adversarial and D are 0, total = pixel. */
const plain = (step: number, loss: number): TrainPoint => ({ step, lossG: loss, lossGGan: 0, lossGL1: loss, lossD: 0, lr: 2e-4 });
const gan = (step: number): TrainPoint => ({ step, lossG: 3 - step / 1000, lossGGan: 0.8, lossGL1: 2.2 - step / 1000, lossD: 0.65 });

describe('lastPerStep', () => {
  it('keeps the last record of each step, in ascending order (a resumed run logs steps again)', () => {
    const log = [{ step: 1090, v: 'a' }, { step: 1100, v: 'a' }, { step: 840, v: 'b' }, { step: 1090, v: 'b' }, { step: 850, v: 'b' }];
    expect(lastPerStep(log)).toEqual([
      { step: 840, v: 'b' },
      { step: 850, v: 'b' },
      { step: 1090, v: 'b' },
      { step: 1100, v: 'a' },
    ]);
    expect(lastPerStep([])).toEqual([]);
  });
});

describe('lossCurves', () => {
  it('drops all-zero GAN losses and a total that repeats the pixel loss, and uses the log scale', () => {
    const curves = lossCurves([plain(10, 0.031), plain(20, 0.03), plain(30, 0.029)]);
    expect(curves.series).toEqual([{ label: 'G pixel loss', values: [0.031, 0.03, 0.029] }]);
    expect(curves.steps).toEqual([10, 20, 30]);
    expect(curves.logScale).toBe(true);
  });

  it('keeps every curve of a GAN run', () => {
    const curves = lossCurves([gan(10), gan(20)]);
    expect(curves.series.map((s) => s.label)).toEqual(['G total', 'G adversarial', 'G pixel loss', 'D']);
    expect(curves.logScale).toBe(true);
  });

  it('sorts a resumed run by step with the later record winning, so x ascends for the chart', () => {
    const curves = lossCurves([plain(830, 0.5), plain(840, 0.4), plain(1100, 0.3), plain(840, 0.2), plain(850, 0.1)]);
    expect(curves.steps).toEqual([830, 840, 850, 1100]);
    expect(curves.series[0]!.values).toEqual([0.5, 0.2, 0.1, 0.3]);
  });

  it('says linear when a kept curve has a zero or a negative value, and leaves gaps as null', () => {
    const curves = lossCurves([gan(10), { ...gan(20), lossD: 0 }, { step: 30, lossGL1: 1 }]);
    expect(curves.logScale).toBe(false);
    expect(curves.series.find((s) => s.label === 'D')!.values).toEqual([0.65, 0, null]);
    // A GAN warming up logs 0 for its adversarial loss at first; once it is non-zero the curve stays.
    expect(lossCurves([{ ...gan(10), lossGGan: 0 }, gan(20)]).series.map((s) => s.label)).toContain('G adversarial');
  });

  it('keeps the total when it differs from the pixel loss at any step', () => {
    const curves = lossCurves([plain(10, 0.03), { ...plain(20, 0.03), lossG: 0.05, lossGGan: 0.02 }]);
    expect(curves.series.map((s) => s.label)).toEqual(['G total', 'G adversarial', 'G pixel loss']);
  });

  it('has nothing to draw without losses', () => {
    expect(lossCurves([])).toEqual({ steps: [], series: [], logScale: false });
    expect(lossCurves([{ step: 10, lr: 1e-4 }])).toMatchObject({ series: [], logScale: false });
  });
});

describe('valCurves', () => {
  it('gives one series per metric over unique ascending steps', () => {
    const curves = valCurves([
      { step: 1000, metrics: { psnr: 27.1 } },
      { step: 2000, metrics: { psnr: 27.2, ssim: 0.8 } },
      { step: 1000, metrics: { psnr: 27.15 } },
    ]);
    expect(curves.steps).toEqual([1000, 2000]);
    expect(curves.series).toEqual([
      { label: 'psnr', values: [27.15, 27.2] },
      { label: 'ssim', values: [null, 0.8] },
    ]);
    expect(curves.points.map((p) => p.step)).toEqual([1000, 2000]);
  });
});

describe('summarizeSeries', () => {
  it('gives first, last, lowest and highest with their steps, skipping gaps; nothing for an empty series', () => {
    const [loss, empty] = summarizeSeries([10, 20, 30, 40], [
      { label: 'G', values: [3, null, 1, 2] },
      { label: 'D', values: [null, null, null, null] },
    ]);
    expect(loss).toEqual({ label: 'G', first: { step: 10, value: 3 }, last: { step: 40, value: 2 }, min: { step: 30, value: 1 }, max: { step: 10, value: 3 } });
    expect(empty).toEqual({ label: 'D' });
  });
});
