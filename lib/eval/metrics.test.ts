import { describe, expect, it } from 'vitest';
import { createImage, type FloatImage } from './image';
import { colourfulness, meanAb, psnr, psnrY, rgbToY, rowPsnr, rowSpeed, ssim, ssimPlane, ssimY, type Plane } from './metrics';

function filled(width: number, height: number, channels: number, f: (x: number, y: number, c: number) => number): FloatImage {
  const image = createImage(width, height, channels);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) image.data[(y * width + x) * channels + c] = f(x, y, c);
  return image;
}

/** A deterministic textured image (no Math.random: failures must reproduce). */
function texture(width: number, height: number, seed = 1): FloatImage {
  let state = seed;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  return filled(width, height, 3, (x, y) => 0.5 + 0.3 * Math.sin(x / 3 + y / 5) + 0.15 * (next() - 0.5));
}

function plane(width: number, height: number, f: (x: number, y: number) => number): Plane {
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  return { data, width, height };
}

describe('rgbToY', () => {
  it('maps black, white and the primaries to BT.601 studio-range luma', () => {
    const colours = [
      [0, 0, 0],
      [1, 1, 1],
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const image = filled(colours.length, 1, 3, (x, _y, c) => colours[x]![c]!);
    const y = rgbToY(image).data;
    expect(y[0]).toBeCloseTo(16, 10);
    expect(y[1]).toBeCloseTo(235, 10);
    expect(y[2]).toBeCloseTo(16 + 65.481, 10);
    expect(y[3]).toBeCloseTo(16 + 128.553, 10);
    expect(y[4]).toBeCloseTo(16 + 24.966, 10);
  });

  it('treats a one-channel image as gray', () => {
    const gray = filled(3, 2, 1, (x) => x / 2);
    const rgb = filled(3, 2, 3, (x) => x / 2);
    expect(Array.from(rgbToY(gray).data)).toEqual(Array.from(rgbToY(rgb).data).map((v) => expect.closeTo(v, 10)));
  });
});

describe('PSNR', () => {
  it('is infinite for identical images', () => {
    const a = texture(20, 16);
    expect(psnrY(a, a, 4)).toBe(Infinity);
    expect(psnr(a, a)).toBe(Infinity);
  });

  it('of a uniform one-level gray offset equals 20 log10(255 / (219/255)) on Y and 20 log10(255) on RGB', () => {
    const a = filled(16, 16, 3, () => 100 / 255);
    const b = filled(16, 16, 3, () => 101 / 255);
    expect(psnrY(a, b)).toBeCloseTo(20 * Math.log10(255 / (219 / 255)), 4);
    expect(psnr(a, b)).toBeCloseTo(20 * Math.log10(255), 4);
  });

  it('ignores differences inside the shaved border', () => {
    const a = texture(24, 24);
    const b = { ...a, data: a.data.slice() };
    for (let x = 0; x < 24; x++) for (let c = 0; c < 3; c++) b.data[x * 3 + c] = 0; // top row
    expect(psnrY(a, b, 0)).toBeLessThan(40);
    expect(psnrY(a, b, 1)).toBe(Infinity);
  });

  it('counts every channel on RGB: an error in one of three channels costs 10 log10(3) dB less than in all', () => {
    const a = filled(8, 8, 3, () => 0.5);
    const one = filled(8, 8, 3, (_x, _y, c) => (c === 0 ? 0.5 + 10 / 255 : 0.5));
    const all = filled(8, 8, 3, () => 0.5 + 10 / 255);
    expect(psnr(a, one) - psnr(a, all)).toBeCloseTo(10 * Math.log10(3), 4);
  });

  it('rejects images of different shapes', () => {
    expect(() => psnrY(createImage(4, 4, 3), createImage(4, 5, 3))).toThrow(/shapes differ/);
  });
});

describe('SSIM', () => {
  it('is 1 for identical images and symmetric, below 1 otherwise', () => {
    const a = texture(32, 24, 1);
    const b = texture(32, 24, 2);
    expect(ssimY(a, a)).toBeCloseTo(1, 12);
    expect(ssim(a, a)).toBeCloseTo(1, 12);
    const ab = ssimY(a, b);
    expect(ab).toBeLessThan(0.99);
    expect(ab).toBeGreaterThan(0);
    expect(ssimY(b, a)).toBeCloseTo(ab, 12);
  });

  it('of two constant planes is (2ab + C1) / (a^2 + b^2 + C1)', () => {
    const c1 = (0.01 * 255) ** 2;
    const value = ssimPlane(
      plane(15, 13, () => 100),
      plane(15, 13, () => 120),
    );
    expect(value).toBeCloseTo((2 * 100 * 120 + c1) / (100 ** 2 + 120 ** 2 + c1), 10);
  });

  it('of a plane and its negative-contrast copy around the same mean is strongly negative', () => {
    const a = plane(21, 21, (x, y) => 128 + 60 * Math.sin(x + 2 * y));
    const b = plane(21, 21, (x, y) => 128 - 60 * Math.sin(x + 2 * y));
    expect(ssimPlane(a, b)).toBeLessThan(-0.9);
  });

  it('on an 11x11 plane equals the single Gaussian-weighted window (sigma 1.5) computed directly', () => {
    const a = plane(11, 11, (x, y) => 90 + 40 * Math.sin(x / 2) + 3 * y);
    const b = plane(11, 11, (x, y) => 95 + 30 * Math.sin(x / 2 + 0.3) + 2 * y + ((x * y) % 4));
    const w: number[] = [];
    for (let y = 0; y < 11; y++) for (let x = 0; x < 11; x++) w.push(Math.exp(-((x - 5) ** 2 + (y - 5) ** 2) / (2 * 1.5 ** 2)));
    const total = w.reduce((s, v) => s + v, 0);
    const E = (f: (i: number) => number) => w.reduce((s, v, i) => s + (v / total) * f(i), 0);
    const ma = E((i) => a.data[i]!);
    const mb = E((i) => b.data[i]!);
    const va = E((i) => (a.data[i]! - ma) ** 2);
    const vb = E((i) => (b.data[i]! - mb) ** 2);
    const cov = E((i) => (a.data[i]! - ma) * (b.data[i]! - mb));
    const c1 = (0.01 * 255) ** 2;
    const c2 = (0.03 * 255) ** 2;
    const expected = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
    expect(ssimPlane(a, b)).toBeCloseTo(expected, 10);
    expect(expected).toBeLessThan(0.99);
    expect(() => ssimPlane(plane(10, 11, () => 1), plane(10, 11, () => 1))).toThrow(/smaller/);
  });

  it('averages channels on RGB', () => {
    const a = texture(16, 16, 3);
    const b = { ...a, data: a.data.slice() };
    for (let i = 0; i < b.data.length; i += 3) b.data[i] = 1 - b.data[i]!; // invert red only
    const perChannel = ssim(a, b);
    expect(perChannel).toBeLessThan(0.75);
    expect(perChannel).toBeGreaterThan(0.3);
  });
});

describe('colourfulness', () => {
  it('is 0 for any gray image', () => {
    expect(colourfulness(filled(8, 8, 3, (x, y) => (x + y) / 14))).toBeCloseTo(0, 12);
  });

  it('of a uniform colour is 0.3 x the length of its mean (rg, yb)', () => {
    const red = filled(4, 4, 3, (_x, _y, c) => (c === 0 ? 1 : 0));
    expect(colourfulness(red)).toBeCloseTo(0.3 * Math.hypot(255, 127.5), 8);
  });

  it('of a half red, half green image adds the spread', () => {
    const image = filled(4, 2, 3, (x, _y, c) => (x < 2 ? [1, 0, 0][c]! : [0, 1, 0][c]!));
    // rg = +-255 (mean 0, sd 255), yb = 127.5 everywhere (sd 0, mean 127.5).
    expect(colourfulness(image)).toBeCloseTo(255 + 0.3 * 127.5, 8);
  });
});

describe('meanAb', () => {
  it('is about zero for gray and positive b* for a sepia tone', () => {
    const gray = meanAb(filled(4, 4, 3, (x) => x / 3));
    expect(Math.abs(gray.a)).toBeLessThan(0.01);
    expect(Math.abs(gray.b)).toBeLessThan(0.01);
    const sepia = meanAb(filled(4, 4, 3, (_x, _y, c) => [112, 66, 20][c]! / 255));
    expect(sepia.b).toBeGreaterThan(30);
    expect(sepia.a).toBeGreaterThan(5);
  });
});

describe('row summaries', () => {
  it('rowPsnr leaves out images reproduced exactly and counts them', () => {
    expect(rowPsnr([{ psnr: 30 }, { psnr: Infinity }, { psnr: 20 }])).toEqual({ psnr: 25, perfect: 1 });
    expect(rowPsnr([{ psnr: 30 }, { psnr: 20 }])).toEqual({ psnr: 25, perfect: 0 });
    expect(rowPsnr([{ psnr: Infinity }])).toEqual({ psnr: Infinity, perfect: 1 });
  });

  it('rowSpeed is total time over total megapixels, not a mean of per-image rates', () => {
    // A 10x10 image at 1 ms (10,000 ms/MP) beside a 1000x1000 one at 500 ms (500 ms/MP).
    const speed = rowSpeed([
      { ms: 1, cpuMs: 2, width: 10, height: 10 },
      { ms: 500, cpuMs: 400, width: 1000, height: 1000 },
    ]);
    expect(speed.msPerMegapixel).toBeCloseTo(501 / 1.0001, 6);
    expect(speed.cpuMsPerMegapixel).toBeCloseTo(402 / 1.0001, 6);
  });
});
