import { describe, expect, it } from 'vitest';
import { rgbToL } from '@/lib/image/lab';
import { evaluateColorizeMethod, grayBaseline, isColourless, makeColorizePair } from './colorize';
import { createImage, fromBytes, quantize, toBytes, type FloatImage } from './image';
import type { Method } from './methods';

function photo(width: number, height: number, tint: [number, number, number]): FloatImage {
  const image = createImage(width, height, 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) image.data[(y * width + x) * 3 + c] = tint[c]! * (0.4 + 0.5 * Math.abs(Math.sin(x / 4 + c + y / 6)));
  return quantize(image);
}

describe('colorize evaluation', () => {
  const pairs = [makeColorizePair('warm.png', photo(24, 20, [1, 0.6, 0.3])), makeColorizePair('cool.png', photo(16, 30, [0.3, 0.7, 1]))];

  it('makes a gray input with equal channels and the original lightness', () => {
    const { gray, original } = pairs[0]!;
    for (let i = 0; i < gray.data.length; i += 3) {
      expect(gray.data[i]).toBe(gray.data[i + 1]);
      expect(gray.data[i]).toBe(gray.data[i + 2]);
    }
    const lOriginal = rgbToL(toBytes(original));
    const lGray = rgbToL(toBytes(gray));
    for (let i = 0; i < lGray.length; i++) expect(Math.abs(lGray[i]! - lOriginal[i]!)).toBeLessThan(0.5);
    expect(pairs[0]!.colourfulness).toBeGreaterThan(20);
  });

  it('scores the gray baseline as colourless and an oracle as perfect', async () => {
    const baseline = await evaluateColorizeMethod(grayBaseline, pairs, { warmUp: false });
    expect(baseline.colourfulnessRatio).toBeLessThan(0.01);
    expect(Math.abs(baseline.meanA)).toBeLessThan(0.5);
    expect(Math.abs(baseline.meanB)).toBeLessThan(0.5);
    expect(baseline.psnr).toBeGreaterThan(10);
    expect(baseline.psnr).toBeLessThan(Infinity);

    const byGray = new Map(pairs.map((p) => [p.gray, p.original]));
    const oracle: Method = { name: 'oracle', detail: '', run: async (g) => byGray.get(g)!, dispose: () => {} };
    const perfect = await evaluateColorizeMethod(oracle, pairs);
    expect(perfect.psnr).toBe(Infinity);
    expect(perfect.ssim).toBeCloseTo(1, 10);
    expect(perfect.colourfulnessRatio).toBeCloseTo(1, 10);
    expect(perfect.meanB).toBeCloseTo((pairs[0]!.meanB + pairs[1]!.meanB) / 2, 6);
  });

  it('shows a sepia cast as b* far above the originals', async () => {
    const sepia: Method = {
      name: 'sepia',
      detail: '',
      run: async (g) => ({ ...g, data: g.data.map((v, i) => Math.min(1, v * [1.15, 0.95, 0.7][i % 3]!)) }),
      dispose: () => {},
    };
    const row = await evaluateColorizeMethod(sepia, [pairs[1]!], { warmUp: false });
    expect(row.meanB).toBeGreaterThan(pairs[1]!.meanB + 20);
  });

  it('tells black-and-white originals (every a*, b* rounds to 0) from colour ones', async () => {
    // A gray ramp, and pixels one level off gray whose a*, b* stay under 0.5: nothing 8-bit Lab would keep.
    const gray = fromBytes(Array.from({ length: 16 * 12 }, (_, i) => [i % 256, i % 256, i % 256]).flat(), 16, 12, 3);
    expect(isColourless(gray)).toBe(true);
    expect(isColourless(fromBytes([10, 10, 11, 255, 255, 254, 10, 9, 9], 3, 1, 3))).toBe(true);
    // Its own gray input scores infinite PSNR: the reason such originals are not scored.
    const pair = makeColorizePair('bw.png', gray);
    expect((await evaluateColorizeMethod(grayBaseline, [pair], { warmUp: false })).psnr).toBe(Infinity);

    expect(isColourless(pairs[0]!.original)).toBe(false);
    expect(isColourless(pairs[1]!.original)).toBe(false);
    // One coloured pixel is enough for a colour image (a red flower in a gray street).
    const flower = { ...gray, data: gray.data.slice() };
    flower.data.set([1, 0, 0], (5 * 16 + 7) * 3);
    expect(isColourless(flower)).toBe(false);
  });
});
