import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedImage } from '@/lib/image/decode';
import { lAbToRgb, rgbToL } from '@/lib/image/lab';
import { initBackend } from '@/lib/tf/backend';
import { colorizeImage, colorizeWorkingSize } from './colorize';
import { loadModel, type LoadedModel } from './models';
import { constantColorizer, randomColorizer, saveTestModel, testMetadata } from './test-models';

let dir: string;
let random: LoadedModel;
let constant: LoadedModel;
const AB: [number, number] = [0.3, -0.2];

function randomImage(width: number, height: number, seed: number, options: { gray?: boolean; alpha?: boolean } = {}): DecodedImage {
  let a = seed;
  const next = () => ((a = (a * 1103515245 + 12345) % 2147483648), a % 256);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    if (options.gray) data.fill(next(), i * 3, i * 3 + 3);
    else for (let c = 0; c < 3; c++) data[i * 3 + c] = next();
  }
  const alpha = options.alpha ? new Uint8Array(width * height).map(next) : undefined;
  return alpha ? { data, width, height, channels: 3, hasAlpha: true, alpha } : { data, width, height, channels: 3, hasAlpha: false };
}

beforeAll(async () => {
  await initBackend();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'infer-colorize-'));
  const meta = testMetadata({ task: 'colorize', scale: 1 });
  random = await loadModel(await saveTestModel(randomColorizer(7), path.join(dir, 'colorize'), meta));
  constant = await loadModel(await saveTestModel(constantColorizer(AB), path.join(dir, 'constant'), meta));
});

