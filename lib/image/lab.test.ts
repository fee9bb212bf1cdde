import { describe, expect, it } from 'vitest';
import { lAbToRgb, labToRgb, rgbToL, rgbToLab } from './lab';

/** Deterministic PRNG so a failure is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function edgeColours(): Uint8Array {
  const levels = [0, 1, 2, 127, 128, 254, 255];
  const out: number[] = [];
  for (const r of levels) for (const g of levels) for (const b of levels) out.push(r, g, b);
  return Uint8Array.from(out);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('rgbToLab', () => {
  it('matches published D65 values for primaries, white and black', () => {
    const lab = rgbToLab(Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 119, 119, 119]));
    const expected = [
      [53.24, 80.09, 67.2],
      [87.73, -86.18, 83.18],
      [32.3, 79.19, -107.86],
      [100, 0, 0],
      [0, 0, 0],
      [50.03, 0, 0], // mid gray 119 is L* ~ 50
    ];
    expected.forEach((e, i) => {
      for (let c = 0; c < 3; c++) expect(lab[i * 3 + c]!).toBeCloseTo(e[c]!, 1);
    });
  });

  it('accepts float 0..255 input with the same result as bytes', () => {
    const bytes = Uint8Array.from([12, 200, 99, 255, 0, 3]);
    expect(maxAbsDiff(rgbToLab(Float32Array.from(bytes)), rgbToLab(bytes))).toBeLessThan(1e-4);
  });

  it('rejects arrays too short for n pixels', () => {
    expect(() => rgbToLab(new Uint8Array(5), 2)).toThrow(/cannot hold/);
  });
});

describe('rgbToL', () => {
  it('equals the L channel of rgbToLab', () => {
    const rand = mulberry32(1);
    const rgb = new Uint8Array(3000).map(() => Math.floor(rand() * 256));
    const lab = rgbToLab(rgb);
    const l = rgbToL(rgb);
    expect(l.length).toBe(1000);
    for (let i = 0; i < 1000; i++) expect(Math.abs(l[i]! - lab[i * 3]!)).toBeLessThan(1e-4);
  });
});

describe('labToRgb', () => {
  it('round-trips edge colours exactly', () => {
    const rgb = edgeColours();
    expect(Array.from(labToRgb(rgbToLab(rgb)))).toEqual(Array.from(rgb));
  });

  it('round-trips random colours within 1/255', () => {
    const rand = mulberry32(42);
    const rgb = new Uint8Array(3 * 200_000).map(() => Math.floor(rand() * 256));
    expect(maxAbsDiff(labToRgb(rgbToLab(rgb)), rgb)).toBeLessThanOrEqual(1);
  });

  it('round-trips a grid over the whole cube within 1/255', () => {
    const out: number[] = [];
    for (let r = 0; r < 256; r += 5) for (let g = 0; g < 256; g += 5) for (let b = 0; b < 256; b += 5) out.push(r, g, b);
    const rgb = Uint8Array.from(out);
    expect(maxAbsDiff(labToRgb(rgbToLab(rgb)), rgb)).toBeLessThanOrEqual(1);
  });

  it('clips out-of-gamut Lab to 0..255 instead of wrapping or producing NaN', () => {
    const rgb = labToRgb(Float32Array.from([50, 200, -200, 100, -128, 127, 0, 0, 0, 120, 0, 0, -5, 0, 0]));
    for (const v of rgb) expect(v >= 0 && v <= 255).toBe(true);
    expect(Array.from(rgb.slice(6, 9))).toEqual([0, 0, 0]);
    expect(Array.from(rgb.slice(9, 12))).toEqual([255, 255, 255]);
    expect(Array.from(rgb.slice(12, 15))).toEqual([0, 0, 0]);
  });
});

describe('labToRgb against a direct formula', () => {
  it('rounds like round(255 * sRGB(linear)) computed with pow()', () => {
    // Independent reference: D65 Lab -> XYZ -> linear sRGB (published inverse matrix) -> gamma.
    const reference = (L: number, a: number, b: number): number[] => {
      const fy = (L + 16) / 116;
      const finv = (t: number) => (t ** 3 > 216 / 24389 ? t ** 3 : (116 * t - 16) / (24389 / 27));
      const X = 0.95047 * finv(fy + a / 500);
      const Y = L > 8 ? fy ** 3 : L / (24389 / 27);
      const Z = 1.08883 * finv(fy - b / 200);
      const lin = [
        3.2404542 * X - 1.5371385 * Y - 0.4985314 * Z,
        -0.969266 * X + 1.8760108 * Y + 0.041556 * Z,
        0.0556434 * X - 0.2040259 * Y + 1.0572252 * Z,
      ];
      return lin.map((v) => {
        const c = Math.min(1, Math.max(0, v));
        return Math.round(255 * (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055));
      });
    };
    const rand = mulberry32(3);
    const n = 20_000;
    const lab = new Float32Array(n * 3).map((_, i) => (i % 3 === 0 ? rand() * 100 : (rand() - 0.5) * 160));
    const ours = labToRgb(lab);
    let off = 0;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const expected = reference(lab[i * 3]!, lab[i * 3 + 1]!, lab[i * 3 + 2]!);
      // the published matrix is rounded to 7 digits, so a value at a rounding boundary may differ by 1
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(ours[i * 3 + c]! - expected[c]!);
        worst = Math.max(worst, d);
        if (d) off++;
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
    expect(off / (n * 3)).toBeLessThan(0.001);
  });
});

describe('lAbToRgb', () => {
  it('equals labToRgb on the interleaved equivalent', () => {
    const rand = mulberry32(7);
    const n = 5000;
    const l = new Float32Array(n).map(() => rand() * 100);
    const ab = new Float32Array(2 * n).map(() => (rand() - 0.5) * 220);
    const lab = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      lab[i * 3] = l[i]!;
      lab[i * 3 + 1] = ab[i * 2]!;
      lab[i * 3 + 2] = ab[i * 2 + 1]!;
    }
    expect(Array.from(lAbToRgb(l, ab))).toEqual(Array.from(labToRgb(lab)));
  });
});
