import { describe, expect, it } from 'vitest';
import { imresize } from './bicubic';
import { createImage, fromBytes, quantize, type FloatImage } from './image';
import { bicubicMethod, type Method } from './methods';
import { evaluateSrMethod, makeSrPair, scoreSr } from './sr';

function scene(width: number, height: number, channels = 3): FloatImage {
  const image = createImage(width, height, channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < channels; c++)
        image.data[(y * width + x) * channels + c] = 0.5 + 0.35 * Math.sin(x / (2 + c) + y / 3) * Math.cos(y / 7);
  return quantize(image);
}

describe('makeSrPair', () => {
  it('crops HR to a multiple of the scale and makes an 8-bit LR of a quarter the size', () => {
    const pair = makeSrPair({ name: 'a.png', image: scene(41, 38) }, 4);
    expect([pair.hr.width, pair.hr.height, pair.lr.width, pair.lr.height]).toEqual([40, 36, 10, 9]);
    for (const v of pair.lr.data) expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
  });
});

describe('evaluateSrMethod', () => {
  const pairs = [makeSrPair({ name: 'a.png', image: scene(40, 36) }, 2), makeSrPair({ name: 'b.png', image: scene(30, 44) }, 2)];

  it('gives an oracle infinite PSNR and SSIM 1, and bicubic finite scores, with timings per output MP', async () => {
    const byLr = new Map(pairs.map((p) => [p.lr, p.hr]));
    const oracle: Method = {
      name: 'oracle',
      detail: 'returns the HR image',
      run: async (lr) => byLr.get(lr) ?? imresize(lr, { scale: 2 }), // the warm-up crop gets bicubic
      dispose: () => {},
    };
    const perfect = await evaluateSrMethod(oracle, pairs, { scale: 2 });
    expect(perfect.psnr).toBe(Infinity);
    expect(perfect.perfectImages).toBe(pairs.length);
    expect(perfect.ssim).toBeCloseTo(1, 12);
    const bicubic = await evaluateSrMethod(bicubicMethod(2), pairs, { scale: 2 });
    expect(bicubic.psnr).toBeGreaterThan(25);
    expect(bicubic.psnr).toBeLessThan(Infinity);
    expect(bicubic.ssim).toBeLessThan(1);
    expect(bicubic.perImage.map((s) => [s.image, s.width, s.height])).toEqual([
      ['a.png', 40, 36],
      ['b.png', 30, 44],
    ]);
    for (const s of bicubic.perImage) {
      expect(s.msPerMegapixel).toBeCloseTo(s.ms / ((s.width * s.height) / 1e6), 6);
      expect(s.cpuMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects an output of the wrong size', async () => {
    const wrong: Method = { name: 'wrong', detail: '', run: async (lr) => imresize(lr, { scale: 3 }), dispose: () => {} };
    await expect(evaluateSrMethod(wrong, pairs, { scale: 2 })).rejects.toThrow(/wrong returned 60x54x3 for a.png; expected 40x36x3/);
  });
});

describe('scoreSr', () => {
  it('scores single-channel files on stored intensities when asked: 20 log10(255/219) dB below Y', () => {
    const gray = scene(36, 36, 1);
    const rgbGray = fromBytes(
      Uint8Array.from({ length: 36 * 36 * 3 }, (_, i) => Math.round(gray.data[Math.floor(i / 3)]! * 255)),
      36,
      36,
      3,
    );
    const pair = makeSrPair({ name: 'g.png', image: rgbGray, grayFile: true }, 2);
    const output = quantize(imresize(pair.lr, { scale: 2 }));
    const y = scoreSr(output, pair, 2, 'y');
    const stored = scoreSr(output, pair, 2, 'stored');
    expect(y.psnr - stored.psnr).toBeCloseTo(20 * Math.log10(255 / 219), 6);
    expect(stored.ssim).toBeLessThan(y.ssim);
    // Colour files are always scored on Y.
    const colour = { ...pair, grayFile: false };
    expect(scoreSr(output, colour, 2, 'stored').psnr).toBeCloseTo(y.psnr, 10);
  });

  it('scores a colour output of a gray file on the mean of its channels, not its red one', () => {
    const gray = scene(36, 36, 1);
    const rgbGray = fromBytes(Uint8Array.from({ length: 36 * 36 * 3 }, (_, i) => Math.round(gray.data[Math.floor(i / 3)]! * 255)), 36, 36, 3);
    const pair = makeSrPair({ name: 'g.png', image: rgbGray, grayFile: true }, 2);
    // The HR itself with red +6 and blue -6 levels: its channel mean is the HR exactly.
    const tinted = fromBytes(
      Uint8Array.from({ length: 36 * 36 * 3 }, (_, i) => Math.round(pair.hr.data[i]! * 255) + (i % 3 === 0 ? 6 : i % 3 === 2 ? -6 : 0)),
      36,
      36,
      3,
    );
    // Red alone would be 6 levels off everywhere: 20 log10(255 / 6) = 32.6 dB.
    expect(scoreSr(tinted, pair, 2, 'stored').psnr).toBeGreaterThan(100);
  });
});
