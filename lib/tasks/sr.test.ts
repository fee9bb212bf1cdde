import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { RgbImage } from '@/lib/data/images';
import { imresize } from '@/lib/eval/bicubic';
import { crop, fromBytes } from '@/lib/eval/image';
import { addGaussianNoise, gaussianBlur } from '@/lib/image/degrade';
import { resolveConfig, trainConfigSchema, trainFlagsSchema } from '@/lib/train/config';
import { Rng } from '@/lib/train/rng';
import { downscaledImage, lrPatchFromHr, makeSource, srTask, type SrSource } from './sr';
import type { Pair, SrDegradation, TaskOptions } from './types';

/** Smooth colour waves with seeded noise and a hard edge, at a size that is not a multiple of 4. */
function testImage(width: number, height: number, seed = 3): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const k = (y * width + x) * 3;
      data[k] = Math.floor(128 + 90 * Math.sin(x / 4 + y / 9) + 30 * rng.next() - 15);
      data[k + 1] = Math.floor(128 + 90 * Math.cos(y / 5));
      data[k + 2] = x > width / 3 ? 200 : Math.floor(50 + 40 * rng.next());
    }
  }
  return { name: 'test.png', data, width, height };
}

/** The precomputed LR's `size` x `size` window at (x, y). */
function precomputedPatch(source: SrSource, x: number, y: number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let row = 0; row < size; row++) {
    const from = ((y + row) * source.lrWidth + x) * 3;
    out.set(source.lr.subarray(from, from + size * 3), row * size * 3);
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

function options(scale: number, degradation?: SrDegradation): TaskOptions {
  return { cropSize: 32, scale, direction: 'AtoB', valFraction: 0.1, sizeMultiple: 1, degradation };
}

/** Patch corners at the four image corners, the middle and a few odd spots. */
function positions(source: SrSource, size: number): [number, number][] {
  const maxX = source.lrWidth - size;
  const maxY = source.lrHeight - size;
  return [
    [0, 0],
    [maxX, 0],
    [0, maxY],
    [maxX, maxY],
    [Math.floor(maxX / 2), Math.floor(maxY / 2)],
    [1, 3],
    [maxX - 1, 2],
    [5, maxY - 1],
  ];
}

const isByteLevel = (v: number) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4;

describe('sr per-sample LR (the blur path)', () => {
  for (const scale of [2, 4]) {
    it(`with sigma 0 equals the precomputed LR exactly, at the borders too (x${scale})`, () => {
      const source = makeSource(testImage(97, 83), scale);
      const size = 32 / scale;
      for (const [x, y] of positions(source, size)) {
        expect(maxDiff(lrPatchFromHr(source, x, y, size, scale, 0), precomputedPatch(source, x, y, size)), `at ${x},${y}`).toBe(0);
      }
    });

    it(`with blur equals blurring and downscaling the whole image (the margin is enough, x${scale})`, () => {
      const image = testImage(97, 83);
      const source = makeSource(image, scale);
      const size = 32 / scale;
      const aligned = crop(fromBytes(image.data, image.width, image.height, 3), source.lrWidth * scale, source.lrHeight * scale);
      for (const sigma of [0.7, 2.5]) {
        const whole = imresize({ ...aligned, data: gaussianBlur(aligned.data, aligned.width, aligned.height, 3, sigma) }, { scale: 1 / scale, uint8: true });
        const reference = { ...source, lr: whole.data };
        for (const [x, y] of positions(source, size)) {
          const patch = lrPatchFromHr(source, x, y, size, scale, sigma);
          expect(maxDiff(patch, precomputedPatch(reference, x, y, size)), `sigma ${sigma} at ${x},${y}`).toBeLessThan(1e-6);
          expect(maxDiff(patch, precomputedPatch(source, x, y, size)), 'blur changes the patch').toBeGreaterThan(1 / 255);
        }
      }
    });
  }
});

describe('addGaussianNoise', () => {
  it('changes values but keeps them in [0, 1] on 8-bit levels', () => {
    const clean = Float32Array.from({ length: 3000 }, (_, i) => (i % 256) / 255);
    const noisy = addGaussianNoise(clean, 20, new Rng(5));
    let changed = 0;
    let sq = 0;
    expect(noisy.every((v) => v >= 0 && v <= 1 && isByteLevel(v))).toBe(true);
    for (let i = 0; i < noisy.length; i++) {
      const v = noisy[i]!;
      if (v !== clean[i]) changed++;
      // Away from the clipped ends the std should be the one asked for.
      if (clean[i]! > 0.3 && clean[i]! < 0.7) sq += ((v - clean[i]!) * 255) ** 2;
    }
    expect(changed).toBeGreaterThan(0.9 * noisy.length);
    const inner = clean.filter((v) => v > 0.3 && v < 0.7).length;
    expect(Math.sqrt(sq / inner)).toBeGreaterThan(18);
    expect(Math.sqrt(sq / inner)).toBeLessThan(22);
    expect(addGaussianNoise(clean, 0, new Rng(5))).toEqual(clean);
  });
});

describe('sr sample with degradations', () => {
  const source = makeSource(testImage(97, 83), 4);
  /** One sample per seed `seed + i`, so that sample i has the same crop whatever the degradation draws. */
  const draw = (degradation: SrDegradation | undefined, seed: number, count = 6): { pairs: Pair[]; states: number[][] } => {
    const rngs = Array.from({ length: count }, (_, i) => new Rng(seed + i));
    const pairs = rngs.map((rng) => srTask.sample(source, options(4, degradation), rng));
    return { pairs, states: rngs.map((rng) => rng.state) };
  };
  const all: SrDegradation = { blur: 3, noise: 15, jpeg: 30 };

  it('without degradations draws exactly as before (same pairs, same rng state)', () => {
    const before = draw(undefined, 11);
    const off = draw({ blur: 0, noise: 0, jpeg: null }, 11);
    expect(off.pairs).toEqual(before.pairs);
    expect(off.states).toEqual(before.states);
  });

  it('is deterministic for a seed, and different for another', () => {
    const a = draw(all, 11);
    const b = draw(all, 11);
    expect(a.pairs).toEqual(b.pairs);
    expect(a.states).toEqual(b.states);
    expect(draw(all, 111).pairs[0]!.input).not.toEqual(a.pairs[0]!.input);
  });

  it('degrades only the input, keeping the crop, augmentation and 8-bit [0, 1] values', () => {
    const clean = draw(undefined, 11).pairs;
    for (const degradation of [{ blur: 3, noise: 0, jpeg: null }, { blur: 0, noise: 15, jpeg: null }, { blur: 0, noise: 0, jpeg: 20 }, all]) {
      const degraded = draw(degradation, 11).pairs;
      for (const [i, pair] of degraded.entries()) {
        const reference = clean[i]!;
        expect(pair.target).toEqual(reference.target);
        expect(pair.inputSize).toEqual(reference.inputSize);
        expect(pair.input).toHaveLength(reference.input.length);
        expect(pair.input.every((v) => v >= 0 && v <= 1 && isByteLevel(v))).toBe(true);
      }
      // Random strengths can be near zero for one sample, not for all six.
      expect(degraded.some((pair, i) => maxDiff(pair.input, clean[i]!.input) > 2 / 255), JSON.stringify(degradation)).toBe(true);
    }
  });

  it('leaves validation pairs undegraded', () => {
    expect(srTask.validationPair(source, options(4, all))).toEqual(srTask.validationPair(source, options(4)));
  });
});

describe('sr area downscaling (--downscale area)', () => {
  it('makes each LR pixel the 8-bit mean of its scale x scale HR block, with or without blur margins', () => {
    const image = testImage(53, 47);
    for (const scale of [2, 4]) {
      const source = makeSource(image, scale);
      for (const [x, y] of positions(source, 6)) {
        const patch = lrPatchFromHr(source, x, y, 6, scale, 0, 'area');
        let worst = 0;
        for (let row = 0; row < 6; row++) {
          for (let col = 0; col < 6; col++) {
            for (let c = 0; c < 3; c++) {
              let sum = 0;
              for (let dy = 0; dy < scale; dy++) {
                for (let dx = 0; dx < scale; dx++) sum += image.data[(((y + row) * scale + dy) * image.width + (x + col) * scale + dx) * 3 + c]!;
              }
              // A correct 8-bit rounding of the exact mean (a tie may round either way in float32).
              const level = patch[(row * 6 + col) * 3 + c]! * 255;
              worst = Math.max(worst, Math.abs(level - Math.round(level)), Math.abs(level - sum / (scale * scale)) - 0.5);
            }
          }
        }
        expect(worst, `x${scale} at ${x},${y}`).toBeLessThan(1e-3);
      }
    }
  });

  it('is used for training inputs only, and draws nothing from the rng', () => {
    const source = makeSource(testImage(64, 64), 2);
    const area = options(2, { blur: 0, noise: 0, jpeg: null, downscale: 'area' });
    const a = new Rng(5);
    const b = new Rng(5);
    const degraded = srTask.sample(source, area, a);
    const plain = srTask.sample(source, options(2), b);
    expect(a.state).toEqual(b.state);
    expect(degraded.target).toEqual(plain.target);
    expect(maxDiff(degraded.input, plain.input)).toBeGreaterThan(0);
    expect(srTask.validationPair(source, area).input).toEqual(srTask.validationPair(source, options(2)).input);
  });
});

describe('--degrade-* flags', () => {
  const base = { task: 'sr', data: '/tmp/photos' };

  it('are validated by zod', () => {
    for (const bad of [{ degradeBlur: '5.5' }, { degradeBlur: '-1' }, { degradeNoise: '51' }, { degradeJpeg: '9' }, { degradeJpeg: '96' }, { degradeJpeg: '50.5' }, { degradeNoise: 'x' }]) {
      expect(() => trainFlagsSchema.parse({ ...base, ...bad }), JSON.stringify(bad)).toThrow(ZodError);
    }
    const flags = trainFlagsSchema.parse({ ...base, degradeBlur: '2.5', degradeNoise: '10', degradeJpeg: '40' });
    expect(resolveConfig(flags).degradation).toEqual({ blur: 2.5, noise: 10, jpeg: 40, downscale: 'bicubic' });
    expect(() => trainFlagsSchema.parse({ ...base, downscale: 'lanczos' })).toThrow(ZodError);
  });

  it('default to none, and are refused for other tasks', () => {
    expect(resolveConfig(trainFlagsSchema.parse(base)).degradation).toEqual({ blur: 0, noise: 0, jpeg: null, downscale: 'bicubic' });
    expect(() => resolveConfig(trainFlagsSchema.parse({ ...base, task: 'colorize', downscale: 'area' }))).toThrow(/--downscale: only for --task sr/);
    expect(() => resolveConfig(trainFlagsSchema.parse({ ...base, task: 'colorize', degradeBlur: '1' }))).toThrow(/--degrade-blur.*only for --task sr/);
    expect(() => resolveConfig(trainFlagsSchema.parse({ ...base, task: 'paired', degradeJpeg: '50', degradeNoise: '0' }))).toThrow(/--degrade-noise, --degrade-jpeg/);
  });

  it('an older config.json without degradation still parses, as none', () => {
    const config: Record<string, unknown> = { ...resolveConfig(trainFlagsSchema.parse(base)) };
    delete config.degradation;
    expect(trainConfigSchema.parse(config).degradation).toEqual({ blur: 0, noise: 0, jpeg: null, downscale: 'bicubic' });
  });
});

describe('--pixel-loss', () => {
  const base = { task: 'sr', data: '/tmp/photos' };

  it('is l1, l2 or l1-luma (RGB outputs only), default l1, and older configs parse as l1', () => {
    expect(resolveConfig(trainFlagsSchema.parse({ ...base, pixelLoss: 'l2' })).gan.pixelLoss).toBe('l2');
    expect(resolveConfig(trainFlagsSchema.parse({ ...base, pixelLoss: 'l1-luma' })).gan.pixelLoss).toBe('l1-luma');
    expect(() => resolveConfig(trainFlagsSchema.parse({ task: 'colorize', data: '/tmp/photos', pixelLoss: 'l1-luma' }))).toThrow(/RGB outputs; colorize predicts 2 channels/);
    const plain = resolveConfig(trainFlagsSchema.parse(base));
    expect(plain.gan.pixelLoss).toBe('l1');
    expect(() => trainFlagsSchema.parse({ ...base, pixelLoss: 'mse' })).toThrow(ZodError);
    const old = { ...plain, gan: { mode: plain.gan.mode, lambdaL1: plain.gan.lambdaL1, lambdaGan: plain.gan.lambdaGan, gradientPenalty: plain.gan.gradientPenalty } };
    expect(trainConfigSchema.parse(old).gan.pixelLoss).toBe('l1');
  });
});

describe('--hr-scales (extra downscaled copies of the training photos)', () => {
  const base = { task: 'sr', data: '/tmp/photos' };

  it('is a list of factors in (0, 1), for sr only, default none', () => {
    expect(resolveConfig(trainFlagsSchema.parse({ ...base, hrScales: '0.8, 0.6' })).hrScales).toEqual([0.8, 0.6]);
    expect(resolveConfig(trainFlagsSchema.parse(base)).hrScales).toEqual([]);
    for (const bad of ['1', '0', '0.5,x', '-0.5', '']) expect(() => trainFlagsSchema.parse({ ...base, hrScales: bad }), bad).toThrow(ZodError);
    expect(() => resolveConfig(trainFlagsSchema.parse({ ...base, task: 'colorize', hrScales: '0.5' }))).toThrow(/only for --task sr/);
    const old: Record<string, unknown> = { ...resolveConfig(trainFlagsSchema.parse(base)) };
    delete old.hrScales;
    expect(trainConfigSchema.parse(old).hrScales).toEqual([]);
  });

  it('--hr-originals false drops the full-size photos, needs --hr-scales, and older configs keep them', () => {
    expect(resolveConfig(trainFlagsSchema.parse({ ...base, hrScales: '0.6', hrOriginals: 'false' })).hrOriginals).toBe(false);
    expect(resolveConfig(trainFlagsSchema.parse({ ...base, hrScales: '0.6' })).hrOriginals).toBe(true);
    expect(() => trainFlagsSchema.parse({ ...base, hrOriginals: 'no' })).toThrow(/true or false/);
    expect(() => resolveConfig(trainFlagsSchema.parse({ ...base, hrOriginals: 'false' }))).toThrow(/give --hr-scales too/);
    expect(() => resolveConfig(trainFlagsSchema.parse({ ...base, task: 'colorize', hrOriginals: 'true' }))).toThrow(/only for --task sr/);
    const old: Record<string, unknown> = { ...resolveConfig(trainFlagsSchema.parse(base)) };
    delete old.hrOriginals;
    expect(trainConfigSchema.parse(old).hrOriginals).toBe(true);
  });

  it('downscaledImage is the 8-bit antialiased bicubic resize', () => {
    const image = testImage(50, 41);
    const small = downscaledImage(image, 0.6);
    const reference = imresize(fromBytes(image.data, 50, 41, 3), { scale: 0.6, uint8: true });
    expect([small.width, small.height]).toEqual([30, 25]);
    expect(Array.from(small.data)).toEqual(Array.from(reference.data, (v) => Math.round(v * 255)));
  });

  it('adds copies of training photos only, skipping those smaller than the crop; validation is unchanged', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'hr-scales-'));
    try {
      for (let i = 0; i < 10; i++) {
        const img = testImage(64 + 8 * i, 60, i + 1);
        await sharp(Buffer.from(img.data), { raw: { width: img.width, height: 60, channels: 3 } }).png().toFile(path.join(dir, `p${i}.png`));
      }
      const hooks = { log: () => {} };
      const opts = (hrScales?: number[]) => ({ ...options(2), cropSize: 48, valFraction: 0.2, ...(hrScales ? { hrScales } : {}) });
      const plain = await srTask.load(dir, opts(), new Rng(5), hooks);
      const more = await srTask.load(dir, opts([0.9, 0.5]), new Rng(5), hooks);
      expect(more.val.map((s) => s.hr.name)).toEqual(plain.val.map((s) => s.hr.name));
      expect(more.train.slice(0, plain.train.length).map((s) => s.hr.name)).toEqual(plain.train.map((s) => s.hr.name));
      // 0.9 keeps every training photo (>= 54 px tall); 0.5 makes them 30 px tall, below the 48 px crop.
      const extra = more.train.slice(plain.train.length);
      expect(extra.map((s) => s.hr.name)).toEqual(plain.train.map((s) => `${s.hr.name}@0.9`));
      expect(extra.every((s) => s.hr.height === 54)).toBe(true);
      expect(more.description).toMatch(/8 extra training images at 0.9, 0.5/);
      // Copies only: the same copies, no full-size photo, validation still the full-size held-out photos.
      const only = await srTask.load(dir, { ...opts([0.9, 0.5]), hrOriginals: false }, new Rng(5), hooks);
      expect(only.train.map((s) => s.hr.name)).toEqual(extra.map((s) => s.hr.name));
      expect(only.val.map((s) => s.hr.name)).toEqual(plain.val.map((s) => s.hr.name));
      expect(only.description).toMatch(/trained on 8 copies at 0.9, 0.5 of full size only/);
      await expect(srTask.load(dir, { ...opts([0.5]), hrOriginals: false }, new Rng(5), hooks)).rejects.toThrow(/No training image is left/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
