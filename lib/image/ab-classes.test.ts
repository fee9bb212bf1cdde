import { describe, expect, it } from 'vitest';
import { abBinsFrom, abGamutBins, abPrior, nearestBin, rebalancingWeights, SOFT_TARGET_SIGMA, softColourTargets } from './ab-classes';
import { rgbToLab } from './lab';

describe('a*b* colour classes', () => {
  const bins = abGamutBins(10);

  it('cover the sRGB gamut: every 8-bit colour lies within half a cell of its bin, and no bin is far outside', () => {
    expect(bins.count).toBeGreaterThan(200);
    expect(bins.count).toBeLessThan(330);
    let seed = 3;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const rgb = Float32Array.from({ length: 3 * 5000 }, () => Math.floor(random() * 256));
    const lab = rgbToLab(rgb);
    for (let i = 0; i < lab.length; i += 3) {
      const q = nearestBin(bins, lab[i + 1]!, lab[i + 2]!);
      expect(Math.abs(bins.centres[q * 2]! - lab[i + 1]!)).toBeLessThanOrEqual(5 + 1e-4);
      expect(Math.abs(bins.centres[q * 2 + 1]! - lab[i + 2]!)).toBeLessThanOrEqual(5 + 1e-4);
    }
    // Grey is a bin; an a*b* no sRGB colour reaches (far green-blue) is not.
    expect(bins.centres[nearestBin(bins, 0, 0) * 2]).toBe(0);
    const offGamut = nearestBin(bins, -120, -120);
    expect(Math.hypot(bins.centres[offGamut * 2]! + 120, bins.centres[offGamut * 2 + 1]! + 120)).toBeGreaterThan(50);
  });

  it('nearestBin agrees with a brute-force search, on and off the gamut', () => {
    let seed = 9;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let i = 0; i < 2000; i++) {
      const [a, b] = [random() * 260 - 130, random() * 260 - 130];
      let best = Infinity;
      for (let q = 0; q < bins.count; q++) best = Math.min(best, Math.hypot(bins.centres[q * 2]! - a, bins.centres[q * 2 + 1]! - b));
      const q = nearestBin(bins, a, b);
      expect(Math.hypot(bins.centres[q * 2]! - a, bins.centres[q * 2 + 1]! - b)).toBeCloseTo(best, 4);
    }
  });

  it('rebuild from their centres (as a saved class head stores them)', () => {
    const again = abBinsFrom(Array.from(bins.centres));
    expect(again.grid).toBe(10);
    expect(again.count).toBe(bins.count);
    expect(nearestBin(again, 23, -41)).toBe(nearestBin(bins, 23, -41));
  });

  it('prior: sums to 1, peaks where the colours were, spreads by sigma', () => {
    const colours = [Float32Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 20 : -30))];
    const prior = abPrior(bins, colours, 5);
    expect(prior.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    const peak = prior.indexOf(Math.max(...prior));
    expect([bins.centres[peak * 2], bins.centres[peak * 2 + 1]]).toEqual([20, -30]);
    // The next bin (10 units away, 2 sigma) gets exp(-2) of the peak.
    const next = nearestBin(bins, 30, -30);
    expect(prior[next]! / prior[peak]!).toBeCloseTo(Math.exp(-2), 3);
    expect(() => abPrior(bins, [])).toThrow(/no colours/);
  });

  it('rebalancing: expectation 1 under the prior, rare bins weigh more, lambda 1 weighs all alike', () => {
    const prior = abPrior(bins, [Float32Array.from([0, 0, 0, 0, 0, 0, 40, 40])]);
    const weights = rebalancingWeights(prior, 0.5);
    expect(weights.reduce((s, w, q) => s + w * prior[q]!, 0)).toBeCloseTo(1, 5);
    expect(weights[nearestBin(bins, 40, 40)]!).toBeGreaterThan(weights[nearestBin(bins, 0, 0)]!);
    expect(weights[nearestBin(bins, -80, 60)]!).toBeGreaterThan(weights[nearestBin(bins, 40, 40)]!);
    for (const w of rebalancingWeights(prior, 1)) expect(w).toBeCloseTo(1, 5);
    expect(() => rebalancingWeights(prior, 1.5)).toThrow(/lambda/);
  });

  it('soft targets: pooled 2x, a Gaussian over every bin (brute force agrees within 1e-5), rows sum to 1, weights under the target', () => {
    let seed = 5;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const shape = { n: 2, height: 6, width: 4 };
    // Mostly in-gamut colours, and one far off the gamut (the all-bins fallback).
    const ab = Float32Array.from({ length: 2 * 6 * 4 * 2 }, () => random() * 120 - 60);
    ab.set([-125, -125, -125, -125], 0);
    ab.set([-125, -125, -125, -125], 2 * 4 * 2);
    const binWeights = Float32Array.from({ length: bins.count }, () => 0.2 + random() * 3);
    const { targets, pixelWeights } = softColourTargets(ab, shape, 2, bins, binWeights);
    expect(targets.length).toBe(2 * 3 * 2 * bins.count);
    for (let p = 0; p < 12; p++) {
      const [i, y, x] = [Math.floor(p / 6), Math.floor((p % 6) / 2), p % 2];
      let a = 0;
      let b = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
        const k = ((i * 6 + y * 2 + dy) * 4 + x * 2 + dx) * 2;
        a += ab[k]! / 4;
        b += ab[k + 1]! / 4;
      }
      const spread = Array.from({ length: bins.count }, (_, c) => Math.exp(-((bins.centres[c * 2]! - a) ** 2 + (bins.centres[c * 2 + 1]! - b) ** 2) / (2 * SOFT_TARGET_SIGMA ** 2)));
      const sum = spread.reduce((s, v) => s + v, 0);
      let rowSum = 0;
      let weight = 0;
      for (let c = 0; c < bins.count; c++) {
        const t = targets[p * bins.count + c]!;
        expect(Math.abs(t - spread[c]! / sum)).toBeLessThan(1e-5);
        rowSum += t;
        weight += t * binWeights[c]!;
      }
      expect(rowSum).toBeCloseTo(1, 5);
      expect(pixelWeights[p]!).toBeCloseTo(weight, 5);
    }
    expect(() => softColourTargets(ab, { n: 2, height: 6, width: 4 }, 4, bins, binWeights)).toThrow(/multiple of 4/);
  });
});