afterAll(async () => {
  for (const m of [random, constant]) m?.model.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('colorizeWorkingSize', () => {
  it('sets the short side to the working size and rounds each side to the multiple', () => {
    expect(colorizeWorkingSize(1000, 1000, 256, 128)).toEqual({ width: 256, height: 256 });
    expect(colorizeWorkingSize(1500, 1000, 256, 128)).toEqual({ width: 384, height: 256 });
    expect(colorizeWorkingSize(1000, 1500, 256, 128)).toEqual({ width: 256, height: 384 });
    expect(colorizeWorkingSize(100, 75, 256, 128)).toEqual({ width: 384, height: 256 }); // 341 -> 384
    expect(colorizeWorkingSize(3, 2000, 256, 128)).toEqual({ width: 256, height: 1024 }); // capped at 4x
    expect(colorizeWorkingSize(1, 1, 256, 1)).toEqual({ width: 256, height: 256 });
    const odd = colorizeWorkingSize(333, 517, 200, 8);
    expect(odd.width % 8).toBe(0);
    expect(odd.height % 8).toBe(0);
    expect(odd.width).toBe(200);
  });
});

describe('colorizeImage', () => {
  it('returns the input size, for odd, thin and tiny inputs', async () => {
    for (const [w, h] of [
      [1, 1],
      [1, 9],
      [17, 3],
      [45, 31],
    ] as const) {
      const out = await colorizeImage(random, randomImage(w, h, w + h, { gray: true }));
      expect([out.width, out.height, out.data.length]).toEqual([w, h, w * h * 3]);
    }
  });

  it('merges the predicted ab with the full-resolution L exactly (constant-ab model)', async () => {
    const image = randomImage(37, 21, 3);
    const out = await colorizeImage(constant, image);
    const n = image.width * image.height;
    const expected = lAbToRgb(rgbToL(image.data, n), new Float32Array(2 * n).map((_, i) => (i % 2 === 0 ? AB[0] : AB[1]) * 110), n);
    expect(Array.from(out.data)).toEqual(Array.from(expected));
  });

  it('adds colour to a gray image and keeps its lightness', async () => {
    const image = randomImage(40, 30, 5, { gray: true });
    const out = await colorizeImage(random, image);
    let coloured = 0;
    for (let i = 0; i < out.data.length; i += 3) if (out.data[i] !== out.data[i + 1] || out.data[i + 1] !== out.data[i + 2]) coloured++;
    expect(coloured).toBeGreaterThan(out.width * out.height * 0.5);
    const lIn = rgbToL(image.data);
    const lOut = rgbToL(out.data);
    let diff = 0;
    for (let i = 0; i < lIn.length; i++) diff += Math.abs(lIn[i]! - lOut[i]!);
    // 8-bit rounding and gamut clipping move L a little, never much on average
    expect(diff / lIn.length).toBeLessThan(2);
  });

  it('ignores the input colour: a colour image and its gray version give the same result', async () => {
    const colour = randomImage(16, 12, 9);
    const l = rgbToL(colour.data);
    const grayFromL = lAbToRgb(l, new Float32Array(l.length * 2), l.length);
    const gray: DecodedImage = { ...colour, data: new Uint8Array(grayFromL.buffer) };
    const a = await colorizeImage(constant, colour);
    const b = await colorizeImage(constant, gray);
    let worst = 0;
    for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i]! - b.data[i]!));
    expect(worst).toBeLessThanOrEqual(2); // gray quantised to 8 bits moves L by < 0.5
  });

  it('averages with the mirror image: a mirrored input gives the mirrored output (a single run does not)', async () => {
    const [w, h] = [40, 32]; // the working size itself (short side 32): no resampling to break the symmetry
    const image = randomImage(w, h, 11, { gray: true });
    const mirror = (data: Uint8Array) => {
      const out = new Uint8Array(data.length);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), (y * w + (w - 1 - x)) * 3);
      return out;
    };
    const mirrored: DecodedImage = { ...image, data: mirror(image.data) };
    const worstDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((worst, v, i) => Math.max(worst, Math.abs(v - b[i]!)), 0);
    const averaged = worstDiff(mirror((await colorizeImage(random, image)).data), (await colorizeImage(random, mirrored)).data);
    const single = worstDiff(mirror((await colorizeImage(random, image, { mirrorAverage: false })).data), (await colorizeImage(random, mirrored, { mirrorAverage: false })).data);
    expect(averaged).toBeLessThanOrEqual(1);
    expect(single).toBeGreaterThan(10);
  });

  it('scales the predicted colour by the colour strength: 0 is the gray image, 1.6 is 1.6 times the a*b*', async () => {
    const image = randomImage(37, 21, 3);
    const n = image.width * image.height;
    const l = rgbToL(image.data, n);
    const expected = (strength: number) =>
      Array.from(lAbToRgb(l, new Float32Array(2 * n).map((_, i) => (i % 2 === 0 ? AB[0] : AB[1]) * 110 * strength), n));
    for (const strength of [0, 0.5, 1.6, 2]) {
      expect(Array.from((await colorizeImage(constant, image, { colourStrength: strength })).data)).toEqual(expected(strength));
    }
    // Strength 0 really is gray, not just a constant model's colour times 0.
    const gray = (await colorizeImage(random, image, { colourStrength: 0 })).data;
    for (let i = 0; i < gray.length; i += 3) expect(Math.max(Math.abs(gray[i]! - gray[i + 1]!), Math.abs(gray[i + 1]! - gray[i + 2]!))).toBeLessThanOrEqual(1);
  });

  it('refuses a colour strength outside 0-2 before any work', async () => {
    for (const strength of [-0.1, 2.01, Number.NaN, Infinity]) {
      await expect(colorizeImage(random, randomImage(4, 4, 1), { colourStrength: strength })).rejects.toThrow(/colour strength must be a number from 0 to 2/);
    }
  });

  it('keeps alpha unchanged', async () => {
    const image = randomImage(9, 7, 4, { alpha: true });
    const out = await colorizeImage(random, image);
    expect(Array.from(out.alpha!)).toEqual(Array.from(image.alpha!));
  });

  it('the colour hidden under transparent pixels does not change the colours of the visible ones', async () => {
    const base = randomImage(48, 40, 5, { gray: true });
    const alpha = new Uint8Array(48 * 40).map((_, i) => (i % 48 < 24 ? 255 : 0));
    const withHidden = (value: number) => {
      const data = Uint8Array.from(base.data);
      for (let i = 0; i < alpha.length; i++) if (alpha[i] === 0) data.fill(value, i * 3, i * 3 + 3);
      return { ...base, data, alpha };
    };
    const [black, white] = [await colorizeImage(random, withHidden(0)), await colorizeImage(random, withHidden(255))];
    let differing = 0;
    for (let i = 0; i < alpha.length; i++) {
      if (alpha[i] === 0) continue;
      for (let c = 0; c < 3; c++) if (black.data[i * 3 + c] !== white.data[i * 3 + c]) differing++;
    }
    expect(differing).toBe(0);
  });

  it('reports progress to 1 of 1, aborts with AbortError, leaks no tensors', async () => {
    await colorizeImage(random, randomImage(8, 8, 1));
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    await colorizeImage(random, randomImage(20, 20, 1), { onProgress: (p) => seen.push(p.done / p.total) });
    expect(seen).toEqual([0, 1]);
    await colorizeImage(random, randomImage(20, 20, 1), { mirrorAverage: false });

    const controller = new AbortController();
    const run = colorizeImage(random, randomImage(20, 20, 2), {
      signal: controller.signal,
      onProgress: (p) => p.done === 1 && controller.abort(),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    const already = new AbortController();
    already.abort();
    await expect(colorizeImage(random, randomImage(4, 4, 1), { signal: already.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(tf.memory().numTensors).toBe(before);
  });
});
