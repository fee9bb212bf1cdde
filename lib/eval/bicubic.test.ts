import { describe, expect, it } from 'vitest';
import { contributions, cubicKernel, imresize } from './bicubic';
import { createImage, type FloatImage } from './image';

function filled(width: number, height: number, channels: number, f: (x: number, y: number, c: number) => number): FloatImage {
  const image = createImage(width, height, channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) image.data[(y * width + x) * channels + c] = f(x, y, c);
  return image;
}

function at(image: FloatImage, x: number, y: number, c = 0): number {
  return image.data[(y * image.width + x) * image.channels + c]!;
}

describe('cubicKernel', () => {
  it('is Keys a = -0.5: 1 at 0, 0 at the integers, symmetric, zero outside [-2, 2]', () => {
    expect(cubicKernel(0)).toBe(1);
    for (const x of [1, 2, -1, -2, 2.5, -3]) expect(cubicKernel(x)).toBeCloseTo(0, 12);
    for (const x of [0.3, 0.75, 1.2, 1.9]) expect(cubicKernel(-x)).toBe(cubicKernel(x));
    // The a = -0.5 kernel's value at 1.5: a(1.5^3) - 5a(1.5^2) + 8a(1.5) - 4a = -0.0625.
    expect(cubicKernel(1.5)).toBeCloseTo(-0.0625, 12);
  });
});

describe('contributions', () => {
  it('gives the classic x2 upscaling weights', () => {
    const c = contributions(8, 16, 2, true);
    const row = (i: number) =>
      Array.from(c.weights.subarray(i * c.taps, (i + 1) * c.taps))
        .filter((w) => w !== 0)
        .map((w) => Number(w.toFixed(7)));
    // Output pixel 1 (1-based) sits at input coordinate 0.75: taps at distances 1.75, 0.75, 0.25, 1.25;
    // output pixel 2 at 1.25: the mirror image.
    expect(row(0)).toEqual([-0.0234375, 0.2265625, 0.8671875, -0.0703125]);
    expect(row(1)).toEqual([-0.0703125, 0.8671875, 0.2265625, -0.0234375]);
  });

  it('normalises every output row to sum 1, up and down', () => {
    for (const [inLength, outLength, scale] of [
      [10, 20, 2],
      [12, 3, 0.25],
      [9, 3, 1 / 3],
      [7, 28, 4],
    ] as const) {
      const c = contributions(inLength, outLength, scale, true);
      for (let i = 0; i < outLength; i++) {
        let sum = 0;
        for (let p = 0; p < c.taps; p++) sum += c.weights[i * c.taps + p]!;
        expect(sum).toBeCloseTo(1, 12);
      }
    }
  });

  it('mirrors indices past the edges including the edge pixel (symmetric padding)', () => {
    const c = contributions(4, 8, 2, true);
    // First output: u = 0.75 (1-based), taps at 1-based -2..3 -> 3 2 1 1 2 3 -> 0-based 2 1 0 0 1 2.
    expect(Array.from(c.indices.subarray(0, c.taps))).toEqual([2, 1, 0, 0, 1, 2]);
    const last = Array.from(c.indices.subarray(7 * c.taps, 8 * c.taps));
    expect(last).toEqual([1, 2, 3, 3, 2, 1]);
  });

  it('widens the kernel by 1/scale when shrinking with antialiasing, not without', () => {
    expect(contributions(16, 4, 0.25, true).taps).toBe(18);
    expect(contributions(16, 4, 0.25, false).taps).toBe(6);
  });
});

describe('imresize', () => {
  it('computes MATLAB output sizes (ceil of scale x size)', () => {
    const image = createImage(7, 5, 3);
    expect(imresize(image, { scale: 0.5 })).toMatchObject({ width: 4, height: 3, channels: 3 });
    expect(imresize(image, { scale: 4 })).toMatchObject({ width: 28, height: 20, channels: 3 });
    expect(imresize(createImage(300, 300, 1), { scale: 1 / 3 })).toMatchObject({ width: 100, height: 100 });
    expect(imresize(image, { width: 3, height: 9 })).toMatchObject({ width: 3, height: 9, channels: 3 });
    expect(() => imresize(image, { width: 3 })).toThrow(/both/);
    expect(() => imresize(image, { scale: 0 })).toThrow(/positive/);
  });

  it('keeps a constant image constant, down and up, per channel', () => {
    const image = filled(13, 11, 3, (_x, _y, c) => [0.2, 0.5, 0.9][c]!);
    for (const scale of [0.25, 0.5, 1 / 3, 2, 4]) {
      const out = imresize(image, { scale });
      for (let i = 0; i < out.data.length; i++) expect(out.data[i]).toBeCloseTo([0.2, 0.5, 0.9][i % 3]!, 5);
    }
  });

  it('halving a horizontal ramp averages pixel pairs away from the edges', () => {
    const ramp = filled(32, 6, 1, (x) => x / 31);
    const out = imresize(ramp, { scale: 0.5 });
    expect(out.width).toBe(16);
    expect(out.height).toBe(3);
    // Output i covers input pixels 2i and 2i+1: value (2i + 0.5) / 31, exact where the kernel
    // (8 input pixels wide) does not reach an edge.
    for (let y = 0; y < out.height; y++) {
      for (let i = 2; i < 14; i++) expect(at(out, i, y)).toBeCloseTo((2 * i + 0.5) / 31, 6);
    }
    // At the edges the mirrored pixels pull the values inward, so the ramp is not reproduced there.
    expect(Math.abs(at(out, 0, 0) - 0.5 / 31)).toBeGreaterThan(1e-3);
  });

  it('antialiasing averages a fine checkerboard to gray; without it the pattern aliases', () => {
    const checker = filled(36, 36, 1, (x, y) => ((x + y) % 2 === 0 ? 1 : 0));
    // At 1/3 the plain kernel lands on whole pixels (0-based 1, 4, 7...): it just picks them.
    const smooth = imresize(checker, { scale: 1 / 3 });
    const aliased = imresize(checker, { scale: 1 / 3, antialias: false });
    const spread = (img: FloatImage) => Math.max(...img.data) - Math.min(...img.data);
    // The mirrored edges break the pattern's parity, so look inside a 2-pixel border.
    const inside = (img: FloatImage) => ({ ...img, data: Float32Array.from({ length: 16 }, (_, k) => at(img, 2 + (k % 4), 2 + Math.floor(k / 4))) });
    expect(spread(inside(smooth))).toBeLessThan(0.05);
    expect(spread(aliased)).toBeCloseTo(1, 6);
  });

  it('upscaling passes through the input samples and stays between neighbours on a ramp', () => {
    const ramp = filled(8, 8, 1, (x, y) => (x + y) / 14);
    const up = imresize(ramp, { scale: 2 });
    for (let y = 4; y < 12; y++) {
      for (let x = 4; x < 12; x++) {
        // Output pixel x maps to input coordinate x/2 - 0.25 (0-based): cubic reproduces linear ramps.
        expect(at(up, x, y)).toBeCloseTo((x / 2 - 0.25 + (y / 2 - 0.25)) / 14, 6);
      }
    }
  });

  it('with uint8 rounds every value to an 8-bit level', () => {
    const image = filled(9, 9, 3, (x, y, c) => ((x * 7 + y * 3 + c) % 11) / 10);
    const out = imresize(image, { scale: 0.5, uint8: true });
    for (const v of out.data) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
    }
  });
});
