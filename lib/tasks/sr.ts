/**
 * Super-resolution x2 / x4: LR made by MATLAB-style bicubic downscaling with antialiasing (the
 * degradation of the standard benchmarks), computed once per image; training pairs are aligned
 * LR/HR patches with the same random flip and rotation. Encoding: RGB in [0, 1].
 */
import { loadImageFolder, splitHoldOut, augmentPatch, cropToFloat, type RgbImage } from '@/lib/data/images';
import { imresize } from '@/lib/eval/bicubic';
import { crop, fromBytes } from '@/lib/eval/image';
import { enlargeNearest, psnrBytes, unitToBytes } from './common';
import type { Pair, TaskDefinition, TaskOptions } from './types';

export interface SrSource {
  hr: RgbImage;
  /** The whole image bicubic-downscaled by the scale, float RGB [0, 1]. */
  lr: Float32Array;
  lrWidth: number;
  lrHeight: number;
}

function makeSource(image: RgbImage, scale: number): SrSource {
  // Top-left crop to a multiple of the scale, as the benchmark protocol does.
  const aligned = crop(fromBytes(image.data, image.width, image.height, 3), Math.floor(image.width / scale) * scale, Math.floor(image.height / scale) * scale);
  const lr = imresize(aligned, { scale: 1 / scale, uint8: true });
  return { hr: image, lr: lr.data, lrWidth: lr.width, lrHeight: lr.height };
}

function pairAt(source: SrSource, x: number, y: number, lrSize: number, scale: number): Pair {
  const input = new Float32Array(lrSize * lrSize * 3);
  for (let row = 0; row < lrSize; row++) {
    const src = ((y + row) * source.lrWidth + x) * 3;
    input.set(source.lr.subarray(src, src + lrSize * 3), row * lrSize * 3);
  }
  const hrSize = lrSize * scale;
  const target = cropToFloat(source.hr, x * scale, y * scale, hrSize, hrSize);
  return { input, target, inputSize: { width: lrSize, height: lrSize }, targetSize: { width: hrSize, height: hrSize } };
}

export const srTask: TaskDefinition<SrSource> = {
  name: 'sr',
  summary: 'low-resolution photo -> x2 or x4 larger (bicubic degradation, RGB [0, 1])',
  defaults: { scale: 4, cropSize: 128, features: 32, blocks: 4, gan: 'none', batchSize: 16, lr: 5e-4, beta1: 0.9 },
  generator: (options, size) => ({
    kind: 'srnet',
    scale: options.scale as 2 | 4,
    channels: 3,
    features: Number(size.features ?? 32),
    blocks: Number(size.blocks ?? 4),
  }),
  discriminatorChannels: () => 6,
  async load(dir, options, rng, hooks) {
    const images = await loadImageFolder(dir, {
      minSide: options.cropSize,
      onSkip: (file, reason) => hooks.log(`skipped ${file}: ${reason}`),
    });
    const sources = images.map((img) => makeSource(img, options.scale));
    const { train, val } = splitHoldOut(sources, options.valFraction, rng);
    return { train, val, description: `${images.length} images from ${dir}`, skipped: 0 };
  },
  sample(source, options: TaskOptions, rng) {
    const lrSize = Math.floor(options.cropSize / options.scale);
    const x = rng.int(source.lrWidth - lrSize + 1);
    const y = rng.int(source.lrHeight - lrSize + 1);
    const pair = pairAt(source, x, y, lrSize, options.scale);
    const flip = rng.chance(0.5);
    const rot = rng.int(4);
    const hrSize = lrSize * options.scale;
    return {
      ...pair,
      input: augmentPatch(pair.input, lrSize, lrSize, 3, flip, rot),
      target: augmentPatch(pair.target, hrSize, hrSize, 3, flip, rot),
    };
  },
  validationPair(source, options) {
    const lrSize = Math.min(source.lrWidth, source.lrHeight, Math.floor(256 / options.scale));
    const x = Math.floor((source.lrWidth - lrSize) / 2);
    const y = Math.floor((source.lrHeight - lrSize) / 2);
    return pairAt(source, x, y, lrSize, options.scale);
  },
  toRgb(which, data, pair) {
    const bytes = unitToBytes(data);
    if (which !== 'input') return bytes;
    return enlargeNearest(bytes, pair.inputSize.width, pair.inputSize.height, 3, pair.targetSize.width / pair.inputSize.width);
  },
  metrics(output, pair) {
    return { psnr: psnrBytes(unitToBytes(output), unitToBytes(pair.target)) };
  },
  exportInfo: (options) => ({
    task: 'sr',
    scale: options.scale,
    inputChannels: 3,
    outputChannels: 3,
    inputEncoding: 'rgb-unit',
    outputEncoding: 'rgb-unit',
    tile: { size: 128, padding: 16, multipleOf: 1 },
  }),
};
